// Forms the GOV.UK way: an error summary at the top that links to each field, and the
// message next to the field. Messages come from the API's {"error": {"field", "message"}};
// the form keeps what the person typed. A form whose session ended is kept in
// sessionStorage and put back after signing in again.
import { ErrorSummary } from '../vendor/govuk-frontend/govuk-frontend.min.js';
import { html, qs, qsa, render } from './dom.js';

const STASH = 'signpost:form:';

// The form group an API field belongs to: data-field equal to it, or the longest
// data-field that is a prefix of it ("audience" for "audience.tags.any").
function groupFor(form, field) {
  let best = null;
  for (const g of qsa('[data-field]', form)) {
    const f = g.dataset.field;
    if (field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`)) {
      if (!best || f.length > best.dataset.field.length) best = g;
    }
  }
  return best;
}

function controlOf(group) {
  return qs('input:not([type=hidden]), textarea, select', group);
}

function labelText(group) {
  const label = qs('.govuk-label, .govuk-fieldset__legend', group);
  return label ? label.textContent.trim() : '';
}

// The message to show: the group's own wording for a missing value, or the API's.
function messageFor(group, error) {
  if (group && error.code === 'required' && group.dataset.requiredMessage) {
    return group.dataset.requiredMessage;
  }
  if (group && error.code === 'required') {
    const label = labelText(group).toLowerCase();
    const choice = qs('input[type=checkbox], input[type=radio]', group);
    return label ? `${choice ? 'Select' : 'Enter'} ${label}` : error.message;
  }
  return error.message.charAt(0).toUpperCase() + error.message.slice(1);
}

export function clearErrors(form) {
  for (const summary of qsa('#page .govuk-error-summary')) summary.remove();
  for (const g of qsa('.govuk-form-group--error', form)) {
    g.classList.remove('govuk-form-group--error');
    for (const m of qsa(':scope > .govuk-error-message, :scope .govuk-error-message[data-added]', g)) m.remove();
    for (const c of qsa('.govuk-input--error, .govuk-textarea--error, .govuk-select--error, .govuk-file-upload--error', g)) {
      c.classList.remove('govuk-input--error', 'govuk-textarea--error', 'govuk-select--error', 'govuk-file-upload--error');
      const ids = (c.getAttribute('aria-describedby') || '').split(' ').filter((id) => !id.endsWith('-error'));
      if (ids.length) c.setAttribute('aria-describedby', ids.join(' '));
      else c.removeAttribute('aria-describedby');
    }
  }
}

function markField(group, message) {
  const control = controlOf(group);
  const id = `${(control && control.id) || group.dataset.field.replace(/[^a-z0-9_-]/gi, '-')}-error`;
  group.classList.add('govuk-form-group--error');
  const p = document.createElement('p');
  p.className = 'govuk-error-message';
  p.id = id;
  p.dataset.added = '1';
  render(p, html`<span class="govuk-visually-hidden">Error:</span> ${message}`);
  const anchor = qs(':scope > .govuk-hint, :scope > .govuk-label, :scope > h2, :scope > .govuk-label-wrapper', group);
  const fieldset = qs(':scope > fieldset', group);
  if (fieldset) {
    const legend = qs('.govuk-fieldset__legend', fieldset);
    const hint = qs(':scope > .govuk-hint', fieldset);
    (hint || legend).after(p);
    fieldset.setAttribute('aria-describedby', [fieldset.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
  } else if (anchor) {
    anchor.after(p);
  } else {
    group.prepend(p);
  }
  if (control && !fieldset) {
    const kind = control.tagName === 'TEXTAREA' ? 'textarea' : control.tagName === 'SELECT' ? 'select' : control.type === 'file' ? 'file-upload' : 'input';
    control.classList.add(`govuk-${kind}--error`);
    control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
  }
  return control ? control.id : null;
}

// GOV.UK puts the summary at the top of the page, above the heading (and its caption);
// a heading inside the form (a question page) puts it above the form.
function summaryPlace(form) {
  const h1 = qs('#page h1');
  if (!h1 || form.contains(h1)) return form;
  const caption = h1.previousElementSibling;
  return caption && caption.classList.contains('govuk-caption-l') ? caption : h1;
}

// Shows errors ([{field, code, message}] or one ApiError) on form, with a summary above it.
export function showErrors(form, errors) {
  const list = (Array.isArray(errors) ? errors : [errors]).map((e) => ({
    field: e.field, code: e.code, message: e.message,
  }));
  clearErrors(form);
  const items = list.map((e) => {
    const group = e.field ? groupFor(form, e.field) : null;
    const message = messageFor(group, e);
    const target = group ? markField(group, message) : null;
    return { message, target };
  });
  const summary = document.createElement('div');
  summary.className = 'govuk-error-summary';
  summary.dataset.module = 'govuk-error-summary';
  render(summary, html`<div role="alert">
    <h2 class="govuk-error-summary__title">There is a problem</h2>
    <div class="govuk-error-summary__body">
      <ul class="govuk-list govuk-error-summary__list">
        ${items.map((i) => html`<li>${i.target ? html`<a href="#${i.target}">${i.message}</a>` : i.message}</li>`)}
      </ul>
    </div></div>`);
  summaryPlace(form).before(summary);
  new ErrorSummary(summary); // moves focus to the summary
}

// Every named control's value: checkboxes as arrays of checked values.
export function formValues(form) {
  const out = {};
  for (const el of qsa('input[name], textarea[name], select[name]', form)) {
    if (el.type === 'checkbox') {
      out[el.name] = out[el.name] || [];
      if (el.checked) out[el.name].push(el.value);
    } else if (el.type === 'radio') {
      if (el.checked) out[el.name] = el.value;
      else if (!(el.name in out)) out[el.name] = '';
    } else if (el.type !== 'file') {
      out[el.name] = el.value;
    }
  }
  return out;
}

function setValues(form, values) {
  for (const el of qsa('input[name], textarea[name], select[name]', form)) {
    if (!(el.name in values) || el.type === 'file') continue;
    const v = values[el.name];
    if (el.type === 'checkbox') el.checked = Array.isArray(v) && v.includes(el.value);
    else if (el.type === 'radio') el.checked = v === el.value;
    else el.value = v;
  }
}

// Keeps the forms of the page at path, to put back after signing in again.
export function stashForms(path, root) {
  const forms = qsa('form[data-keep]', root).map((f) => [f.dataset.keep, formValues(f)]);
  if (forms.length) sessionStorage.setItem(STASH + path, JSON.stringify(forms));
}

// Puts back forms kept for path; true when there were some.
export function restoreForms(path, root) {
  const kept = sessionStorage.getItem(STASH + path);
  if (!kept) return false;
  sessionStorage.removeItem(STASH + path);
  for (const [name, values] of JSON.parse(kept)) {
    const form = qs(`form[data-keep="${CSS.escape(name)}"]`, root);
    if (form) {
      setValues(form, values);
      form.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }
  return true;
}

// GOV.UK Frontend components as template functions, so every page writes the same
// accessible markup: labels tied to their controls, hints in aria-describedby, fieldsets
// with legends for groups of choices.
import { html } from './dom.js';

function describedBy(id, hint) {
  return hint ? `${id}-hint` : null;
}

function hintOf(id, hint) {
  return hint ? html`<div id="${id}-hint" class="govuk-hint">${hint}</div>` : '';
}

// field: the API field name its errors name (data-field), default the id.
export function textInput({ id, label, hint, value = '', type = 'text', field = id, width = '',
  autocomplete = '', spellcheck = null, inputmode = '', required = '', extra = '' }) {
  const desc = describedBy(id, hint);
  return html`<div class="govuk-form-group" data-field="${field}" ${required ? html`data-required-message="${required}"` : ''}>
    <label class="govuk-label" for="${id}">${label}</label>
    ${hintOf(id, hint)}
    <input class="govuk-input ${width ? `govuk-input--width-${width}` : ''}" id="${id}" name="${id}"
      type="${type}" value="${value}" ${desc ? html`aria-describedby="${desc}"` : ''}
      ${autocomplete ? html`autocomplete="${autocomplete}"` : ''}
      ${spellcheck === null ? '' : html`spellcheck="${spellcheck ? 'true' : 'false'}"`}
      ${inputmode ? html`inputmode="${inputmode}"` : ''} ${extra}>
  </div>`;
}

export function textarea({ id, label, hint, value = '', rows = 5, field = id, required = '',
  characterCount = 0 }) {
  const desc = describedBy(id, hint);
  const area = html`<textarea class="govuk-textarea ${characterCount ? 'govuk-js-character-count' : ''}"
      id="${id}" name="${id}" rows="${rows}" ${desc ? html`aria-describedby="${desc}"` : ''}>${value}</textarea>`;
  const group = (inner) => html`<div class="govuk-form-group" data-field="${field}"
      ${required ? html`data-required-message="${required}"` : ''}>
    <label class="govuk-label" for="${id}">${label}</label>
    ${hintOf(id, hint)}
    ${inner}
  </div>`;
  if (!characterCount) return group(area);
  return html`<div class="govuk-character-count" data-module="govuk-character-count"
      data-maxlength="${characterCount}">${group(html`${area}
    <div id="${id}-info" class="govuk-hint govuk-character-count__message">You can enter up to ${characterCount} characters</div>`)}</div>`;
}

// options: [{value, label, hint, checked}]
export function checkboxes({ id, legend, hint, options, field = id, small = true, legendSize = 's', required = '' }) {
  return html`<div class="govuk-form-group" data-field="${field}" ${required ? html`data-required-message="${required}"` : ''}>
    <fieldset class="govuk-fieldset" ${hint ? html`aria-describedby="${id}-hint"` : ''}>
      <legend class="govuk-fieldset__legend govuk-fieldset__legend--${legendSize}">${legend}</legend>
      ${hintOf(id, hint)}
      <div class="govuk-checkboxes ${small ? 'govuk-checkboxes--small' : ''}" data-module="govuk-checkboxes">
        ${options.map((o, i) => html`<div class="govuk-checkboxes__item">
          <input class="govuk-checkboxes__input" id="${id}-${i}" name="${id}" type="checkbox"
            value="${o.value}" ${o.checked ? 'checked' : ''} ${o.hint ? html`aria-describedby="${id}-${i}-hint"` : ''}>
          <label class="govuk-label govuk-checkboxes__label" for="${id}-${i}">${o.label}</label>
          ${o.hint ? html`<div id="${id}-${i}-hint" class="govuk-hint govuk-checkboxes__hint">${o.hint}</div>` : ''}
        </div>`)}
      </div>
    </fieldset>
  </div>`;
}

export function radios({ id, legend, hint, options, value = '', field = id, inline = false,
  small = false, legendSize = 's', legendTag = '', required = '' }) {
  const legendInner = legendTag === 'h1' ? html`<h1 class="govuk-fieldset__heading">${legend}</h1>` : legend;
  return html`<div class="govuk-form-group" data-field="${field}" ${required ? html`data-required-message="${required}"` : ''}>
    <fieldset class="govuk-fieldset" ${hint ? html`aria-describedby="${id}-hint"` : ''}>
      <legend class="govuk-fieldset__legend govuk-fieldset__legend--${legendSize}">${legendInner}</legend>
      ${hintOf(id, hint)}
      <div class="govuk-radios ${inline ? 'govuk-radios--inline' : ''} ${small ? 'govuk-radios--small' : ''}" data-module="govuk-radios">
        ${options.map((o, i) => html`<div class="govuk-radios__item">
          <input class="govuk-radios__input" id="${id}-${i}" name="${id}" type="radio" value="${o.value}"
            ${o.value === value ? 'checked' : ''} ${o.hint ? html`aria-describedby="${id}-${i}-hint"` : ''}>
          <label class="govuk-label govuk-radios__label" for="${id}-${i}">${o.label}</label>
          ${o.hint ? html`<div id="${id}-${i}-hint" class="govuk-hint govuk-radios__hint">${o.hint}</div>` : ''}
        </div>`)}
      </div>
    </fieldset>
  </div>`;
}

// options: [{value, label}]
export function select({ id, label, hint, options, value = '', field = id }) {
  return html`<div class="govuk-form-group" data-field="${field}">
    <label class="govuk-label" for="${id}">${label}</label>
    ${hintOf(id, hint)}
    <select class="govuk-select" id="${id}" name="${id}" ${hint ? html`aria-describedby="${id}-hint"` : ''}>
      ${options.map((o) => html`<option value="${o.value}" ${String(o.value) === String(value) ? 'selected' : ''}>${o.label}</option>`)}
    </select>
  </div>`;
}

export function button(text, { kind = '', type = 'submit', name = '', value = '', id = '' } = {}) {
  return html`<button type="${type}" class="govuk-button ${kind ? `govuk-button--${kind}` : ''}"
    data-module="govuk-button" ${name ? html`name="${name}" value="${value}"` : ''} ${id ? html`id="${id}"` : ''}>${text}</button>`;
}

export function linkButton(text, href, kind = '') {
  return html`<a href="${href}" role="button" draggable="false"
    class="govuk-button ${kind ? `govuk-button--${kind}` : ''}" data-module="govuk-button">${text}</a>`;
}

// rows: [[key, value, action?]] where action is {href, text, hidden}
export function summaryList(rows, { noBorder = false } = {}) {
  return html`<dl class="govuk-summary-list ${noBorder ? 'govuk-summary-list--no-border' : ''}">
    ${rows.filter(Boolean).map(([k, v, action]) => html`<div class="govuk-summary-list__row ${action ? '' : 'govuk-summary-list__row--no-actions'}">
      <dt class="govuk-summary-list__key">${k}</dt>
      <dd class="govuk-summary-list__value">${v === null || v === undefined || v === '' ? html`<span class="sp-muted">None</span>` : v}</dd>
      ${action ? html`<dd class="govuk-summary-list__actions"><a class="govuk-link" href="${action.href}">${action.text}<span class="govuk-visually-hidden"> ${action.hidden}</span></a></dd>` : ''}
    </div>`)}
  </dl>`;
}

// head and rows hold cells: a value (text or html``), or {value, numeric, header}.
function tableCell(c, inHead) {
  const o = c !== null && typeof c === 'object' && c.constructor === Object ? c : { value: c };
  const num = o.numeric ? (inHead || o.header ? ' govuk-table__header--numeric' : ' govuk-table__cell--numeric') : '';
  if (inHead) return html`<th scope="col" class="govuk-table__header${num}">${o.value}</th>`;
  if (o.header) return html`<th scope="row" class="govuk-table__header${num}">${o.value}</th>`;
  return html`<td class="govuk-table__cell${num}">${o.value}</td>`;
}

// A table too wide for the screen scrolls sideways inside its box (see scrollables).
export function table({ caption, head, rows, captionSize = 'm', id = '' }) {
  return html`<div class="sp-table"><table class="govuk-table" ${id ? html`id="${id}"` : ''}>
    ${caption ? html`<caption class="govuk-table__caption govuk-table__caption--${captionSize}">${caption}</caption>` : ''}
    <thead class="govuk-table__head"><tr class="govuk-table__row">${head.map((h) => tableCell(h, true))}</tr></thead>
    <tbody class="govuk-table__body">${rows.map((r) => html`<tr class="govuk-table__row">${r.map((c) => tableCell(c, false))}</tr>`)}</tbody>
  </table></div>`;
}

// A box that scrolls must be reachable by keyboard and named; one that does not scroll
// should not be a tab stop. This keeps each table's box right as the window changes.
const boxes = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    const scrolls = target.scrollWidth > target.clientWidth + 1;
    if (scrolls && !target.hasAttribute('tabindex')) {
      const caption = target.querySelector('caption');
      target.setAttribute('tabindex', '0');
      target.setAttribute('role', 'region');
      target.setAttribute('aria-label', `${caption ? caption.textContent.trim() : 'Table'} (scrolls sideways)`);
    } else if (!scrolls && target.hasAttribute('tabindex')) {
      for (const a of ['tabindex', 'role', 'aria-label']) target.removeAttribute(a);
    }
  }
});

export function scrollables(root) {
  for (const box of root.querySelectorAll('.sp-table')) boxes.observe(box);
}

const TAG_COLOURS = {
  draft: 'grey', scheduled: 'blue', running: 'green', paused: 'yellow', completed: 'purple',
  cancelled: 'red', new: 'blue', assigned: 'light-blue', accepted: 'turquoise',
  contacted: 'green', resolved: 'purple', closed_no_contact: 'grey',
};

export function tag(state, text = '') {
  const colour = TAG_COLOURS[state] || 'grey';
  return html`<strong class="govuk-tag govuk-tag--${colour}">${text || state.replace(/_/g, ' ')}</strong>`;
}

export function banner(message, { success = false, title = '' } = {}) {
  return html`<div class="govuk-notification-banner ${success ? 'govuk-notification-banner--success' : ''}"
      role="${success ? 'alert' : 'region'}" aria-labelledby="banner-title" data-module="govuk-notification-banner">
    <div class="govuk-notification-banner__header">
      <h2 class="govuk-notification-banner__title" id="banner-title">${title || (success ? 'Success' : 'Important')}</h2>
    </div>
    <div class="govuk-notification-banner__content">
      <p class="govuk-notification-banner__heading">${message}</p>
    </div>
  </div>`;
}

export function backLink(href, text = 'Back') {
  return html`<a href="${href}" class="govuk-back-link">${text}</a>`;
}

export function warning(text) {
  return html`<div class="govuk-warning-text">
    <span class="govuk-warning-text__icon" aria-hidden="true">!</span>
    <strong class="govuk-warning-text__text"><span class="govuk-visually-hidden">Warning</span>${text}</strong>
  </div>`;
}

// Previous/next links for lists paged with ?before=<id>.
export function pagination({ next = '', previous = '' }) {
  if (!next && !previous) return '';
  return html`<nav class="govuk-pagination govuk-pagination--block" aria-label="Pages">
    ${previous ? html`<div class="govuk-pagination__prev"><a class="govuk-link govuk-pagination__link" href="${previous}" rel="prev">
      <span class="govuk-pagination__link-title">Newer</span></a></div>` : ''}
    ${next ? html`<div class="govuk-pagination__next"><a class="govuk-link govuk-pagination__link" href="${next}" rel="next">
      <span class="govuk-pagination__link-title">Older</span></a></div>` : ''}
  </nav>`;
}

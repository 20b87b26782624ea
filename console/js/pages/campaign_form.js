// Creating or changing a draft campaign, with a preview beside the form that follows
// what the officer types: who would get a text and who is left out, the encoding and why,
// the number of parts, the cost, and the longest text exactly as a tenant will get it.
import { get, post, put } from '../api.js';
import {
  backLink, banner, button, checkboxes, radios, select, summaryList, textarea, textInput,
} from '../components.js';
import { debounce, html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { dateTime, number, plural } from '../format.js';

const DAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'],
  ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];

const LANGUAGES = {
  cy: 'Welsh', pl: 'Polish', ro: 'Romanian', lt: 'Lithuanian', ne: 'Nepali', pa: 'Punjabi',
  ur: 'Urdu', tr: 'Turkish', ku: 'Kurdish', ar: 'Arabic', bn: 'Bengali', so: 'Somali',
  pt: 'Portuguese', es: 'Spanish', fr: 'French', bg: 'Bulgarian', lv: 'Latvian', gu: 'Gujarati',
};

function languageName(code) {
  return LANGUAGES[code] ? `${LANGUAGES[code]} (${code})` : code;
}

const facetOptions = (list, chosen) => list.map((f) => ({
  value: f.name, label: f.name, hint: plural(f.tenants, 'tenant'),
  checked: chosen.some((c) => c.toLowerCase() === f.name.toLowerCase()),
}));

function audienceFields(facets, a) {
  const tagsIn = a.tags_all && a.tags_all.length ? a.tags_all : a.tags_any || [];
  const none = facets.boroughs.length + facets.landlords.length + facets.tags.length === 0;
  return html`<div class="govuk-form-group" data-field="audience">
    <h2 class="govuk-heading-m">Who to text</h2>
    ${none ? html`<p class="govuk-body">There are no tenants yet. <a class="govuk-link" href="/console/tenants/upload">Upload a spreadsheet</a> first.</p>` : ''}
    ${checkboxes({ id: 'everyone', legend: 'Everyone', field: 'audience.all', options: [
      { value: 'yes', label: 'Every tenant', hint: 'Leaves out only the tags you exclude below.', checked: !!a.all }] })}
    ${facets.boroughs.length ? checkboxes({ id: 'boroughs', legend: 'Boroughs', field: 'audience.boroughs',
      hint: 'Tenants in any of these boroughs.', options: facetOptions(facets.boroughs, a.boroughs || []) }) : ''}
    ${facets.landlords.length ? checkboxes({ id: 'landlords', legend: 'Landlords', field: 'audience.landlords',
      hint: 'Tenants of any of these landlords.', options: facetOptions(facets.landlords, a.landlords || []) }) : ''}
    ${facets.tags.length ? html`
      ${checkboxes({ id: 'tags', legend: 'Tags to include', field: 'audience.tags', options: facetOptions(facets.tags, tagsIn) })}
      ${radios({ id: 'tags_mode', legend: 'Tenants with', small: true, inline: true, value: a.tags_all && a.tags_all.length ? 'all' : 'any',
        field: 'audience.tags_mode', options: [{ value: 'any', label: 'any of these tags' }, { value: 'all', label: 'all of these tags' }] })}
      ${checkboxes({ id: 'tags_none', legend: 'Tags to leave out', field: 'audience.tags.none', hint: 'Tenants with any of these tags get nothing.',
        options: facetOptions(facets.tags, a.tags_none || []) })}` : ''}
  </div>`;
}

function windowFields(w) {
  return html`<h2 class="govuk-heading-m">When texts may go out</h2>
    ${checkboxes({ id: 'days', legend: 'Send days', field: 'send_window.days', hint: 'Never on bank holidays in England and Wales.',
      options: DAYS.map(([value, label]) => ({ value, label, checked: w.days.includes(value) })) })}
    <div class="sp-times">
      ${textInput({ id: 'start', label: 'From', hint: 'UK time, such as 09:00', value: w.start, width: '5', field: 'send_window.start' })}
      ${textInput({ id: 'end', label: 'Until', hint: 'Such as 20:00', value: w.end, width: '5', field: 'send_window.end' })}
    </div>`;
}

function languageFields(facets, bodies) {
  const codes = [...new Set([...facets.languages.map((l) => l.name.toLowerCase()), ...Object.keys(bodies)])];
  return html`<details class="govuk-details" ${Object.keys(bodies).length ? 'open' : ''}>
    <summary class="govuk-details__summary"><span class="govuk-details__summary-text">Texts in other languages</span></summary>
    <div class="govuk-details__text" data-field="bodies">
      <p class="govuk-body">Tenants whose language has a text get it; everyone else gets the message above.</p>
      ${codes.map((code) => textarea({ id: `body_${code}`, label: `Message in ${languageName(code)}`, rows: 3,
        value: bodies[code] || '', field: `bodies.${code}` }))}
      ${textInput({ id: 'other_code', label: 'Another language code', hint: 'Two or three letters, such as “so” for Somali', width: '5', field: 'bodies' })}
      ${textarea({ id: 'other_body', label: 'Message in that language', rows: 3, field: 'bodies' })}
    </div>
  </details>`;
}

function formHtml(c, facets, providers) {
  const w = c.send_window || { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], start: '09:00', end: '20:00' };
  return html`<form novalidate id="campaign" data-keep="campaign">
    ${textInput({ id: 'name', label: 'Campaign name', hint: 'For you and other officers; tenants do not see it.', value: c.name || '',
      required: 'Enter a campaign name' })}
    ${textarea({ id: 'body', label: 'Message', rows: 6, value: c.body || '', required: 'Enter the message',
      hint: html`What tenants receive. {first_name} puts in each tenant's first name; {first_name|there} uses “there” for tenants without one. {borough} and {landlord} work the same way. Ask them to reply with a keyword such as SKILLS, and say how to stop: “Reply STOP to opt out”.` })}
    ${languageFields(facets, c.bodies || {})}
    ${audienceFields(facets, c.audience || {})}
    ${windowFields(w)}
    <h2 class="govuk-heading-m">How it is sent</h2>
    ${select({ id: 'provider', label: 'Provider', value: c.provider || '', options: [
      { value: '', label: 'The default provider' }, ...providers.map((p) => ({ value: p.name, label: p.name }))] })}
    ${radios({ id: 'purpose', legend: 'Purpose', value: c.purpose || 'service', options: [
      { value: 'service', label: 'Service', hint: 'Help or information tenants need about their home or support.' },
      { value: 'marketing', label: 'Marketing', hint: 'Only tenants who consented to marketing texts get it.' }] })}
    <div class="govuk-button-group">
      ${button('Save draft', { name: 'then', value: 'save' })}
      ${button('Send a test', { kind: 'secondary', name: 'then', value: 'test' })}
    </div>
  </form>`;
}

// The API's campaign from the form's values.
function campaignBody(v) {
  const bodies = {};
  for (const [k, text] of Object.entries(v)) {
    if (k.startsWith('body_') && text.trim()) bodies[k.slice(5)] = text;
  }
  if (v.other_code && v.other_code.trim()) bodies[v.other_code.trim().toLowerCase()] = v.other_body || '';
  const audience = {};
  if ((v.everyone || []).length) audience.all = true;
  if ((v.boroughs || []).length) audience.boroughs = v.boroughs;
  if ((v.landlords || []).length) audience.landlords = v.landlords;
  const tags = {};
  if ((v.tags || []).length) tags[v.tags_mode === 'all' ? 'all' : 'any'] = v.tags;
  if ((v.tags_none || []).length) tags.none = v.tags_none;
  if (Object.keys(tags).length) audience.tags = tags;
  const out = {
    name: v.name, body: v.body, audience,
    send_window: { days: v.days || [], start: v.start, end: v.end }, purpose: v.purpose || 'service',
  };
  if (Object.keys(bodies).length) out.bodies = bodies;
  if (v.provider) out.provider = v.provider;
  return out;
}

function unicodeText(p) {
  if (!p.encodings.ucs2) return 'Plain text (GSM-7) for every tenant: up to 160 characters a part.';
  const chars = (p.unicode_characters || []).map((u) => html`<li><span class="sp-char">${u.character}</span> ${u.codepoint},
    in ${plural(u.recipients, 'text')}</li>`);
  return html`${plural(p.encodings.ucs2, 'text')} ${p.encodings.ucs2 === 1 ? 'needs' : 'need'} Unicode (up to 70 characters a part)${chars.length ? html` because of:
    <ul class="govuk-list govuk-list--bullet">${chars}</ul>` : '.'}`;
}

function previewHtml(p) {
  const ex = p.excluded || {};
  const left = [ex.opted_out && `${number(ex.opted_out)} opted out`, ex.suppressed && `${number(ex.suppressed)} suppressed after failed texts`,
    ex.no_consent && `${number(ex.no_consent)} without consent to marketing`].filter(Boolean);
  const seg = p.segments || {};
  return html`${summaryList([
    ['Tenants who get a text', number(p.recipients)],
    ['Left out', left.length ? html`${left.map((l, i) => html`${i ? html`<br>` : ''}${l}`)}` : 'Nobody'],
    ['Encoding', unicodeText(p)],
    ['Parts per text', p.recipients ? `${number(seg.min)} to ${number(seg.max)} (${plural(seg.total, 'part')} in all)` : ''],
    ['Estimated cost', p.estimated_cost ? `£${p.estimated_cost.amount}` : ''],
    ['Expected to finish', p.expected_finish ? dateTime(p.expected_finish) : ''],
  ])}
  ${p.longest ? html`<h3 class="govuk-heading-s">The longest text, as the tenant will get it</h3>
    <p class="sp-sms" id="longest-text">${p.longest.text}</p>
    <p class="govuk-body-s">${plural(p.longest.characters, 'character')}, ${plural(p.longest.segments, 'part')}, ${p.longest.encoding === 'ucs2' ? 'Unicode' : 'plain text'}</p>` : ''}`;
}

function previewPanel() {
  // Focusable: on a short screen it scrolls, and keyboards must be able to scroll it.
  return html`<aside class="sp-preview" aria-labelledby="preview-title" tabindex="0">
    <h2 class="govuk-heading-m" id="preview-title">Preview</h2>
    <p class="govuk-body-s" id="preview-status" role="status">The preview shows here as you write.</p>
    <div id="preview-body"></div>
  </aside>`;
}

function wirePreview(ctx, form) {
  const status = qs('#preview-status', ctx.main);
  const target = qs('#preview-body', ctx.main);
  let asked = 0;
  const update = debounce(async () => {
    const mine = ++asked;
    status.textContent = 'Updating the preview…';
    try {
      const p = await post('/v1/campaigns/preview', campaignBody(formValues(form)));
      if (mine !== asked) return;
      render(target, previewHtml(p));
      status.textContent = `Preview updated: ${plural(p.recipients, 'tenant')}${p.encodings && p.encodings.ucs2 ? `, ${number(p.encodings.ucs2)} in Unicode` : ''}.`;
    } catch (error) {
      if (mine !== asked || error.handled) return;
      render(target, '');
      status.textContent = error.status === 422 ? `Not yet: ${error.message}` : error.message;
    }
  }, 400);
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  update();
}

async function save(ctx, form, existing, then) {
  const body = campaignBody(formValues(form));
  try {
    const c = existing ? await put(`/v1/campaigns/${existing.id}`, body) : await post('/v1/campaigns', body);
    if (then === 'test') {
      const r = await post(`/v1/campaigns/${c.id}/test`, {});
      await ctx.navigate(`/console/campaigns/${c.id}/edit`, { replace: true,
        flash: { message: `The draft is saved and a test text went to ${plural(r.queued, 'staff number')}.` } });
      return;
    }
    await ctx.navigate(`/console/campaigns/${c.id}`, { flash: { message: `${c.name} is saved as a draft.` } });
  } catch (error) {
    if (!error.handled) showErrors(form, error);
  }
}

async function page(ctx, existing) {
  const [facets, providers] = await Promise.all([get('/v1/tenants/facets'), get('/v1/providers')]);
  const c = existing || {};
  const title = existing ? `Change ${existing.name}` : 'Create campaign';
  render(ctx.main, html`${backLink(existing ? `/console/campaigns/${existing.id}` : '/console/campaigns')}
    <h1 class="govuk-heading-l">${title}</h1>
    ${existing && existing.state !== 'draft' ? banner('This campaign is no longer a draft, so it cannot be changed.') : ''}
    <div class="govuk-grid-row">
      <div class="govuk-grid-column-two-thirds">${formHtml(c, facets, providers.items || [])}</div>
      <div class="govuk-grid-column-one-third">${previewPanel()}</div>
    </div>`);
  const form = qs('#campaign', ctx.main);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    save(ctx, form, existing, e.submitter ? e.submitter.value : 'save');
  });
  wirePreview(ctx, form);
}

export function create(ctx) {
  return page(ctx, null);
}

export async function edit(ctx) {
  const c = await get(`/v1/campaigns/${encodeURIComponent(ctx.params.id)}`);
  return page(ctx, c);
}

// Tenants: search, a tenant's page (with opting out and erasing, each confirmed first),
// and uploading a spreadsheet.
import { del, get, post, query } from '../api.js';
import {
  backLink, button, linkButton, pagination, summaryList, table, tag, textInput, warning,
} from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { date, dateTime, number, phone, plural, words } from '../format.js';

const name = (t) => t.first_name || (t.erased_at ? 'Erased tenant' : `Tenant ${t.external_ref || t.id}`);

export async function search(ctx) {
  const q = ctx.query.get('q') || '';
  const before = ctx.query.get('before');
  const page = await get(`/v1/tenants${query({ q, before, limit: 50 })}`);
  const items = page.items;
  const last = items.length === 50 ? items[items.length - 1].id : null;
  const here = (extra) => `/console/tenants${query({ q, ...extra })}`;
  render(ctx.main, html`<h1 class="govuk-heading-l">Tenants</h1>
    ${linkButton('Upload a spreadsheet', '/console/tenants/upload', 'secondary')}
    <form novalidate id="search" class="sp-search" role="search" action="/console/tenants">
      ${textInput({ id: 'q', label: 'Search by name, reference or phone number', value: q, spellcheck: false })}
      ${button('Search', { kind: 'secondary' })}
    </form>
    ${items.length ? table({
      caption: q ? `Tenants matching “${q}”` : 'Tenants, newest first', captionSize: 's',
      head: ['Name', 'Reference', 'Phone', 'Borough', 'Landlord', 'Texts'],
      rows: items.map((t) => [
        html`<a class="govuk-link" href="/console/tenants/${t.id}">${name(t)}</a>`,
        t.external_ref || '', phone(t.phone), t.borough || '', t.landlord || '',
        t.opted_out ? tag('cancelled', 'Opted out') : tag('running', 'Can be texted'),
      ]),
    }) : html`<p class="govuk-body">${q ? 'No tenant matches that search.' : 'There are no tenants yet.'}</p>`}
    ${pagination({ next: last ? here({ before: last }) : '', previous: before ? here({}) : '' })}`);
  const form = qs('#search', ctx.main);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(`/console/tenants${query({ q: formValues(form).q.trim() })}`);
  });
}

function consentText(c) {
  if (!c) return 'Not recorded';
  return `${c.source}, ${date(c.at)}${c.wording ? `: “${c.wording}”` : ''}`;
}

function texts(items) {
  if (!items.length) return html`<h2 class="govuk-heading-m">Texts</h2><p class="govuk-body">No texts yet.</p>`;
  return table({
    caption: 'Texts, newest first', captionSize: 'm',
    head: ['When', 'Way', 'Text', 'State'],
    rows: items.map((m) => [
      dateTime(m.at), m.direction === 'in' ? 'Received' : 'Sent',
      html`${m.body || html`<span class="sp-muted">Not kept</span>`}${m.campaign_name ? html`<br><span class="govuk-body-s sp-muted">${m.direction === 'in' ? 'Reply to' : 'Campaign'}: ${m.campaign_name}</span>` : ''}`,
      m.direction === 'in' ? words(m.action || '') : words(m.state || ''),
    ]),
  });
}

function helpRequests(items) {
  if (!items.length) return html`<h2 class="govuk-heading-m">Help requests</h2><p class="govuk-body">No help requests.</p>`;
  return table({
    caption: 'Help requests', captionSize: 'm', head: ['Request', 'Help with', 'State', 'Made'],
    rows: items.map((h) => [html`<a class="govuk-link" href="/console/help-requests/${h.id}">Request ${h.id}</a>`,
      words(h.category), tag(h.state), date(h.created_at)]),
  });
}

export async function show(ctx) {
  const id = encodeURIComponent(ctx.params.id);
  const [t, sms, help] = await Promise.all([get(`/v1/tenants/${id}`), get(`/v1/tenants/${id}/texts?limit=100`),
    get(`/v1/help-requests?tenant_id=${id}&limit=50`)]);
  const conv = t.conversation;
  render(ctx.main, html`${backLink('/console/tenants', 'All tenants')}
    <span class="govuk-caption-l">Tenant</span>
    <h1 class="govuk-heading-l">${name(t)}</h1>
    ${t.erased_at ? warning(`Erased on ${date(t.erased_at)}: no personal details are kept.`) : ''}
    ${summaryList([
      ['Reference', t.external_ref], ['Phone', phone(t.phone)], ['Borough', t.borough], ['Landlord', t.landlord],
      ['Tags', (t.tags || []).join(', ')], ['Language', t.language],
      ['Texts', t.opted_out ? 'Opted out: gets no texts' : 'Can be texted'],
      ['Consent to marketing texts', consentText(t.consent)],
      t.suppressed_at ? ['Suppressed', `Since ${date(t.suppressed_at)}, after ${plural(t.perm_fail_streak, 'failed text')} in a row`] : null,
      ['Conversation', conv ? `Answering “${words(conv.step)}” in ${words(conv.flow)}, until ${dateTime(conv.expires_at)}` : 'None open'],
    ])}
    ${t.erased_at ? '' : html`<div class="govuk-button-group">
      ${linkButton('Refer for help', `/console/refer?tenant=${t.id}`, 'secondary')}
      ${t.opted_out ? '' : linkButton('Opt out', `/console/tenants/${t.id}/opt-out`, 'secondary')}
      ${linkButton('Erase', `/console/tenants/${t.id}/erase`, 'warning')}
    </div>`}
    ${helpRequests(help.items)}
    ${texts(sms.items)}`);
}

function confirmPage(ctx, t, { title, explain, action, done }) {
  render(ctx.main, html`${backLink(`/console/tenants/${t.id}`, 'Back to the tenant')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">${title}</h1>
    ${explain}
    <form novalidate id="confirm">
      <div class="govuk-button-group">
        ${button(action, { kind: 'warning' })}
        <a class="govuk-link" href="/console/tenants/${t.id}">No, go back</a>
      </div>
    </form></div></div>`);
  const form = qs('#confirm', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await done();
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

export async function optOut(ctx) {
  const t = await get(`/v1/tenants/${encodeURIComponent(ctx.params.id)}`);
  confirmPage(ctx, t, {
    title: `Opt ${name(t)} out of texts?`,
    explain: html`<p class="govuk-body">${phone(t.phone)} will get no more campaign texts, whatever a later spreadsheet says. The tenant can opt back in by texting START.</p>`,
    action: 'Yes, opt out',
    done: async () => {
      await post(`/v1/tenants/${t.id}/opt-out`, {});
      await ctx.navigate(`/console/tenants/${t.id}`, { replace: true, flash: { message: `${name(t)} is opted out.` } });
    },
  });
}

export async function erase(ctx) {
  const t = await get(`/v1/tenants/${encodeURIComponent(ctx.params.id)}`);
  confirmPage(ctx, t, {
    title: `Erase ${name(t)}?`,
    explain: html`<p class="govuk-body">Erasing removes this tenant's personal details for good:</p>
      <ul class="govuk-list govuk-list--bullet">
        <li>their name, phone number, reference, borough, landlord, tags, language and consent</li>
        <li>the words of texts sent to them and received from them</li>
        <li>texts waiting to be sent to them, which are cancelled</li>
      </ul>
      <p class="govuk-body">Campaign figures keep counting their texts, without the number or the words. If they opted out, their number stays on the opt-out list so it is never texted again.</p>
      ${warning('This cannot be undone.')}`,
    action: 'Yes, erase',
    done: async () => {
      await del(`/v1/tenants/${t.id}`);
      await ctx.navigate('/console/tenants', { replace: true, flash: { message: `${name(t)} is erased.` } });
    },
  });
}

const COLUMNS = [
  ['external_ref', 'Yes', 'Your housing system’s reference for the tenant'],
  ['phone', 'Yes', 'A UK mobile number, such as 07700 900123'],
  ['first_name', 'No', 'Used in texts, such as “Hi Sam”'],
  ['borough', 'No', 'Such as Thanet'],
  ['landlord', 'No', 'Such as Orbit'],
  ['tags', 'No', 'Words to choose tenants by, separated by ;'],
  ['language', 'No', 'A language code such as cy or pl'],
  ['consent_source, consent_at, consent_wording', 'No', 'Where and when the tenant agreed to marketing texts'],
];

function uploadForm() {
  return html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    ${backLink('/console/tenants', 'All tenants')}
    <h1 class="govuk-heading-l">Upload a spreadsheet</h1>
    <p class="govuk-body">Save the spreadsheet as CSV (in Excel: File, Save As, “CSV UTF-8”). Its first row names the columns, in any order:</p>
    ${table({ caption: 'Columns', captionSize: 's', head: ['Column', 'Needed', 'What goes in it'],
      rows: COLUMNS.map(([c, n, w]) => [html`<code>${c}</code>`, n, w]) })}
    <p class="govuk-body">Tenants already here (the same reference) are updated; a column left out leaves that detail as it was. Nobody who opted out is opted back in.</p>
    <form novalidate id="upload">
      <div class="govuk-form-group" data-field="file" data-required-message="Select a CSV file">
        <label class="govuk-label" for="file">Spreadsheet (CSV)</label>
        <input class="govuk-file-upload" id="file" name="file" type="file" accept=".csv,text/csv">
      </div>
      ${button('Upload')}
    </form>
  </div></div>`;
}

function uploadResult(r) {
  const shown = r.rejected || [];
  return html`<h1 class="govuk-heading-l">${r.rejected_count ? 'Upload finished: some rows were not used' : 'Upload finished'}</h1>
    ${summaryList([['Tenants added', number(r.created)], ['Tenants updated', number(r.updated)],
      ['Rows not used', number(r.rejected_count)]])}
    ${shown.length ? html`${table({ caption: 'Rows not used', captionSize: 'm', head: ['Line', 'Why'],
      rows: shown.map((x) => [{ value: number(x.line), header: true }, x.error]) })}
      ${r.rejected_count > shown.length ? html`<p class="govuk-body">The first ${number(shown.length)} are listed.</p>` : ''}
      <p class="govuk-body">Line 1 is the row of column names. Correct these rows and upload the file again: rows already added are updated, not added twice.</p>` : ''}
    <p class="govuk-body"><a class="govuk-link" href="/console/tenants/upload">Upload another spreadsheet</a> or
      <a class="govuk-link" href="/console/tenants">see the tenants</a>.</p>`;
}

export async function upload(ctx) {
  render(ctx.main, uploadForm());
  const form = qs('#upload', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = qs('#file', form).files[0];
    if (!file) {
      showErrors(form, { field: 'file', code: 'required', message: 'Select a CSV file' });
      return;
    }
    try {
      const r = await post('/v1/tenants/import', file, { headers: { 'Content-Type': 'text/csv' } });
      render(ctx.main, uploadResult(r));
      const h1 = qs('h1', ctx.main);
      h1.setAttribute('tabindex', '-1');
      h1.focus();
    } catch (error) {
      if (!error.handled) showErrors(form, { ...error, field: 'file', code: error.code, message: error.message });
    }
  });
}

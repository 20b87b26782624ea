// Outcomes: what the work achieved, for a board or a funder: people texted, replies,
// referrals, contacts, people helped and opt-outs, by month, borough, landlord, category
// or partner, as a chart, a table and a CSV download.
import { get, query } from '../api.js';
import { barChart } from '../chart.js';
import { button, select, table, textInput } from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { date, number } from '../format.js';

const BY = [['month', 'Month'], ['borough', 'Borough'], ['landlord', 'Landlord'], ['category', 'Help with'],
  ['partner', 'Partner']];
const METRICS = [
  ['texted', 'Texted', 'Tenants who were sent a campaign text'],
  ['replied', 'Replied', 'People who texted back'],
  ['referred', 'Referred', 'Help requests made, by text or by staff'],
  ['contacted', 'Contacted', 'Of those, how many a helper contacted'],
  ['helped', 'Helped', 'Of those, how many were helped'],
  ['opted_out', 'Opted out', 'Numbers that asked for no more texts'],
  ['followup_yes', 'Said they got help', 'Answers YES to “Did you get the help you needed?”'],
  ['followup_no', 'Said they did not', 'Answers NO to the same question'],
];

// "1/12/2026" or "2026-12-01" as 2026-12-01; '' when empty, null when not a date.
function isoDate(text) {
  const t = (text || '').trim();
  if (!t) return '';
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
  if (m) return `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
  m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t);
  return m ? `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}` : null;
}

const ukDate = (iso) => (iso ? iso.split('-').reverse().map((x) => String(+x)).join('/') : '');

function chooser(ctx, r) {
  return html`<form novalidate id="outcomes-form" class="sp-filters-inline">
    ${select({ id: 'by', label: 'Show by', value: r.by, options: BY.map(([value, label]) => ({ value, label })) })}
    ${textInput({ id: 'from', label: 'From', hint: 'For example 1/1/2026', value: ukDate(r.from), width: '10' })}
    ${textInput({ id: 'to', label: 'To', value: ukDate(r.to), width: '10' })}
    ${button('Show', { kind: 'secondary' })}
  </form>`;
}

function results(r) {
  const applies = METRICS.filter(([k]) => !(r.not_applicable || []).includes(k));
  const byLabel = (BY.find(([k]) => k === r.by) || [r.by, r.by])[1];
  const rows = r.rows.map((row) => ({ label: row.label, short: r.by === 'month' ? row.label.slice(0, 3) : row.label, ...row }));
  return html`${barChart({
    title: `Referred, contacted and helped by ${byLabel.toLowerCase()}`,
    series: [{ key: 'referred', name: 'Referred' }, { key: 'contacted', name: 'Contacted' }, { key: 'helped', name: 'Helped' }],
    rows,
  })}
  ${table({
    caption: `Outcomes from ${date(r.from)} to ${date(r.to)}`, captionSize: 'm',
    head: [byLabel, ...applies.map(([, label]) => ({ value: label, numeric: true }))],
    rows: [...r.rows.map((row) => [{ value: row.label, header: true }, ...applies.map(([k]) => ({ value: number(row[k]), numeric: true }))]),
      [{ value: 'Total', header: true }, ...applies.map(([k]) => ({ value: number(r.totals[k]), numeric: true }))]],
  })}
  ${(r.not_applicable || []).length ? html`<p class="govuk-body-s">Texts, replies and opt-outs belong to no ${byLabel.toLowerCase()}, so they are shown by month, borough or landlord only.</p>` : ''}
  <h2 class="govuk-heading-s">What the figures mean</h2>
  <dl class="govuk-summary-list govuk-summary-list--no-border sp-definitions">
    ${METRICS.map(([, label, meaning]) => html`<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">${label}</dt><dd class="govuk-summary-list__value">${meaning}</dd></div>`)}
  </dl>`;
}

export async function page(ctx) {
  const params = { by: ctx.query.get('by') || 'month', from: ctx.query.get('from'), to: ctx.query.get('to') };
  let r = null;
  let refused = null;
  try {
    r = await get(`/v1/outcomes${query(params)}`);
  } catch (error) {
    if (error.status !== 422) throw error;
    refused = error; /* the dates asked for: show the form with what is wrong */
  }
  const csv = r && `/v1/outcomes/report.csv${query({ by: r.by, from: r.from, to: r.to })}`;
  render(ctx.main, html`<h1 class="govuk-heading-l">Outcomes</h1>
    <p class="govuk-body">What the texts and the help that followed achieved, for reports to your board and funders.</p>
    ${chooser(ctx, r || params)}
    ${r ? html`<p class="govuk-body"><a class="govuk-link" href="${csv}" download>Download these figures (CSV)</a></p>
    ${results(r)}` : ''}`);
  const form = qs('#outcomes-form', ctx.main);
  if (refused) showErrors(form, refused);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(form);
    const from = isoDate(v.from);
    const to = isoDate(v.to);
    const bad = [from === null && { field: 'from', code: 'invalid', message: 'Enter the from date like 1/1/2026' },
      to === null && { field: 'to', code: 'invalid', message: 'Enter the to date like 31/12/2026' }].filter(Boolean);
    if (bad.length) {
      showErrors(form, bad);
      return;
    }
    ctx.navigate(`/console/outcomes${query({ by: v.by, from, to })}`);
  });
}

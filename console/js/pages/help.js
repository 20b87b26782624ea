// Help requests: the list (officers see all, with filters and their own queue; partner
// staff see their organisation's), one request with its answers, history and the moves
// its state allows, and the steps that need more than a click (resolving, declining).
import { get, post, query } from '../api.js';
import {
  backLink, button, linkButton, pagination, radios, select, summaryList, table, tag, textarea, textInput,
} from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { date, dateTime, phone, words } from '../format.js';

const STATES = ['new', 'assigned', 'accepted', 'contacted', 'resolved', 'closed_no_contact'];
const STATE_TEXT = {
  new: 'New', assigned: 'Waiting for the partner to accept', accepted: 'Accepted', contacted: 'Contacted',
  resolved: 'Resolved', closed_no_contact: 'Closed: no contact',
};
const OUTCOMES = [
  ['helped', 'Helped', 'They got the help they asked for.'],
  ['referred_elsewhere', 'Referred elsewhere', 'Another service is better placed to help.'],
  ['no_longer_needed', 'No longer needed', 'They no longer want or need help.'],
  ['no_contact', 'Could not make contact', 'Closes the request without contact.'],
  ['other', 'Other', 'Say what happened in the note.'],
];

const isStaff = (ctx) => ctx.user.role !== 'partner';

async function partners(ctx) {
  if (!isStaff(ctx)) return [];
  try {
    return (await get('/v1/partners')).items;
  } catch {
    return [];
  }
}

async function categories() {
  try {
    const flows = await get('/v1/flows');
    const set = new Set();
    for (const f of flows.items || []) {
      if (f.name === 'followup') continue;
      set.add(f.category);
      for (const s of f.steps || []) for (const a of s.answers || []) if (a.category) set.add(a.category);
    }
    return [...set].filter(Boolean).sort();
  } catch {
    return [];
  }
}

function filters(ctx, cats, orgs) {
  const q = ctx.query;
  return html`<form novalidate id="filters" class="sp-filters" action="/console/help-requests">
    <h2 class="govuk-heading-s">Filter</h2>
    ${select({ id: 'state', label: 'State', value: q.get('state') || '', options: [{ value: '', label: 'Any state' },
      ...STATES.map((s) => ({ value: s, label: STATE_TEXT[s] }))] })}
    ${select({ id: 'category', label: 'Help with', value: q.get('category') || '', options: [{ value: '', label: 'Anything' },
      ...cats.map((c) => ({ value: c, label: words(c) }))] })}
    ${isStaff(ctx) ? html`
      ${textInput({ id: 'borough', label: 'Borough', value: q.get('borough') || '', width: '10' })}
      ${textInput({ id: 'campaign_id', label: 'Campaign number', value: q.get('campaign_id') || '', width: '5', inputmode: 'numeric' })}
      ${select({ id: 'partner_id', label: 'Partner', value: q.get('partner_id') || '', options: [{ value: '', label: 'Any partner' },
        ...orgs.map((p) => ({ value: String(p.id), label: p.name }))] })}` : ''}
    ${button('Apply filters', { kind: 'secondary' })}
  </form>`;
}

export async function list(ctx) {
  const q = ctx.query;
  const params = {
    state: q.get('state'), category: q.get('category'), borough: q.get('borough'),
    campaign_id: q.get('campaign_id'), partner_id: q.get('partner_id'), queue: q.get('queue'), before: q.get('before'),
  };
  const [page, cats, orgs] = await Promise.all([get(`/v1/help-requests${query({ ...params, limit: 50 })}`),
    categories(), partners(ctx)]);
  const items = page.items;
  const last = items.length === 50 ? items[items.length - 1].id : null;
  const officersQueue = q.get('queue') === 'officers';
  const staff = isStaff(ctx);
  render(ctx.main, html`<h1 class="govuk-heading-l">${officersQueue ? 'Waiting for an officer' : 'Help requests'}</h1>
    <div class="govuk-button-group">
      ${linkButton('Refer someone', '/console/refer', 'secondary')}
      ${staff ? (officersQueue ? html`<a class="govuk-link" href="/console/help-requests">All help requests</a>`
        : html`<a class="govuk-link" href="/console/help-requests?queue=officers">Waiting for an officer</a>`) : ''}
    </div>
    <div class="govuk-grid-row">
      <div class="govuk-grid-column-one-quarter-from-desktop">${filters(ctx, cats, orgs)}</div>
      <div class="govuk-grid-column-three-quarters-from-desktop">
        ${items.length ? table({
          caption: staff ? 'Requests, newest first' : `Requests for ${ctx.user.partner_name || 'your organisation'}, newest first`,
          captionSize: 's',
          head: ['Request', 'Help with', 'Borough', 'State', ...(staff ? ['Partner'] : []), 'Made', 'Accept by'],
          rows: items.map((h) => [
            html`<a class="govuk-link" href="/console/help-requests/${h.id}">Request ${h.id}</a>`,
            words(h.category), h.borough || '', tag(h.state, STATE_TEXT[h.state]),
            ...(staff ? [h.partner_name || html`<span class="sp-muted">None yet</span>`] : []),
            date(h.created_at), h.state === 'assigned' ? date(h.deadline_at) : '',
          ]),
        }) : html`<p class="govuk-body">No help requests${q.toString() ? ' match these filters' : ' yet'}.</p>`}
        ${pagination({ next: last ? `/console/help-requests${query({ ...params, before: last })}` : '',
          previous: params.before ? `/console/help-requests${query({ ...params, before: null })}` : '' })}
      </div>
    </div>`);
  const form = qs('#filters', ctx.main);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(form);
    ctx.navigate(`/console/help-requests${query({ ...v, queue: q.get('queue') })}`);
  });
}

function answersList(h) {
  const entries = Object.entries(h.answers || {});
  if (!entries.length) return 'None';
  return html`${entries.map(([k, v], i) => html`${i ? html`<br>` : ''}${words(k)}: ${words(v)}`)}`;
}

function person(h) {
  if (!h.first_name && !h.phone) return html`<span class="sp-muted">Not shared: the person did not agree to share their details</span>`;
  return html`${h.first_name || ''}${h.first_name && h.phone ? html`<br>` : ''}${phone(h.phone)}`;
}

function history(h) {
  const rows = (h.history || []).map((e) => [dateTime(e.at),
    e.from_state === null ? 'Made' : `${STATE_TEXT[e.from_state] || e.from_state} → ${STATE_TEXT[e.to_state] || e.to_state}`,
    [e.partner_name && `Partner: ${e.partner_name}`, e.escalation_reason && `To officers: ${words(e.escalation_reason)}`,
      e.outcome && `Outcome: ${words(e.outcome)}`, e.note && `Note: ${e.note}`].filter(Boolean).join('. '),
    e.actor || 'signpost']);
  if (!rows.length) return '';
  return table({ caption: 'History', captionSize: 'm', head: ['When', 'What happened', 'Details', 'Who'], rows });
}

// The moves this caller can make now, as [action, label, kind].
function moves(ctx, h) {
  const out = [];
  if (h.state === 'assigned' || (h.state === 'new' && isStaff(ctx))) out.push(['accept', 'Accept', '']);
  if (h.state === 'accepted') out.push(['contacted', 'Mark contacted', '']);
  if (h.state === 'accepted' || h.state === 'contacted') out.push(['resolve', 'Resolve', 'secondary']);
  if ((h.state === 'assigned' || h.state === 'accepted') && h.partner_id !== null) out.push(['decline', 'Decline', 'warning']);
  return out;
}

export async function show(ctx) {
  const h = await get(`/v1/help-requests/${encodeURIComponent(ctx.params.id)}`);
  const staff = isStaff(ctx);
  const m = moves(ctx, h);
  render(ctx.main, html`${backLink('/console/help-requests', 'All help requests')}
    <span class="govuk-caption-l">Help request</span>
    <h1 class="govuk-heading-l">Request ${h.id}: ${words(h.category)}</h1>
    <p class="govuk-body">${tag(h.state, STATE_TEXT[h.state])}${h.needs_call ? html` <strong class="govuk-tag govuk-tag--orange">Needs a call</strong>` : ''}</p>
    ${m.length ? html`<form novalidate id="moves"><div class="govuk-button-group">
      ${m.map(([action, label, kind]) => (action === 'resolve' || action === 'decline'
        ? linkButton(label, `/console/help-requests/${h.id}/${action}`, kind)
        : button(label, { kind, name: 'action', value: action })))}
    </div></form>` : ''}
    ${summaryList([
      ['Person', person(h)],
      ['Borough', h.borough],
      ['Their answers', answersList(h)],
      ['Made by', h.source === 'staff' ? `A staff referral by ${h.referred_by || 'a member of staff'}` : 'A text from the tenant'],
      staff && h.tenant_id ? ['Tenant', html`<a class="govuk-link" href="/console/tenants/${h.tenant_id}">See the tenant</a>`] : null,
      staff && h.campaign_id ? ['Campaign', html`<a class="govuk-link" href="/console/campaigns/${h.campaign_id}">${h.campaign_name || `Campaign ${h.campaign_id}`}</a>`] : null,
      staff ? ['Partner', h.partner_name || 'None yet'] : null,
      h.deadline_at && h.state === 'assigned' ? ['Accept by', dateTime(h.deadline_at)] : null,
      h.escalated_at ? ['Waiting for an officer', `Since ${dateTime(h.escalated_at)}: ${words(h.escalation_reason)}`] : null,
      h.outcome ? ['Outcome', words(h.outcome)] : null,
      h.note ? ['Note', h.note] : null,
      h.followup_outcome ? ['Follow-up: did they get the help they needed?', h.followup_outcome === 'yes' ? 'Yes' : 'No'] : null,
      ['Made', dateTime(h.created_at)],
    ])}
    ${history(h)}`);
  const form = qs('#moves', ctx.main);
  if (!form) return;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = e.submitter.value;
    try {
      await post(`/v1/help-requests/${h.id}/${action}`, {});
      await ctx.navigate(`/console/help-requests/${h.id}`, { replace: true,
        flash: { message: action === 'accept' ? `You accepted request ${h.id}.` : `Request ${h.id} is marked contacted.` } });
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

function movePage(ctx, h, { title, fields, action, submit, done }) {
  render(ctx.main, html`${backLink(`/console/help-requests/${h.id}`, 'Back to the request')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <span class="govuk-caption-l">Request ${h.id}: ${words(h.category)}</span>
    <h1 class="govuk-heading-l">${title}</h1>
    <form novalidate id="move" data-keep="${action}">
      ${fields}
      <div class="govuk-button-group">${submit}
        <a class="govuk-link" href="/console/help-requests/${h.id}">Cancel</a></div>
    </form></div></div>`);
  const form = qs('#move', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const body = {};
    if (v.outcome !== undefined) body.outcome = v.outcome || undefined;
    if (v.note) body.note = v.note;
    try {
      await post(`/v1/help-requests/${h.id}/${action}`, body);
      await ctx.navigate(`/console/help-requests/${h.id}`, { replace: true, flash: { message: done } });
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

export async function resolve(ctx) {
  const h = await get(`/v1/help-requests/${encodeURIComponent(ctx.params.id)}`);
  movePage(ctx, h, {
    title: 'Resolve the request',
    action: 'resolve',
    fields: html`${radios({ id: 'outcome', legend: 'What was the outcome?', legendSize: 'm', required: 'Select the outcome',
      options: OUTCOMES.map(([value, label, hint]) => ({ value, label, hint })) })}
      ${textarea({ id: 'note', label: 'Note (optional)', hint: 'What was done, for the record. Do not write sensitive personal details.', rows: 4 })}`,
    submit: button('Resolve'),
    done: `Request ${h.id} is resolved. A week from now the tenant is asked whether they got the help they needed.`,
  });
}

export async function decline(ctx) {
  const h = await get(`/v1/help-requests/${encodeURIComponent(ctx.params.id)}`);
  movePage(ctx, h, {
    title: 'Decline the request?',
    action: 'decline',
    fields: html`<p class="govuk-body">It goes to the next partner that covers ${words(h.category).toLowerCase()} in ${h.borough || 'the borough'}, or to the officers if there is none.</p>
      ${textarea({ id: 'note', label: 'Why (optional)', rows: 3 })}`,
    submit: button('Yes, decline', { kind: 'warning' }),
    done: `You declined request ${h.id}.`,
  });
}

// Campaigns: the list, one campaign's page (progress, what it achieved, its controls),
// and the confirmation step before cancelling.
import { get, post, query } from '../api.js';
import { barChart } from '../chart.js';
import {
  backLink, button, linkButton, pagination, radios, summaryList, table, tag, textInput, warning,
} from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { dateTime, number, percent, plural, time, words } from '../format.js';

const WAITING = ['queued', 'retry', 'sending'];
const SENT = ['submitted', 'enroute', 'delivered', 'undelivered', 'failed', 'rejected', 'expired', 'unknown'];
const STATE_NAMES = {
  queued: 'Waiting to send', retry: 'Waiting to retry', sending: 'Sending', unknown: 'Unknown (may have been sent)',
  submitted: 'Sent to the provider', enroute: 'On its way', delivered: 'Delivered', undelivered: 'Not delivered',
  failed: 'Failed', rejected: 'Rejected by the provider', expired: 'Expired (not sent in time)', cancelled: 'Cancelled',
  skipped_opted_out: 'Left out: opted out', skipped_suppressed: 'Left out: suppressed',
  skipped_no_consent: 'Left out: no consent', skipped_erased: 'Left out: erased',
};

const sum = (counts, states) => states.reduce((n, s) => n + (counts[s] || 0), 0);

export function progress(c) {
  const counts = c.counts || {};
  const total = counts.total || 0;
  const done = total - sum(counts, WAITING);
  return { total, done, sent: sum(counts, SENT), delivered: counts.delivered || 0 };
}

function progressText(c) {
  const p = progress(c);
  if (c.state === 'draft') return 'Not scheduled';
  if (!p.total) return c.state === 'scheduled' ? 'Starting' : 'No texts';
  return `${number(p.done)} of ${number(p.total)} done (${percent(p.done, p.total)})`;
}

export async function list(ctx) {
  const before = ctx.query.get('before');
  const page = await get(`/v1/campaigns${query({ before, limit: 50 })}`);
  const items = page.items;
  const last = items.length === 50 ? items[items.length - 1].id : null;
  render(ctx.main, html`<h1 class="govuk-heading-l">Campaigns</h1>
    ${linkButton('Create campaign', '/console/campaigns/new')}
    ${items.length ? table({
      caption: 'Campaigns, newest first', captionSize: 's',
      head: ['Name', 'State', 'Progress', { value: 'Replies', numeric: true }, { value: 'Help requests', numeric: true }],
      rows: items.map((c) => [
        html`<a class="govuk-link" href="/console/campaigns/${c.id}">${c.name}</a>`,
        tag(c.state), progressText(c),
        { value: number(c.replies ?? 0), numeric: true },
        { value: number(c.help_requests ?? 0), numeric: true },
      ]),
    }) : html`<p class="govuk-body">There are no campaigns yet.</p>`}
    ${pagination({ next: last ? `/console/campaigns?before=${last}` : '', previous: before ? '/console/campaigns' : '' })}`);
}

function audienceText(a) {
  if (!a) return '';
  const parts = [];
  if (a.all) parts.push('Every tenant');
  if (a.boroughs && a.boroughs.length) parts.push(`Borough: ${a.boroughs.join(', ')}`);
  if (a.landlords && a.landlords.length) parts.push(`Landlord: ${a.landlords.join(', ')}`);
  if (a.languages && a.languages.length) parts.push(`Language: ${a.languages.join(', ')}`);
  if (a.tags_any && a.tags_any.length) parts.push(`Any of the tags: ${a.tags_any.join(', ')}`);
  if (a.tags_all && a.tags_all.length) parts.push(`All of the tags: ${a.tags_all.join(', ')}`);
  if (a.tags_none && a.tags_none.length) parts.push(`None of the tags: ${a.tags_none.join(', ')}`);
  if (a.not_replied_to) parts.push(`Never replied to campaign ${a.not_replied_to}`);
  return html`${parts.map((p, i) => html`${i ? html`<br>` : ''}${p}`)}`;
}

function windowText(w) {
  if (!w) return '';
  const days = (w.days || []).map((d) => d.charAt(0).toUpperCase() + d.slice(1)).join(', ');
  return `${days}, ${w.start} to ${w.end} (UK time), never on bank holidays`;
}

function funnel(c) {
  const p = progress(c);
  const steps = [
    ['Sent', p.sent], ['Delivered', p.delivered], ['Replied', c.replies || 0],
    ['Help requests', c.help_requests || 0], ['Helped', c.helped || 0],
  ];
  return html`<h2 class="govuk-heading-m">What it achieved</h2>
    <ol class="sp-funnel">${steps.map(([label, n], i) => html`<li class="sp-funnel__step">
      <span class="sp-funnel__number">${number(n)}</span>
      <span class="sp-funnel__label">${label}${i ? html`<span class="sp-muted"> (${percent(n, steps[i - 1][1]) || '0%'} of ${steps[i - 1][0].toLowerCase()})</span>` : ''}</span>
    </li>`)}</ol>
    ${c.help_requests ? html`<p class="govuk-body"><a class="govuk-link" href="/console/help-requests?campaign_id=${c.id}">See the help requests it led to</a></p>` : ''}`;
}

function counts(c) {
  const entries = Object.entries(c.counts || {}).filter(([k, n]) => k !== 'total' && n > 0);
  if (!entries.length) return '';
  return table({
    caption: 'Texts by state', captionSize: 's', head: ['State', { value: 'Texts', numeric: true }],
    rows: [...entries.map(([k, n]) => [STATE_NAMES[k] || words(k), { value: number(n), numeric: true }]),
      [{ value: 'Total', header: true }, { value: number(c.counts.total), numeric: true }]],
  });
}

function perHour(c) {
  const rows = (c.per_hour || []).map((h) => ({
    label: dateTime(h.hour), short: time(h.hour), sent: h.sent, delivered: h.delivered, failed: h.failed,
  }));
  if (!rows.length) return '';
  return barChart({
    title: 'Texts sent and delivered each hour',
    series: [{ key: 'sent', name: 'Sent' }, { key: 'delivered', name: 'Delivered' }, { key: 'failed', name: 'Failed' }],
    rows,
  });
}

function progressBar(c) {
  const p = progress(c);
  return html`<div class="govuk-form-group">
    <label class="govuk-label govuk-label--s" for="campaign-progress">Progress</label>
    <progress id="campaign-progress" class="sp-progress" max="${p.total || 1}" value="${p.done}">${percent(p.done, p.total)}</progress>
    <p class="govuk-body" id="campaign-progress-text">${progressText(c)}</p>
  </div>`;
}

function scheduleForm() {
  return html`<form novalidate id="schedule" data-keep="schedule">
    ${radios({ id: 'when', legend: 'When should it start?', value: 'now', options: [
      { value: 'now', label: 'Now', hint: 'Texts go out while the send window is open.' },
      { value: 'later', label: 'At a date and time I choose' },
    ] })}
    <div class="govuk-form-group" data-field="start_at">
      ${textInput({ id: 'start_date', label: 'Start date', hint: 'For example, 27/3/2027', width: '10', field: 'start_at' })}
      ${textInput({ id: 'start_time', label: 'Start time', hint: 'UK time, 24-hour clock, for example 09:30', width: '5', field: 'start_at' })}
    </div>
    ${button('Schedule')}
  </form>`;
}

function controls(c) {
  const id = c.id;
  const act = (action, text, kind = 'secondary') => button(text, { kind, name: 'action', value: action });
  switch (c.state) {
    case 'draft':
      return html`<h2 class="govuk-heading-m">Before it goes</h2>
        <div class="govuk-button-group">
          ${linkButton('Edit', `/console/campaigns/${id}/edit`, 'secondary')}
          <form novalidate class="sp-inline-form" id="actions">${act('test', 'Send a test')}</form>
          ${linkButton('Cancel campaign', `/console/campaigns/${id}/cancel`, 'warning')}
        </div>
        <h2 class="govuk-heading-m">Schedule it</h2>
        ${scheduleForm()}`;
    case 'scheduled':
    case 'running':
      return html`<div class="govuk-button-group"><form novalidate class="sp-inline-form" id="actions">${act('pause', 'Pause')}</form>
        ${linkButton('Cancel campaign', `/console/campaigns/${id}/cancel`, 'warning')}</div>`;
    case 'paused':
      return html`<div class="govuk-button-group"><form novalidate class="sp-inline-form" id="actions">${act('resume', 'Resume', '')}</form>
        ${linkButton('Cancel campaign', `/console/campaigns/${id}/cancel`, 'warning')}</div>`;
    default:
      return '';
  }
}

// dd/mm/yyyy and hh:mm in UK time as an instant; null when not a real date and time.
export function londonInstant(day, clock) {
  const d = /^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$/.exec(day || '');
  const t = /^\s*(\d{1,2})[:.](\d{2})\s*$/.exec(clock || '');
  if (!d || !t) return null;
  const [y, mo, da, h, mi] = [+d[3], +d[2], +d[1], +t[1], +t[2]];
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59) return null;
  // Try both UK offsets; keep the one that reads back as the same wall-clock time.
  for (const offset of [0, 1]) {
    const at = new Date(Date.UTC(y, mo - 1, da, h - offset, mi));
    const back = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23',
    }).formatToParts(at).reduce((o, p) => ({ ...o, [p.type]: +p.value }), {});
    if (back.year === y && back.month === mo && back.day === da && back.hour === h && back.minute === mi) return at;
  }
  return null;
}

async function schedule(ctx, c, form) {
  const v = formValues(form);
  const body = {};
  if (v.when === 'later') {
    const at = londonInstant(v.start_date, v.start_time);
    if (!at) {
      showErrors(form, { field: 'start_at', code: 'invalid', message: 'Enter a real date and time, like 27/3/2027 and 09:30' });
      return;
    }
    body.start_at = at.toISOString();
  }
  try {
    await post(`/v1/campaigns/${c.id}/schedule`, body);
    await ctx.navigate(`/console/campaigns/${c.id}`, { replace: true, flash: { message: `${c.name} is scheduled.` } });
  } catch (error) {
    if (!error.handled) showErrors(form, error);
  }
}

async function act(ctx, c, action, form) {
  const done = {
    test: (r) => `A test text went to ${plural(r.queued, 'staff number')}.`,
    pause: () => `${c.name} is paused: no more texts go out until you resume it.`,
    resume: () => `${c.name} is sending again.`,
  };
  try {
    const r = await post(`/v1/campaigns/${c.id}/${action}`, {});
    await ctx.navigate(`/console/campaigns/${c.id}`, { replace: true, flash: { message: done[action](r) } });
  } catch (error) {
    if (!error.handled) showErrors(form, error);
  }
}

function body(c) {
  return html`${backLink('/console/campaigns', 'All campaigns')}
    <span class="govuk-caption-l">Campaign</span>
    <h1 class="govuk-heading-l">${c.name}</h1>
    <p class="govuk-body">${tag(c.state)}</p>
    <div id="live">${live(c)}</div>
    ${controls(c)}
    <h2 class="govuk-heading-m">The campaign</h2>
    ${summaryList([
      ['Message', html`<span class="sp-sms">${c.body}</span>`],
      ...Object.entries(c.bodies || {}).map(([code, text]) => [`Message (${code})`, html`<span class="sp-sms">${text}</span>`]),
      ['Who it texts', audienceText(c.audience)],
      ['When texts go out', windowText(c.send_window)],
      ['Provider', c.provider || 'The default provider'],
      ['Purpose', c.purpose === 'marketing' ? 'Marketing (only tenants who consented)' : 'Service'],
      ['Created', dateTime(c.created_at)],
      c.start_at ? ['Starts', dateTime(c.start_at)] : null,
      c.completed_at ? ['Completed', dateTime(c.completed_at)] : null,
    ])}
    <p class="govuk-body"><a class="govuk-link" href="/v1/campaigns/${c.id}/report.csv" download>Download every text's state (report.csv)</a></p>`;
}

function live(c) {
  if (c.state === 'draft') return '';
  return html`${progressBar(c)}${funnel(c)}${counts(c)}${perHour(c)}`;
}

export async function show(ctx) {
  const c = await get(`/v1/campaigns/${encodeURIComponent(ctx.params.id)}`);
  render(ctx.main, body(c));
  const actions = qs('#actions', ctx.main);
  if (actions) {
    actions.addEventListener('submit', (e) => {
      e.preventDefault();
      act(ctx, c, e.submitter.value, actions);
    });
  }
  const sched = qs('#schedule', ctx.main);
  if (sched) {
    sched.addEventListener('submit', (e) => {
      e.preventDefault();
      schedule(ctx, c, sched);
    });
  }
  follow(ctx, c);
}

// Whether the figures can still move: texts waiting or sent, receipts to come.
function moving(c) {
  const n = c.counts || {};
  return ['scheduled', 'running', 'paused'].includes(c.state) || (c.state === 'completed' &&
    (n.submitted || 0) + (n.enroute || 0) + (n.sending || 0) > 0);
}

// While the figures can move they follow every few seconds; the controls stay as they are.
function follow(ctx, c) {
  if (!moving(c)) return;
  const timer = setInterval(async () => {
    try {
      const now = await get(`/v1/campaigns/${c.id}`);
      if (now.state !== c.state) {
        clearInterval(timer);
        ctx.refresh();
        return;
      }
      render(qs('#live', ctx.main), live(now));
      if (!moving(now)) clearInterval(timer);
    } catch {
      /* the next tick tries again */
    }
  }, 3000);
  ctx.onLeave(() => clearInterval(timer));
}

export async function cancel(ctx) {
  const c = await get(`/v1/campaigns/${encodeURIComponent(ctx.params.id)}`);
  const p = progress(c);
  const waiting = p.total - p.done;
  render(ctx.main, html`${backLink(`/console/campaigns/${c.id}`, 'Back to the campaign')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">Are you sure you want to cancel ${c.name}?</h1>
    ${warning(waiting ? `${plural(waiting, 'text')} not yet sent will not be sent. A cancelled campaign cannot be restarted.`
      : 'A cancelled campaign cannot be restarted.')}
    <p class="govuk-body">Texts already sent stay in its figures.</p>
    <form novalidate id="cancel">
      <div class="govuk-button-group">
        ${button('Yes, cancel campaign', { kind: 'warning' })}
        <a class="govuk-link" href="/console/campaigns/${c.id}">No, go back</a>
      </div>
    </form></div></div>`);
  const form = qs('#cancel', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`/v1/campaigns/${c.id}/cancel`, {});
      await ctx.navigate(`/console/campaigns/${c.id}`, { replace: true, flash: { message: `${c.name} is cancelled.` } });
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

// "Refer someone": the same triage flow tenants answer by text, asked by a member of
// staff or a volunteer for the person in front of them, one question a page. It ends in a
// help request routed like any other, marked as a referral by whoever made it.
import { get, post } from '../api.js';
import {
  backLink, button, radios, summaryList, textarea, textInput,
} from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { phone, words } from '../format.js';

// The flow to walk: the first that can end in a help request (the shipped digital_skills).
async function loadFlow() {
  const flows = (await get('/v1/flows')).items || [];
  return flows.find((f) => f.steps.some((s) => s.answers.some((a) => a.outcome === 'help_request')));
}

const stepTitle = (s) => s.label || s.question;
const answerLabel = (a) => a.label || words(a.value);

function personForm(ctx, walk) {
  const p = walk.person || {};
  render(ctx.main, html`${backLink('/console/help-requests', 'Help requests')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <span class="govuk-caption-l">Refer someone</span>
    <h1 class="govuk-heading-l">Who needs help?</h1>
    <p class="govuk-body">A local helper will contact them, so check they are happy for you to share these details.</p>
    <form novalidate id="person" data-keep="refer-person">
      ${textInput({ id: 'first_name', label: 'First name', value: p.first_name || '', autocomplete: 'off', width: '20',
        required: 'Enter their first name' })}
      ${textInput({ id: 'phone', label: 'Phone number', hint: 'A UK number, such as 07700 900123', value: p.phone || '',
        type: 'tel', autocomplete: 'off', width: '20', required: 'Enter a phone number a helper can call' })}
      ${textInput({ id: 'borough', label: 'Borough where they live', hint: 'Such as Thanet, Maidstone or Tunbridge Wells',
        value: p.borough || '', width: '20', required: 'Enter the borough where they live' })}
      ${button('Continue')}
    </form></div></div>`);
  const form = qs('#person', ctx.main);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(form);
    const missing = ['first_name', 'phone', 'borough'].filter((k) => !v[k].trim())
      .map((field) => ({ field, code: 'required', message: `${field} is required` }));
    if (missing.length) {
      showErrors(form, missing);
      return;
    }
    walk.person = v;
    walk.path = [];
    nextPage(ctx, walk);
  });
}

function stepForm(ctx, walk, step) {
  const chosen = walk.answers[step.id] || '';
  const back = walk.path.length ? 'back' : null;
  render(ctx.main, html`${back ? html`<a href="#" class="govuk-back-link" id="back">Back</a>` : backLink('/console/help-requests', 'Help requests')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <form novalidate id="step">
      <span class="govuk-caption-l">Refer ${walk.tenant ? walk.tenant.first_name || 'a tenant' : walk.person.first_name}</span>
      ${radios({ id: 'answer', legend: stepTitle(step), legendSize: 'l', legendTag: 'h1', value: chosen,
        required: 'Select an answer', options: step.answers.map((a) => ({ value: a.value, label: answerLabel(a) })) })}
      ${button('Continue')}
    </form></div></div>`);
  const form = qs('#step', ctx.main);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = formValues(form).answer;
    if (!value) {
      showErrors(form, { field: 'answer', code: 'required', message: 'Select an answer' });
      return;
    }
    walk.answers[step.id] = value;
    walk.path.push(step.id);
    const answer = step.answers.find((a) => a.value === value);
    walk.current = answer.next || null;
    walk.outcome = answer.next ? null : answer.outcome;
    nextPage(ctx, walk);
  });
  const backLinkEl = qs('#back', ctx.main);
  if (backLinkEl) {
    backLinkEl.addEventListener('click', (e) => {
      e.preventDefault();
      walk.current = walk.path.pop();
      walk.outcome = null;
      nextPage(ctx, walk);
    });
  }
}

// The category a finished walk gives: the last one an answer set, else the flow's.
function category(walk) {
  let cat = walk.flow.category;
  for (const id of walk.path) {
    const step = walk.flow.steps.find((s) => s.id === id);
    const a = step.answers.find((x) => x.value === walk.answers[id]);
    if (a && a.category) cat = a.category;
  }
  return cat;
}

function checkPage(ctx, walk) {
  const rows = walk.path.map((id) => {
    const step = walk.flow.steps.find((s) => s.id === id);
    const a = step.answers.find((x) => x.value === walk.answers[id]);
    return [stepTitle(step), answerLabel(a)];
  });
  const who = walk.tenant
    ? [['Tenant', `${walk.tenant.first_name || ''} (${walk.tenant.external_ref || walk.tenant.id})`]]
    : [['First name', walk.person.first_name], ['Phone', walk.person.phone], ['Borough', walk.person.borough]];
  render(ctx.main, html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <span class="govuk-caption-l">Refer someone</span>
    <h1 class="govuk-heading-l">Check the referral</h1>
    ${summaryList([...who, ...rows, ['Help with', words(category(walk))]])}
    <p class="govuk-body"><a class="govuk-link" href="#" id="restart">Start again</a></p>
    <form novalidate id="send" data-keep="refer-send">
      ${textarea({ id: 'note', label: 'Anything the helper should know (optional)', hint: 'Such as the best time to call. Do not write sensitive personal details.', rows: 3 })}
      ${button('Send referral')}
    </form></div></div>`);
  qs('#restart', ctx.main).addEventListener('click', (e) => {
    e.preventDefault();
    walk.answers = {};
    walk.path = [];
    walk.current = walk.flow.start;
    walk.outcome = null;
    nextPage(ctx, walk);
  });
  const form = qs('#send', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { category: category(walk), answers: walk.answers, consent: true };
    const note = formValues(form).note.trim();
    if (note) body.note = note;
    if (walk.tenant) body.tenant_id = walk.tenant.id;
    else Object.assign(body, walk.person);
    try {
      const h = await post('/v1/referrals', body);
      sentPage(ctx, walk, h);
    } catch (error) {
      if (error.handled) return;
      if (['first_name', 'phone', 'borough'].includes(error.field)) {
        personForm(ctx, walk);
        showErrors(qs('#person', ctx.main), error);
      } else {
        showErrors(form, error);
      }
    }
  });
}

function sentPage(ctx, walk, h) {
  const name = walk.tenant ? walk.tenant.first_name || 'The tenant' : walk.person.first_name;
  render(ctx.main, html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <div class="govuk-panel govuk-panel--confirmation">
      <h1 class="govuk-panel__title">Referral sent</h1>
      <div class="govuk-panel__body">Request number<br><strong>${h.id}</strong></div>
    </div>
    <h2 class="govuk-heading-m">What happens next</h2>
    <p class="govuk-body">It goes to a local partner that helps with ${words(h.category).toLowerCase()} in ${h.borough || walk.person.borough},
      or to the officers if no partner covers it. The helper will contact ${name}${walk.person ? ` on ${phone(walk.person.phone)}` : ''}.</p>
    ${ctx.user.role === 'partner' ? '' : html`<p class="govuk-body"><a class="govuk-link" href="/console/help-requests/${h.id}">See the request</a></p>`}
    <p class="govuk-body"><a class="govuk-link" href="/console/refer">Refer someone else</a></p>
  </div></div>`);
  qs('h1', ctx.main).setAttribute('tabindex', '-1');
  qs('h1', ctx.main).focus();
}

function endPage(ctx, walk) {
  render(ctx.main, html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">No referral made</h1>
    <p class="govuk-body">They did not agree to a local helper contacting them, so nothing was sent.</p>
    <p class="govuk-body"><a class="govuk-link" href="#" id="back">Go back and change the answer</a> or
      <a class="govuk-link" href="/console/help-requests">return to help requests</a>.</p>
  </div></div>`);
  qs('#back', ctx.main).addEventListener('click', (e) => {
    e.preventDefault();
    walk.current = walk.path.pop();
    walk.outcome = null;
    nextPage(ctx, walk);
  });
}

function nextPage(ctx, walk) {
  if (walk.outcome === 'help_request') checkPage(ctx, walk);
  else if (walk.outcome) endPage(ctx, walk);
  else stepForm(ctx, walk, walk.flow.steps.find((s) => s.id === walk.current));
  window.scrollTo(0, 0);
  const h1 = qs('h1, legend', ctx.main);
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus();
  }
  document.title = `${(h1 ? h1.textContent : 'Refer someone').trim()} – ${ctx.org}`;
}

export async function page(ctx) {
  const flow = await loadFlow();
  if (!flow) {
    render(ctx.main, html`<h1 class="govuk-heading-l">Refer someone</h1>
      <p class="govuk-body">There is no triage flow that ends in a referral. Ask an administrator to set one up.</p>`);
    return;
  }
  const walk = { flow, answers: {}, path: [], current: flow.start, outcome: null, person: null, tenant: null };
  const tenantId = ctx.query.get('tenant');
  if (tenantId && ctx.user.role !== 'partner') {
    walk.tenant = await get(`/v1/tenants/${encodeURIComponent(tenantId)}`);
    nextPage(ctx, walk);
    return;
  }
  personForm(ctx, walk);
}

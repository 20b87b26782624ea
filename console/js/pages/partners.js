// Partners (admins): the organisations that take on help requests: who they help, where,
// how many at once, and where their webhook goes. A webhook secret is made by signpost
// and shown once.
import { get, post, put } from '../api.js';
import {
  backLink, button, checkboxes, linkButton, radios, summaryList, table, tag, textInput, warning,
} from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { number, words } from '../format.js';

async function knownCategories() {
  const set = new Set();
  for (const f of (await get('/v1/flows')).items || []) {
    if (f.name === 'followup') continue;
    set.add(f.category);
    for (const s of f.steps) for (const a of s.answers) if (a.category) set.add(a.category);
  }
  return [...set].filter(Boolean).sort();
}

export async function list(ctx) {
  const { items } = await get('/v1/partners');
  render(ctx.main, html`<h1 class="govuk-heading-l">Partners</h1>
    ${linkButton('Add a partner', '/console/partners/new')}
    ${items.length ? table({
      caption: 'Partners', captionSize: 's',
      head: ['Name', 'Helps with', 'Boroughs', { value: 'Open requests', numeric: true }, 'State'],
      rows: items.map((p) => [
        html`<a class="govuk-link" href="/console/partners/${p.id}">${p.name}</a>`,
        p.categories.map(words).join(', '), p.boroughs.join(', '),
        { value: `${number(p.open_requests)} of ${number(p.capacity)}`, numeric: true },
        p.active ? tag('running', 'Active') : tag('cancelled', 'Deactivated'),
      ]),
    }) : html`<p class="govuk-body">No partners yet.</p>`}`);
}

function formHtml(p, cats, creating) {
  return html`<form novalidate id="partner" data-keep="partner">
    ${textInput({ id: 'name', label: 'Name', value: p.name || '', hint: 'Such as Thanet Library', required: 'Enter the partner’s name' })}
    ${checkboxes({ id: 'categories', legend: 'What they help with', field: 'categories', legendSize: 'm',
      options: [...new Set([...cats, ...(p.categories || [])])].map((c) => ({ value: c, label: words(c), checked: (p.categories || []).includes(c) })) })}
    ${textInput({ id: 'boroughs', label: 'Boroughs they cover', hint: 'Separate them with commas, such as Thanet, Maidstone',
      value: (p.boroughs || []).join(', ') })}
    ${textInput({ id: 'capacity', label: 'Requests they can take at once', value: String(p.capacity ?? 10), width: '4', inputmode: 'numeric' })}
    ${textInput({ id: 'webhook_url', label: 'Webhook address (optional)', type: 'url', spellcheck: false,
      hint: 'If the partner has a system that should receive new requests. Most partners use this console instead.', value: p.webhook_url || '' })}
    ${creating ? '' : html`
      ${checkboxes({ id: 'new_secret', legend: 'Webhook secret', field: 'generate_webhook_secret',
        hint: p.has_webhook_secret ? 'The partner has one. Make a new one only if the old one was lost or leaked.' : 'There is none yet.',
        options: [{ value: 'yes', label: 'Make a new secret' }] })}
      ${radios({ id: 'active', legend: 'State', value: p.active ? 'yes' : 'no', inline: true, options: [
        { value: 'yes', label: 'Active' }, { value: 'no', label: 'Deactivated', hint: 'Gets no new requests, and its users cannot sign in' }] })}`}
    ${button(creating ? 'Add partner' : 'Save changes')}
  </form>`;
}

function bodyFrom(v, creating) {
  const body = {
    name: v.name.trim(), categories: v.categories,
    boroughs: v.boroughs.split(',').map((b) => b.trim()).filter(Boolean),
  };
  if (/^\d+$/.test(v.capacity.trim())) body.capacity = Number(v.capacity.trim());
  else body.capacity = v.capacity.trim() === '' ? undefined : v.capacity;
  if (v.webhook_url.trim()) body.webhook_url = v.webhook_url.trim();
  if ((creating && body.webhook_url) || (v.new_secret || []).length) body.generate_webhook_secret = true;
  if (!creating) body.active = v.active === 'yes';
  return body;
}

function secretPage(ctx, p) {
  render(ctx.main, html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">${p.name}: the webhook secret</h1>
    ${warning('Copy the secret now and give it to the partner securely. It will not be shown again.')}
    <p class="govuk-body">The partner’s system uses it to check that requests come from signpost.</p>
    <p class="govuk-body"><code class="sp-secret" id="secret">${p.webhook_secret}</code></p>
    <p class="govuk-body"><a class="govuk-link" href="/console/partners/${p.id}">Back to ${p.name}</a></p>
  </div></div>`);
  const h1 = qs('h1', ctx.main);
  h1.setAttribute('tabindex', '-1');
  h1.focus();
}

async function page(ctx, p) {
  const creating = !p.id;
  const cats = await knownCategories();
  render(ctx.main, html`${backLink('/console/partners', 'All partners')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">${creating ? 'Add a partner' : p.name}</h1>
    ${creating ? '' : summaryList([['Open requests', `${number(p.open_requests)} of ${number(p.capacity)}`],
      ['Their help requests', html`<a class="govuk-link" href="/console/help-requests?partner_id=${p.id}">See the requests</a>`]])}
    ${formHtml(p, cats, creating)}
    </div></div>`);
  const form = qs('#partner', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const body = bodyFrom(formValues(form), creating);
      const saved = creating ? await post('/v1/partners', body) : await put(`/v1/partners/${p.id}`, body);
      if (saved.webhook_secret) {
        history.replaceState(null, '', `/console/partners/${saved.id}`);
        secretPage(ctx, saved);
        return;
      }
      await ctx.navigate('/console/partners', { flash: { message: `${saved.name} is saved.` } });
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

export function create(ctx) {
  return page(ctx, {});
}

export async function edit(ctx) {
  return page(ctx, await get(`/v1/partners/${encodeURIComponent(ctx.params.id)}`));
}

// Replies (officers and admins): why a tenant's reply is handled as it is, and the replies
// nobody understood, grouped by what they say, newest first. Admins teach one of them as
// a keyword's alias, so the next tenant who writes it is understood.
import { get, post, query } from '../api.js';
import { backLink, button, radios, summaryList, table, textInput } from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { dateTime, number, plural } from '../format.js';

const ACTIONS = {
  none: 'The general answer: nothing is done',
  opt_out: 'Opts the number out: no more texts',
  opt_in: 'Opts the number back in',
  info: 'Says who is texting and how to stop',
  help_request: 'Makes a help request',
  suggest: 'Asks the tenant first, and acts only on YES',
  flow: 'Starts a conversation',
};

function explainForm(text) {
  return html`<form novalidate id="explain-form">
    ${textInput({ id: 'text', label: 'A reply', value: text, hint: 'Type a reply as a tenant wrote it, such as “I don’t want these texts”',
      required: 'Enter a reply to explain' })}
    ${button('Explain', { kind: 'secondary' })}
  </form>`;
}

function explanation(r) {
  const d = r.decision;
  const m = r.match;
  return html`<h2 class="govuk-heading-m" id="explained">What signpost does with it</h2>
    ${summaryList([
      ['What happens', ACTIONS[d.action] || d.action],
      ['Why', m.explanation],
      ['Rule', m.rule],
      ['Keyword', m.keyword || 'None'],
      ['Language of its words', m.language || 'Not told apart'],
      ['Answer sent', d.reply || 'None'],
    ])}`;
}

function unrecognised(items, admin) {
  if (!items.length) return html`<p class="govuk-body">Every reply of the last 30 days was understood.</p>`;
  return table({
    caption: 'Replies not understood in the last 30 days', captionSize: 'm',
    head: ['Reply', { value: 'Times', numeric: true }, 'Example', 'Last received', ...(admin ? ['Teach'] : [])],
    rows: items.map((g) => [
      { value: g.text, header: true }, { value: number(g.count), numeric: true }, g.example,
      dateTime(g.last_received_at),
      ...(admin ? [html`<a class="govuk-link" href="/console/replies/${g.key}">Teach<span class="govuk-visually-hidden"> “${g.text}”</span></a>`] : []),
    ]),
  });
}

export async function page(ctx) {
  const text = ctx.query.get('text') || '';
  let explained = null;
  let refused = null;
  if (text) {
    try {
      explained = await get(`/v1/replies/explain${query({ text })}`);
    } catch (error) {
      if (error.status !== 422) throw error;
      refused = error;
    }
  }
  const { items } = await get('/v1/replies/unrecognised');
  render(ctx.main, html`<h1 class="govuk-heading-l">Replies</h1>
    <p class="govuk-body">How signpost reads tenants’ replies, and the replies it did not understand.</p>
    ${explainForm(text)}
    ${explained ? explanation(explained) : ''}
    <h2 class="govuk-heading-m">Not understood</h2>
    <p class="govuk-body">These replies got the general answer. ${ctx.user.role === 'admin'
      ? 'Teach one to signpost and the next tenant who writes it will be understood.'
      : 'An administrator can teach them to signpost.'}</p>
    ${unrecognised(items, ctx.user.role === 'admin')}`);
  const form = qs('#explain-form', ctx.main);
  if (refused) showErrors(form, refused);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(form);
    if (!v.text.trim()) {
      showErrors(form, [{ field: 'text', code: 'required', message: 'Enter a reply to explain' }]);
      return;
    }
    ctx.navigate(`/console/replies${query({ text: v.text })}`);
  });
}

function keywordChoices(keywords) {
  return keywords.filter((k) => k.action !== 'opt_out' && k.action !== 'opt_in').map((k) => ({
    value: k.word, label: k.word,
    hint: k.label ? `Help with ${k.label}` : (k.action === 'info' ? 'Says who is texting and how to stop' : undefined),
  }));
}

export async function map(ctx) {
  const [{ items }, { keywords }] = await Promise.all([
    get('/v1/replies/unrecognised?days=365&limit=500'), get('/v1/keywords')]);
  const group = items.find((g) => g.key === ctx.params.key);
  if (!group) {
    const e = new Error('not found');
    e.status = 404;
    throw e;
  }
  render(ctx.main, html`${backLink('/console/replies', 'All replies')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">Teach “${group.text}”</h1>
    <p class="govuk-body">${plural(group.count, 'tenant reply', 'tenant replies')} like
      “${group.example}”. Replies already answered are not handled again.</p>
    <form novalidate id="map-form">
      ${radios({ id: 'keyword', legend: 'Which keyword does it mean?', legendSize: 'm', options: keywordChoices(keywords),
        required: 'Choose the keyword it means' })}
      ${button('Teach it')}
    </form>
    </div></div>`);
  const form = qs('#map-form', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    if (!v.keyword) {
      showErrors(form, [{ field: 'keyword', code: 'required', message: 'Choose the keyword it means' }]);
      return;
    }
    try {
      const r = await post(`/v1/replies/unrecognised/${encodeURIComponent(group.key)}/map`, { keyword: v.keyword });
      await ctx.navigate('/console/replies', { flash: { message: `“${r.text}” now means ${r.keyword}.` } });
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

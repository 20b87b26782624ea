// Users (admins): who can sign in to the console. An admin invites a person by email and
// gets a link to pass on; the person sets their own password through it.
import { get, post, put } from '../api.js';
import {
  backLink, button, linkButton, radios, select, summaryList, table, tag, textInput, warning,
} from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';
import { dateTime, words } from '../format.js';

function stateTag(u) {
  if (!u.active) return tag('cancelled', 'Deactivated');
  if (!u.has_password) return tag('scheduled', 'Invited');
  return tag('running', 'Active');
}

export async function list(ctx) {
  const { items } = await get('/v1/users');
  render(ctx.main, html`<h1 class="govuk-heading-l">Users</h1>
    ${linkButton('Invite a user', '/console/users/new')}
    ${table({
      caption: 'People who can sign in', captionSize: 's', head: ['Name', 'Email address', 'Role', 'State', 'Last signed in'],
      rows: items.map((u) => [
        html`<a class="govuk-link" href="/console/users/${u.id}">${u.name || u.email}</a>`, u.email,
        u.partner_name || u.landlord_code ? `${words(u.role)} (${u.partner_name || u.landlord_code})` : words(u.role), stateTag(u),
        u.last_sign_in_at ? dateTime(u.last_sign_in_at) : 'Never',
      ]),
    })}`);
}

function inviteLink(ctx, u, first) {
  render(ctx.main, html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">${first ? `${u.email} is invited` : `A new link for ${u.email}`}</h1>
    <p class="govuk-body">Send them this link. It works once, until ${dateTime(u.invite_expires_at)}, and lets them set their own password.</p>
    <p class="govuk-body"><code class="sp-secret" id="invite-link">${u.invite_url}</code></p>
    ${warning('Anyone with the link can set the password, so send it only to them.')}
    <p class="govuk-body"><a class="govuk-link" href="/console/users/${u.id}">Go to ${u.name || u.email}</a> or
      <a class="govuk-link" href="/console/users">see all users</a>.</p>
  </div></div>`);
  const h1 = qs('h1', ctx.main);
  h1.setAttribute('tabindex', '-1');
  h1.focus();
}

export async function create(ctx) {
  const [{ items: partners }, { items: landlords }] = await Promise.all([get('/v1/partners'), get('/v1/landlords')]);
  render(ctx.main, html`${backLink('/console/users', 'All users')}
    <div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">Invite a user</h1>
    <form novalidate id="user" data-keep="user">
      ${textInput({ id: 'email', label: 'Email address', type: 'email', spellcheck: false, autocomplete: 'off' })}
      ${textInput({ id: 'name', label: 'Name (optional)', autocomplete: 'off' })}
      ${radios({ id: 'role', legend: 'Role', legendSize: 'm', required: 'Select a role', options: [
        { value: 'officer', label: 'Housing officer', hint: 'Tenants, campaigns, every help request and the outcomes.' },
        { value: 'partner', label: 'Partner staff or volunteer', hint: 'Only the help requests sent to their organisation.' },
        { value: 'admin', label: 'Administrator', hint: 'Everything, including partners and users.' }] })}
      ${select({ id: 'partner_id', label: 'Their organisation (partner staff only)', options: [{ value: '', label: 'Choose an organisation' },
        ...partners.filter((p) => p.active).map((p) => ({ value: String(p.id), label: p.name }))] })}
      ${select({ id: 'landlord', label: 'Their landlord (housing officers only)', hint: 'An officer of one landlord sees only its tenants; the whole consortium sees every landlord\'s.',
        options: [{ value: '', label: 'The whole consortium' }, ...landlords.map((l) => ({ value: l.code, label: l.name }))] })}
      ${button('Invite')}
    </form></div></div>`);
  const form = qs('#user', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const body = { email: v.email.trim(), role: v.role || undefined };
    if (v.name.trim()) body.name = v.name.trim();
    if (v.partner_id && v.role === 'partner') body.partner_id = Number(v.partner_id);
    if (v.landlord && v.role === 'officer') body.landlord = v.landlord;
    try {
      inviteLink(ctx, await post('/v1/users', body), true);
      history.replaceState(null, '', '/console/users/new');
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

export async function show(ctx) {
  const u = await get(`/v1/users/${encodeURIComponent(ctx.params.id)}`);
  const self = u.id === ctx.user.id;
  render(ctx.main, html`${backLink('/console/users', 'All users')}
    <span class="govuk-caption-l">User</span>
    <h1 class="govuk-heading-l">${u.name || u.email}</h1>
    <p class="govuk-body">${stateTag(u)}</p>
    ${summaryList([['Email address', u.email], ['Role', words(u.role)], u.partner_name ? ['Organisation', u.partner_name] : null,
      u.landlord_code ? ['Landlord', u.landlord_code] : null,
      ['Last signed in', u.last_sign_in_at ? dateTime(u.last_sign_in_at) : 'Never'],
      u.invite_expires_at ? ['Invitation link', `Works until ${dateTime(u.invite_expires_at)}`] : null])}
    <form novalidate id="actions"><div class="govuk-button-group">
      ${u.active ? button('Send a new link', { kind: 'secondary', name: 'action', value: 'invite' }) : ''}
      ${self ? '' : (u.active ? button('Deactivate', { kind: 'warning', name: 'action', value: 'deactivate' })
        : button('Reactivate', { kind: 'secondary', name: 'action', value: 'reactivate' }))}
    </div></form>
    <p class="govuk-body">A new link lets them set a new password, if they forgot it. Deactivating signs them out at once.</p>`);
  const form = qs('#actions', ctx.main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = e.submitter.value;
    try {
      if (action === 'invite') {
        inviteLink(ctx, await post(`/v1/users/${u.id}/invite`, {}), false);
        return;
      }
      const saved = await put(`/v1/users/${u.id}`, { active: action === 'reactivate' });
      await ctx.navigate(`/console/users/${u.id}`, { replace: true,
        flash: { message: `${saved.name || saved.email} is ${saved.active ? 'active again' : 'deactivated and signed out'}.` } });
    } catch (error) {
      if (!error.handled) showErrors(form, error);
    }
  });
}

// Signing in, taking up an invitation, signing out.
import { del, post } from '../api.js';
import { button, textInput } from '../components.js';
import { html, qs, render } from '../dom.js';
import { formValues, showErrors } from '../forms.js';

function passwordInput({ id, label, hint = '', autocomplete }) {
  return html`<div class="govuk-form-group govuk-password-input" data-module="govuk-password-input" data-field="${id}">
    <label class="govuk-label" for="${id}">${label}</label>
    ${hint ? html`<div id="${id}-hint" class="govuk-hint">${hint}</div>` : ''}
    <div class="govuk-input__wrapper govuk-password-input__wrapper">
      <input class="govuk-input govuk-password-input__input govuk-js-password-input-input" id="${id}" name="${id}"
        type="password" spellcheck="false" autocapitalize="none" autocomplete="${autocomplete}"
        ${hint ? html`aria-describedby="${id}-hint"` : ''}>
      <button type="button" class="govuk-button govuk-button--secondary govuk-password-input__toggle govuk-js-password-input-toggle"
        data-module="govuk-button" aria-controls="${id}" aria-label="Show password" hidden>Show</button>
    </div>
  </div>`;
}

// Where to go after signing in: the page that asked, if it is one of the console's.
function next(ctx) {
  const n = ctx.query.get('next');
  return n && n.startsWith('/console/') && !n.startsWith('//') ? n : null;
}

export async function signIn(ctx) {
  if (ctx.user) {
    await ctx.navigate(next(ctx) || ctx.home(), { replace: true });
    return;
  }
  render(ctx.main, html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">Sign in</h1>
    <form novalidate id="sign-in">
      ${textInput({ id: 'email', label: 'Email address', type: 'email', autocomplete: 'username', spellcheck: false, required: 'Enter your email address' })}
      ${passwordInput({ id: 'password', label: 'Password', autocomplete: 'current-password' })}
      ${button('Sign in')}
    </form>
    <p class="govuk-body">If you do not have an account, or have forgotten your password, ask an administrator to send you a link.</p>
  </div></div>`);
  const form = qs('#sign-in', ctx.main);
  qs('[data-field=password]', form).dataset.requiredMessage = 'Enter your password';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { email, password } = formValues(form);
    const missing = [!email.trim() && { field: 'email', code: 'required' }, !password && { field: 'password', code: 'required' }];
    if (missing.some(Boolean)) {
      showErrors(form, missing.filter(Boolean));
      return;
    }
    try {
      ctx.signedIn(await post('/v1/session', { email, password }, { signingIn: true }));
      await ctx.navigate(next(ctx) || ctx.home(), { replace: true });
    } catch (error) {
      showErrors(form, error);
    }
  });
}

function inviteBroken(ctx, message) {
  render(ctx.main, html`<h1 class="govuk-heading-l">This link does not work</h1>
    <p class="govuk-body">${message}</p>`);
}

export async function invite(ctx) {
  const token = location.hash.slice(1);
  if (!token) {
    inviteBroken(ctx, 'The link is not complete. Copy the whole link you were sent into your browser.');
    return;
  }
  let who;
  try {
    who = await post('/v1/invites/check', { token }, { signingIn: true });
  } catch (error) {
    inviteBroken(ctx, error.message);
    return;
  }
  render(ctx.main, html`<div class="govuk-grid-row"><div class="govuk-grid-column-two-thirds">
    <h1 class="govuk-heading-l">Create your password</h1>
    <p class="govuk-body">You have been invited to ${ctx.org} as <strong>${who.email}</strong>.</p>
    <form novalidate id="invite">
      ${passwordInput({ id: 'password', label: 'Password', autocomplete: 'new-password',
        hint: 'At least 10 characters, and not a common password. Three random words, such as “kettle river orange”, make a good one.' })}
      ${button('Save password and sign in')}
    </form>
  </div></div>`);
  const form = qs('#invite', ctx.main);
  qs('[data-field=password]', form).dataset.requiredMessage = 'Enter a password';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      ctx.signedIn(await post('/v1/invites/accept', { token, password: formValues(form).password }, { signingIn: true }));
      await ctx.navigate(ctx.home(), { replace: true, flash: { message: 'Your password is saved and you are signed in.' } });
    } catch (error) {
      showErrors(form, error);
    }
  });
}

export async function signOut(ctx) {
  try {
    await del('/v1/session');
  } catch (error) {
    if (error.handled) return;
  }
  ctx.signedIn(null);
  await ctx.navigate('/console/sign-in', { replace: true, flash: { message: 'You have signed out.' } });
}


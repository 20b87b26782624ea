// The console: one page whose content follows the URL. Every path under /console/ is
// served this page; the routes below say what each shows and who may see it. The server
// checks every call again: hiding a link here is for clarity, not for security.
import { initAll, ServiceNavigation } from '../vendor/govuk-frontend/govuk-frontend.min.js';
import { get, onSessionEnded, setCsrf } from './api.js';
import { banner, scrollables } from './components.js';
import { html, qs, render } from './dom.js';
import { restoreForms, stashForms } from './forms.js';
import * as account from './pages/account.js';
import * as campaigns from './pages/campaigns.js';
import * as campaignForm from './pages/campaign_form.js';
import * as help from './pages/help.js';
import * as outcomes from './pages/outcomes.js';
import * as partners from './pages/partners.js';
import * as refer from './pages/refer.js';
import * as replies from './pages/replies.js';
import * as tenants from './pages/tenants.js';
import * as users from './pages/users.js';

const STAFF = ['admin', 'officer'];
const EVERYONE = ['admin', 'officer', 'partner'];
const ADMIN = ['admin'];

const ROUTES = [
  ['/console/sign-in', account.signIn, null],
  ['/console/invite', account.invite, null],
  ['/console/sign-out', account.signOut, EVERYONE],
  ['/console/campaigns', campaigns.list, STAFF, 'campaigns'],
  ['/console/campaigns/new', campaignForm.create, STAFF, 'campaigns'],
  ['/console/campaigns/:id', campaigns.show, STAFF, 'campaigns'],
  ['/console/campaigns/:id/edit', campaignForm.edit, STAFF, 'campaigns'],
  ['/console/campaigns/:id/cancel', campaigns.cancel, STAFF, 'campaigns'],
  ['/console/tenants', tenants.search, STAFF, 'tenants'],
  ['/console/tenants/upload', tenants.upload, STAFF, 'tenants'],
  ['/console/tenants/:id', tenants.show, STAFF, 'tenants'],
  ['/console/tenants/:id/opt-out', tenants.optOut, STAFF, 'tenants'],
  ['/console/tenants/:id/erase', tenants.erase, STAFF, 'tenants'],
  ['/console/help-requests', help.list, EVERYONE, 'help'],
  ['/console/help-requests/:id', help.show, EVERYONE, 'help'],
  ['/console/help-requests/:id/resolve', help.resolve, EVERYONE, 'help'],
  ['/console/help-requests/:id/decline', help.decline, EVERYONE, 'help'],
  ['/console/refer', refer.page, EVERYONE, 'help'],
  ['/console/outcomes', outcomes.page, STAFF, 'outcomes'],
  ['/console/replies', replies.page, STAFF, 'replies'],
  ['/console/replies/:key', replies.map, ADMIN, 'replies'],
  ['/console/partners', partners.list, ADMIN, 'partners'],
  ['/console/partners/new', partners.create, ADMIN, 'partners'],
  ['/console/partners/:id', partners.edit, ADMIN, 'partners'],
  ['/console/users', users.list, ADMIN, 'users'],
  ['/console/users/new', users.create, ADMIN, 'users'],
  ['/console/users/:id', users.show, ADMIN, 'users'],
];

const NAV = [
  ['campaigns', 'Campaigns', '/console/campaigns', STAFF],
  ['tenants', 'Tenants', '/console/tenants', STAFF],
  ['help', 'Help requests', '/console/help-requests', EVERYONE],
  ['outcomes', 'Outcomes', '/console/outcomes', STAFF],
  ['replies', 'Replies', '/console/replies', STAFF],
  ['partners', 'Partners', '/console/partners', ADMIN],
  ['users', 'Users', '/console/users', ADMIN],
];

const state = { user: null, org: '', flash: null, leave: null, first: true };

function match(path) {
  const parts = path.replace(/\/+$/, '').split('/');
  for (const [pattern, page, roles, nav] of ROUTES) {
    const want = pattern.split('/');
    if (want.length !== parts.length) continue;
    const params = {};
    if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = decodeURIComponent(parts[i])), true) : w === parts[i]))) {
      return { page, roles, nav, params };
    }
  }
  return null;
}

function home(user) {
  return user && user.role === 'partner' ? '/console/help-requests' : '/console/campaigns';
}

function renderNav(current) {
  const el = qs('#nav');
  const u = state.user;
  render(qs('#who'), u ? html`Signed in as ${u.name || u.email}${u.partner_name ? html`, ${u.partner_name}` : ''}` : '');
  if (!u) {
    render(el, '');
    return;
  }
  const items = NAV.filter(([, , , roles]) => roles.includes(state.user.role));
  const item = (key, text, href) => (key === current
    ? html`<li class="govuk-service-navigation__item govuk-service-navigation__item--active">
        <a class="govuk-service-navigation__link" href="${href}" aria-current="page"><strong class="govuk-service-navigation__active-fallback">${text}</strong></a></li>`
    : html`<li class="govuk-service-navigation__item"><a class="govuk-service-navigation__link" href="${href}">${text}</a></li>`);
  render(el, html`<section class="govuk-service-navigation" aria-label="Menu" data-module="govuk-service-navigation">
    <div class="govuk-width-container"><div class="govuk-service-navigation__container">
      <nav aria-label="Menu" class="govuk-service-navigation__wrapper">
        <button type="button" class="govuk-service-navigation__toggle govuk-js-service-navigation-toggle" aria-controls="navigation" hidden>Menu</button>
        <ul class="govuk-service-navigation__list" id="navigation">
          ${items.map(([key, text, href]) => item(key, text, href))}
          ${item('sign-out', 'Sign out', '/console/sign-out')}
        </ul>
      </nav>
    </div></div>
  </section>`);
  new ServiceNavigation(qs('[data-module="govuk-service-navigation"]', el));
}

function showFlash() {
  const el = qs('#flash');
  const f = state.flash;
  state.flash = null;
  render(el, f ? banner(f.message, { success: f.success !== false, title: f.title }) : '');
}

function notFound(ctx) {
  render(ctx.main, html`<h1 class="govuk-heading-l">Page not found</h1>
    <p class="govuk-body">If you typed the web address, check it is correct.</p>
    <p class="govuk-body"><a class="govuk-link" href="${home(state.user)}">Go to the start</a></p>`);
}

function denied(ctx) {
  render(ctx.main, html`<h1 class="govuk-heading-l">You cannot see this page</h1>
    <p class="govuk-body">Your account does not give access to it. Ask an administrator if you need it.</p>
    <p class="govuk-body"><a class="govuk-link" href="${home(state.user)}">Go to the start</a></p>`);
}

function pageError(ctx, error) {
  if (error.handled) return;
  const missing = error.status === 404;
  render(ctx.main, html`<h1 class="govuk-heading-l">${missing ? 'Page not found' : 'Sorry, there is a problem'}</h1>
    <p class="govuk-body">${missing ? 'It may have been removed, or it is not one you can see.' : error.message}</p>
    <p class="govuk-body"><a class="govuk-link" href="${location.pathname + location.search}">Try again</a> or
    <a class="govuk-link" href="${home(state.user)}">go to the start</a>.</p>`);
}

function afterRender(main) {
  initAll({ scope: main });
  const h1 = qs('h1', main);
  document.title = `${h1 ? h1.textContent.trim() : 'signpost'} – ${state.org}`;
  if (!state.first) {
    const target = qs('.govuk-error-summary', main) || h1 || main;
    target.setAttribute('tabindex', '-1');
    target.focus();
  }
  state.first = false;
}

export async function navigate(path, { replace = false, flash = null } = {}) {
  if (flash) state.flash = flash;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  await route();
}

async function route() {
  if (state.leave) state.leave();
  state.leave = null;
  const path = location.pathname === '/console' ? '/console/' : location.pathname;
  const main = qs('#page');
  if (path === '/console/') {
    await navigate(state.user ? home(state.user) : '/console/sign-in', { replace: true });
    return;
  }
  const m = match(path);
  if (m && m.roles && !state.user) {
    await navigate(`/console/sign-in?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    return;
  }
  const ctx = {
    main, params: m ? m.params : {}, query: new URLSearchParams(location.search),
    user: state.user, org: state.org, navigate, home: () => home(state.user),
    signedIn: (session) => signedIn(session), onLeave: (fn) => { state.leave = fn; },
    refresh: () => route(),
  };
  renderNav(m && m.nav);
  showFlash();
  try {
    if (!m) notFound(ctx);
    else if (m.roles && !m.roles.includes(state.user.role)) denied(ctx);
    else await m.page(ctx);
  } catch (error) {
    pageError(ctx, error);
  }
  if (location.pathname !== path) return; // the page moved on by itself
  restoreForms(path + location.search, main);
  afterRender(main);
}

function signedIn(session) {
  state.user = session ? session.user : null;
  setCsrf(session ? session.csrf_token : null);
  if (session && session.org_name) state.org = session.org_name;
}

function sessionEnded() {
  if (!state.user) return; // another call found it first
  const here = location.pathname + location.search;
  stashForms(here, qs('#page'));
  signedIn(null);
  navigate(`/console/sign-in?next=${encodeURIComponent(here)}`, {
    replace: true,
    flash: { success: false, title: 'Signed out', message: 'Your session has ended. Sign in again to carry on: what you typed has been kept.' },
  });
}

// Links inside the console change the page without reloading it.
function onClick(event) {
  const a = event.target.closest('a[href]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
      event.shiftKey || event.altKey || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/console/') ||
      url.pathname.startsWith('/console/assets/')) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

async function start() {
  document.body.classList.add('govuk-frontend-supported');
  state.org = qs('.govuk-generic-header__homepage-link').textContent.trim();
  onSessionEnded(sessionEnded);
  try {
    signedIn(await get('/v1/session', { signingIn: true }));
  } catch {
    signedIn(null);
  }
  document.addEventListener('click', onClick);
  // Tables, whenever a page draws them.
  new MutationObserver(() => scrollables(qs('#page'))).observe(qs('#page'), { childList: true, subtree: true });
  window.addEventListener('popstate', () => route());
  await route();
}

start();

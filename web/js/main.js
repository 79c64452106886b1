// The app: hash routes (#/tasks, #/company…), each page for the roles that may see it.
// Hash routes keep every page address off the API's paths: the server only ever serves /.

import { h, show, notice, clipped } from './dom.js';
import * as session from './session.js';
import * as signIn from './pages/sign-in.js';
import * as tasks from './pages/tasks.js';
import * as accounting from './pages/accounting.js';
import * as company from './pages/company.js';
import * as notifications from './pages/notifications.js';
import * as analytics from './pages/analytics.js';
import * as admin from './pages/admin.js';

const EVERYONE = ['admin', 'manager', 'accountant', 'worker'];
const ROUTES = [
  { path: '/tasks', title: 'Tasks', roles: EVERYONE, page: tasks, nav: true },
  { path: '/accounting', title: 'My money', roles: EVERYONE, page: accounting, nav: true },
  { path: '/company', title: 'Company accounting', roles: ['admin', 'accountant'], page: company, nav: true },
  { path: '/company/accounts/:id', title: 'An account', roles: ['admin', 'accountant'], page: company.account },
  { path: '/notifications', title: 'Notifications', roles: EVERYONE, page: notifications, nav: true },
  { path: '/analytics', title: 'Analytics', roles: ['admin'], page: analytics, nav: true },
  { path: '/admin', title: 'Accounts', roles: ['admin'], page: admin, nav: true },
];
const HOME = '/tasks';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let leaving = new AbortController();
let flash = null;

function parse(hash) {
  const [path, search = ''] = hash.replace(/^#/, '').split('?');
  return { path: path || HOME, query: new URLSearchParams(search) };
}

function match(path) {
  for (const route of ROUTES) {
    const want = route.path.split('/');
    const got = path.split('/');
    if (want.length !== got.length) continue;
    const params = {};
    if (want.every((w, i) => (w.startsWith(':') ? (params[w.slice(1)] = decodeURIComponent(got[i])) : w === got[i]))) {
      return { route, params };
    }
  }
  return null;
}

export function go(path) { location.hash = `#${path}`; }

function roleNames(roles) {
  const plural = roles.map((r) => `${r}s`);
  return plural.length > 1 ? `${plural.slice(0, -1).join(', ')} and ${plural.at(-1)}` : plural[0];
}

function renderChrome(current) {
  const claims = session.claims();
  if (!claims) {
    show(nav);
    show(who);
    return;
  }
  show(nav, ROUTES.filter((r) => r.nav && r.roles.includes(claims.role)).map((r) =>
    h('a', { href: `#${r.path}`, 'aria-current': current?.startsWith(r.path) ? 'page' : null }, r.title)));
  const out = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    out.disabled = true;
    try { await session.signOut(); } catch { flash = 'Signed out here; the server could not be told (check the connection).'; }
  } }, 'Sign out');
  // A long address is cut (whole on hover); the role always shows.
  show(who, h('span', { 'data-testid': 'who' }, clipped(claims.email), ` (${claims.role})`), out);
}

async function route() {
  leaving.abort();
  leaving = new AbortController();
  const { path, query } = parse(location.hash);
  const claims = session.claims();

  if (path === '/sign-in') {
    if (claims) return go(query.get('next') || HOME);
    renderChrome(null);
    document.title = 'Sign in · aTES';
    const message = flash;
    flash = null;
    return signIn.render(main, { query, message, done: () => go(query.get('next') || HOME) });
  }
  if (!claims) {
    return go(`/sign-in?next=${encodeURIComponent(path)}`);
  }
  renderChrome(path);
  const found = match(path);
  if (!found) {
    document.title = 'Not found · aTES';
    show(main, h('h1', null, 'No such page'), h('p', null, h('a', { href: `#${HOME}` }, 'Back to the tasks')));
    return focusHeading();
  }
  const { route: r, params } = found;
  document.title = `${r.title} · aTES`;
  if (!r.roles.includes(claims.role)) {
    // The API refuses anyway; the page does not even ask it.
    show(main, h('h1', null, 'Not for your role'),
      notice(`${r.title} is for ${roleNames(r.roles)}. You are signed in as ${claims.email}, a ${claims.role}.`, 'refusal'),
      h('p', null, h('a', { href: `#${HOME}` }, 'Back to the tasks')));
    return focusHeading();
  }
  show(main);
  const rendering = r.page.render(main, { params, query, claims, signal: leaving.signal, go });
  focusHeading();
  await rendering;
}

function focusHeading() {
  // After a navigation, keyboard and screen-reader users start at the new page's heading.
  const heading = main.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

session.onChange((reason) => {
  if (reason === null) return; // signed in: the sign-in page moves on itself
  flash = reason;
  const { path } = parse(location.hash);
  if (path === '/sign-in') route();
  else go(`/sign-in?next=${encodeURIComponent(path)}`);
});

// The skip link names an element, but the hash is the router's: following it as a link would
// route to "#main", no page. It moves the focus to the page instead and leaves the address alone.
document.querySelector('a.skip')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => { route(); });
await session.restore();
route();

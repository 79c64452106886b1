// The app: hash routes (#/tasks, #/company…), each page for the roles that may see it.
// Hash routes keep every page address off the API's paths: the server only ever serves /.
// Two pages need no sign-in (`public`): applying, and an applicant's own application.

import { h, show, notice, clipped } from './dom.js';
import * as session from './session.js';
import * as signIn from './pages/sign-in.js';
import * as tasks from './pages/tasks.js';
import * as accounting from './pages/accounting.js';
import * as company from './pages/company.js';
import * as notifications from './pages/notifications.js';
import * as analytics from './pages/analytics.js';
import * as admin from './pages/admin.js';
import * as apply from './pages/apply.js';
import * as applicant from './pages/applicant.js';
import * as hiring from './pages/hiring.js';
import * as testBank from './pages/test-bank.js';
import * as account from './pages/account.js';
import * as order from './pages/order.js';
import * as orders from './pages/orders.js';
import * as serviceTypes from './pages/service-types.js';
import * as kits from './pages/kits.js';
import * as reports from './pages/reports.js';
import * as billing from './pages/billing.js';
import * as bets from './pages/bets.js';

// Employees have the tracker and its money; a client (a customer of the marketplace, SPEC Roles)
// is no employee and has none of it: their own account, messages and orders.
const EMPLOYEES = ['admin', 'manager', 'accountant', 'worker'];
const CLIENTS = ['client'];
// Hiring's staff: managers, and admins, who hold every manager's right (SPEC M1).
const HIRING_STAFF = ['manager', 'admin'];
// The marketplace's staff (service types, every order, kits and their audit: M2, M4, M5).
const MARKET_STAFF = ['manager', 'admin'];
// My orders: a client's own, or those a worker executes (M2).
const ORDERING = ['worker', 'client'];
// Who keeps the company's books: every invoice and statement, and the revenue (M7).
const BOOKKEEPERS = ['admin', 'accountant'];
const ROUTES = [
  { path: '/tasks', title: 'Tasks', roles: EMPLOYEES, page: tasks, nav: true },
  { path: '/accounting', title: 'My money', roles: EMPLOYEES, page: accounting, nav: true },
  { path: '/company', title: 'Company accounting', roles: ['admin', 'accountant'], page: company, nav: true },
  { path: '/company/accounts/:id', title: 'An account', roles: ['admin', 'accountant'], page: company.account },
  { path: '/billing/me', title: 'My earnings', roles: ['worker'], page: billing.earnings, nav: true },
  { path: '/billing/invoices', title: 'Invoices', roles: BOOKKEEPERS, page: billing, nav: true },
  { path: '/billing/statements', title: 'Statements', roles: BOOKKEEPERS, page: billing.statements, nav: true },
  { path: '/billing/revenue', title: 'Revenue', roles: BOOKKEEPERS, page: billing.revenue, nav: true },
  { path: '/order', title: 'Order a service', roles: CLIENTS, page: order, nav: true },
  // Before '/orders/:id', which it would match too.
  { path: '/orders/mine', title: 'My orders', roles: ORDERING, page: orders.mine, nav: true },
  { path: '/orders/:id', title: 'An order', roles: [...ORDERING, ...MARKET_STAFF], page: orders.detail },
  // Before '/billing/invoices/:id', which it would match too.
  { path: '/billing/invoices/mine', title: 'My invoices', roles: CLIENTS, page: billing.mine, nav: true },
  { path: '/billing/invoices/:id', title: 'An invoice', roles: [...CLIENTS, ...BOOKKEEPERS], page: billing.invoice },
  { path: '/notifications', title: 'Notifications', roles: [...EMPLOYEES, ...CLIENTS], page: notifications, nav: true },
  { path: '/analytics', title: 'Analytics', roles: ['admin'], page: analytics, nav: true },
  { path: '/admin', title: 'Accounts', roles: ['admin'], page: admin, nav: true },
  { path: '/hiring', title: 'Applications', roles: HIRING_STAFF, page: hiring, nav: true },
  { path: '/hiring/applications/:id', title: 'An application', roles: HIRING_STAFF, page: hiring.review },
  { path: '/hiring/bank', title: 'Test bank', roles: HIRING_STAFF, page: testBank, nav: true },
  { path: '/orders', title: 'Orders', roles: MARKET_STAFF, page: orders, nav: true },
  { path: '/service-types', title: 'Service types', roles: MARKET_STAFF, page: serviceTypes, nav: true },
  { path: '/supplies/kits', title: 'Kits', roles: MARKET_STAFF, page: kits, nav: true },
  { path: '/supplies/audit', title: 'Supplies audit', roles: MARKET_STAFF, page: kits.audit, nav: true },
  { path: '/qa-cases', title: 'QA cases', roles: MARKET_STAFF, page: reports, nav: true },
  // Bonuses are the managers' alone (SPEC M7: admins are refused).
  { path: '/billing/bonuses', title: 'Bonuses', roles: ['manager'], page: billing.bonuses, nav: true },
  // Bets are managers' alone, admins' neither (SPEC M8: kept apart).
  { path: '/bets', title: 'Bets', roles: ['manager'], page: bets, nav: true },
  { path: '/account', title: 'My account', roles: CLIENTS, page: account, nav: true },
  { path: '/apply', title: 'Apply', public: true, page: apply },
  // The mailed link carries the token; the page moves it out of the address at once.
  { path: '/application/:id/:token', title: 'Your application', public: true, page: applicant },
  { path: '/application/:id', title: 'Your application', public: true, page: applicant },
];

/** Where a role lands after signing in, and where "back" leads. */
function home(claims) {
  return claims?.role === 'client' ? '/account' : '/tasks';
}

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let leaving = new AbortController();
let flash = null;

function parse(hash) {
  const [path, search = ''] = hash.replace(/^#/, '').split('?');
  return { path, query: new URLSearchParams(search) };
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
  const mine = ROUTES.filter((r) => r.nav && r.roles.includes(claims.role));
  // The page's own entry, or the nearest one it lies under (the longest path that matches).
  const under = mine.filter((r) => current === r.path || current?.startsWith(`${r.path}/`))
    .sort((a, b) => b.path.length - a.path.length)[0];
  show(nav, mine.map((r) => h('a', { href: `#${r.path}`, 'aria-current': r === under ? 'page' : null }, r.title)));
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
  const { path: asked, query } = parse(location.hash);
  const claims = session.claims();
  const path = asked || home(claims);

  if (path === '/sign-in') {
    // After signing in, the page asked for, or the role's home (never a page of another role's).
    const next = () => query.get('next') || home(session.claims());
    if (claims) return go(next());
    renderChrome(null);
    document.title = 'Sign in · aTES';
    const message = flash;
    flash = null;
    return signIn.render(main, { query, message, done: () => go(next()) });
  }
  const found = match(path);
  if (found?.route.public) {
    renderChrome(path);
    document.title = `${found.route.title} · aTES`;
    show(main);
    const rendering = found.route.page.render(main, { params: found.params, query, claims, signal: leaving.signal, go });
    focusHeading();
    return rendering;
  }
  if (!claims) {
    // No page asked for (the bare address): after sign-in, the home of whoever signs in.
    return go(asked ? `/sign-in?next=${encodeURIComponent(path)}` : '/sign-in');
  }
  renderChrome(path);
  const back = h('p', null, h('a', { href: `#${home(claims)}` }, claims.role === 'client' ? 'Back to my account' : 'Back to the tasks'));
  if (!found) {
    document.title = 'Not found · aTES';
    show(main, h('h1', null, 'No such page'), back);
    return focusHeading();
  }
  const { route: r, params } = found;
  document.title = `${r.title} · aTES`;
  if (!r.roles.includes(claims.role)) {
    // The API refuses anyway; the page does not even ask it.
    show(main, h('h1', null, 'Not for your role'),
      notice(`${r.title} is for ${roleNames(r.roles)}. You are signed in as ${claims.email}, a ${claims.role}.`, 'refusal'),
      back);
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
  else go(path ? `/sign-in?next=${encodeURIComponent(path)}` : '/sign-in');
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

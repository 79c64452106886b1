// The signed-in session.
//
// The access token (15 minutes) lives only in this module's memory and is refreshed a minute
// before it expires; the refresh token is in the tab's `sessionStorage`, so a reload stays signed
// in and closing the tab forgets it. CSRF has nothing to ride on: no cookies (`credentials:
// 'omit'`), the bearer token is added by the app's script, and auth takes the refresh token in a
// JSON body. XSS is `sessionStorage`'s risk, but a script in the page could call the API as the
// user wherever the token lived, so the defence is keeping script out: no HTML built from strings
// (`h()`), a CSP of the app's own files and `connect-src 'self'`, no third-party code, a bucket
// serving exactly `web/`. A stolen refresh token is bounded by rotation: each refresh uses it up,
// and a used one coming back ends the whole session (`app::refresh` in auth). Not `localStorage`
// (kept after the browser closes); an `HttpOnly` cookie (`SameSite=Strict`, `Path=/auth`) is the
// step to take if the threat model tightens.

import { send, ApiError } from './http.js';

const REFRESH_KEY = 'ates.refresh_token';
/** Refresh this long before the access token expires (and never later than halfway). */
const EARLY_SECONDS = 60;

let access = null; // { token, claims, expiresAt (ms) }
let timer = null;
let refreshing = null;
const listeners = new Set();

/** The access token's claims: sub, email, role, scope, exp… (null when signed out). */
export function claims() { return access?.claims ?? null; }
export function token() { return access?.token ?? null; }
export function signedIn() { return access !== null; }

/** `listener(reason)` hears every sign-in (reason null) and end of the session (why). */
export function onChange(listener) { listeners.add(listener); }

function decodeClaims(jwt) {
  const part = jwt.split('.')[1] ?? '';
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function adopt(pair) {
  const expiresIn = Number(pair.expires_in) || 900;
  access = { token: pair.access_token, claims: decodeClaims(pair.access_token), expiresAt: Date.now() + expiresIn * 1000 };
  sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
  clearTimeout(timer);
  const delay = Math.max(Math.min(expiresIn - EARLY_SECONDS, expiresIn / 2), 5) * 1000;
  timer = setTimeout(() => { refresh().catch(() => {}); }, delay);
  listeners.forEach((l) => l(null));
}

function end(reason) {
  const was = access !== null || sessionStorage.getItem(REFRESH_KEY) !== null;
  access = null;
  clearTimeout(timer);
  sessionStorage.removeItem(REFRESH_KEY);
  if (was) listeners.forEach((l) => l(reason));
}

export async function signInWithPassword(email, password) {
  adopt(await send('POST', '/auth/sign-in', { body: { email, password } }));
}

export async function requestCode(email) {
  await send('POST', '/auth/sign-in/code/request', { body: { email } });
}

export async function signInWithCode(email, code) {
  adopt(await send('POST', '/auth/sign-in/code', { body: { email, code } }));
}

/** After a reload: a new access token from the tab's refresh token, if it has one. */
export async function restore() {
  if (!sessionStorage.getItem(REFRESH_KEY)) return false;
  try {
    return await refresh();
  } catch {
    return false;
  }
}

/** Trades the refresh token for a new pair (one exchange at a time); false if the session is over. */
export function refresh() {
  refreshing ??= exchange().finally(() => { refreshing = null; });
  return refreshing;
}

async function exchange() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (!refreshToken) {
    end('Please sign in.');
    return false;
  }
  try {
    adopt(await send('POST', '/auth/refresh', { body: { refresh_token: refreshToken } }));
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
      end(error.status === 403 ? 'This account cannot sign in any more.' : 'Your session has ended; please sign in again.');
      return false;
    }
    throw error; // the network: keep the token and try again later
  }
}

/** The session ends here and at the issuer: the refresh token is revoked. */
export async function signOut() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  try {
    if (refreshToken) await send('POST', '/auth/sign-out', { body: { refresh_token: refreshToken } });
  } finally {
    end('You are signed out.');
  }
}

/** The session ended elsewhere (a 401 that a refresh could not cure). */
export function expired() { end('Your session has ended; please sign in again.'); }

// A sleeping tab's timer fires late: catch up when it is looked at again.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && access && Date.now() > access.expiresAt - EARLY_SECONDS * 1000) {
    refresh().catch(() => {});
  }
});

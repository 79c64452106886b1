// Calls to the API as the signed-in person: the bearer token, one refresh on a 401, then sign-in.

import { send, ApiError } from './http.js';
import * as session from './session.js';

export { ApiError, query } from './http.js';

export async function api(method, path, options = {}) {
  try {
    return await send(method, path, { ...options, token: session.token() });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    // Refused before any function ran (the authorizer): safe to send again with a fresh token.
    if (await session.refresh()) {
      try {
        return await send(method, path, { ...options, token: session.token() });
      } catch (again) {
        if (again instanceof ApiError && again.status === 401) session.expired();
        throw again;
      }
    }
    throw error;
  }
}

export const get = (path, options) => api('GET', path, options);
export const post = (path, body, options = {}) => api('POST', path, { ...options, body });
export const put = (path, body, options = {}) => api('PUT', path, { ...options, body });
export const patch = (path, body, options = {}) => api('PATCH', path, { ...options, body });

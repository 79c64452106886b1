// One HTTP exchange with the API (same origin): JSON in, JSON out, every failure an ApiError.

export class ApiError extends Error {
  constructor({ status, title, detail = '', type = null }) {
    super(detail ? `${title}: ${detail}` : title);
    Object.assign(this, { status, title, detail, type });
  }
}

// API Gateway refuses with {"message": ...} before a function runs; say what that means.
const GATEWAY = {
  401: 'You are not signed in, or your session has ended.',
  403: 'Your role may not do this.',
  404: 'There is no such address in the API.',
  413: 'The request is too large.',
  429: 'Too many requests; wait a moment and try again.',
  500: 'The server failed; try again in a moment.',
  503: 'The service is unavailable; try again in a moment.',
};

function failure(response, data, text) {
  const status = response.status;
  if (data && typeof data === 'object' && (data.title || data.detail)) {
    // application/problem+json (RFC 9457), as every aTES function answers.
    return new ApiError({ status, title: data.title || response.statusText, detail: data.detail || '', type: data.type });
  }
  if (data && typeof data === 'object' && data.message) {
    return new ApiError({ status, title: data.message, detail: GATEWAY[status] || '' });
  }
  return new ApiError({ status, title: response.statusText || 'Error', detail: (text || '').slice(0, 300) || GATEWAY[status] || '' });
}

/** Sends a request; answers the JSON body (null when empty) or throws an ApiError. */
export async function send(method, path, { body, token, headers = {}, signal } = {}) {
  const all = { accept: 'application/json, application/problem+json', ...headers };
  if (body !== undefined) all['content-type'] = 'application/json';
  if (token) all.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      // The bearer token is the only credential; no cookie is ever sent or set.
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError({ status: 0, title: 'The server cannot be reached', detail: 'Check the connection and try again.' });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (response.ok) return data;
  throw failure(response, data, text);
}

/** "a=1&b=2" from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// The console is a client of the /v1 API like any other: every call goes through here.
// Requests that change something carry the session's CSRF token; the browser adds the
// Origin and the session cookie. Errors become ApiError, with the field the API named.

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || 'Something went wrong');
    this.status = status;
    this.code = error.code || 'error';
    this.field = error.field || null;
  }
}

const session = { csrf: null, onEnded: null };

export function setCsrf(token) {
  session.csrf = token;
}

// fn(error) runs when a call finds the session gone (signed out elsewhere, or idle too long).
export function onSessionEnded(fn) {
  session.onEnded = fn;
}

async function send(method, path, options) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  let body = options.body;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  try {
    return await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, {
      code: 'network',
      message: 'The console could not reach signpost. Check your connection and try again.',
    });
  }
}

export async function api(method, path, options = {}) {
  const response = await send(method, path, options);
  if (response.status === 204) return null;
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = options.text ? text : null;
    }
  }
  if (response.ok) return options.text ? text : data;
  const error = new ApiError(response.status, (data && data.error) || {
    message: `signpost answered ${response.status}; try again in a moment`,
  });
  const signedOut = response.status === 401 &&
    (error.code === 'session_expired' || error.code === 'unauthorized');
  if (signedOut && !options.signingIn && session.onEnded) {
    error.handled = true;
    session.onEnded(error);
  }
  throw error;
}

export const get = (path, options) => api('GET', path, options);
export const post = (path, body, options = {}) => api('POST', path, { ...options, body });
export const put = (path, body, options = {}) => api('PUT', path, { ...options, body });
export const patch = (path, body, options = {}) => api('PATCH', path, { ...options, body });
export const del = (path, options) => api('DELETE', path, options);

// "?a=1&b=2" from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

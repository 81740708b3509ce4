// The one place the page talks to the server. The session is an HttpOnly cookie the server
// sets; the page keeps only the CSRF token in memory and sends it on every state change.

let csrf = "";
const cache = new Map(); // GET path -> Promise of parsed JSON, dropped on sign-in/out
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function setCsrf(token) {
  csrf = token || "";
}

/** Called on any 401, so the page goes back to the sign-in form. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function clearCache() {
  cache.clear();
}

async function request(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith("/api/session")) onUnauthorized();
    const message = (data && (data.error || data.detail)) || `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, typeof message === "string" ? message : JSON.stringify(message), data);
  }
  return data;
}

/** GET with a per-session cache, so cards and charts asking for the same series share one request. */
export function get(path) {
  if (!cache.has(path)) {
    const p = request(path);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return cache.get(path);
}

export async function signIn(token) {
  clearCache();
  const out = await request("/api/session", { method: "POST", body: { token } });
  setCsrf(out?.csrf);
  return out;
}

export async function signOut() {
  try {
    await request("/api/session", { method: "DELETE" });
  } finally {
    setCsrf("");
    clearCache();
  }
}

export async function me() {
  const out = await request("/api/me");
  setCsrf(out?.csrf);
  return out;
}

/** POST with the CSRF token; drops the GET cache, since the answer changed what the GETs return. */
export async function post(path, body) {
  const out = await request(path, { method: "POST", body });
  clearCache();
  return out;
}

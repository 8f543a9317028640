// Calls to the Harbor API with the browser session: the sid cookie goes by itself; every unsafe method
// carries the CSRF token the last answer delivered in X-Harbor-CSRF-Token (Harbor's gorilla/csrf handshake).

let csrfToken = "";

// Sent to the window when the API no longer knows the session (it expired or was ended elsewhere).
export const SESSION_ENDED = "harbor-session-ended";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function call(method, path, { body, form, headers = {} } = {}) {
  const sent = { ...headers };
  if (method !== "GET" && method !== "HEAD") sent["X-Harbor-CSRF-Token"] = csrfToken;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (form !== undefined) sent["Content-Type"] = "application/x-www-form-urlencoded";
  const reply = await fetch(path, {
    method, headers: sent, credentials: "same-origin",
    body: form !== undefined ? new URLSearchParams(form) : body !== undefined ? JSON.stringify(body) : undefined,
  });
  csrfToken = reply.headers.get("X-Harbor-CSRF-Token") || csrfToken;
  return reply;
}

// Harbor's error envelope {"errors": [{"code", "message"}]}, or the status alone.
async function failure(reply) {
  let message = `${reply.status} ${reply.statusText}`;
  try {
    const errors = (await reply.json()).errors || [];
    if (errors.length) message = errors.map((e) => e.message || e.code).join("; ");
  } catch {
    // not JSON: the status says it
  }
  if (reply.status === 401) message = "Your session has ended: log in again.";
  if (reply.status === 403) message = `You are not allowed to do this (${message}).`;
  return new ApiError(reply.status, message);
}

// The API's answer under /api/v2.0: JSON (or null when empty), `total` from X-Total-Count for lists.
export async function api(method, path, options = {}) {
  const reply = await call(method, `/api/v2.0${path}`, options);
  if (reply.status === 401) dispatchEvent(new Event(SESSION_ENDED));
  if (!reply.ok) throw await failure(reply);
  const text = await reply.text();
  const data = text ? JSON.parse(text) : null;
  const total = reply.headers.get("X-Total-Count");
  if (Array.isArray(data) && total !== null) data.total = Number(total);
  return data;
}

export const get = (path) => api("GET", path);

// What the caller may do in a scope, as a Set of "resource:action" (GET /users/current/permissions).
export async function permissions(scope = "") {
  const query = scope ? `scope=${encodeURIComponent(scope)}&relative=true` : "relative=true";
  const held = await get(`/users/current/permissions?${query}`);
  return new Set(held.map((p) => `${p.resource}:${p.action}`));
}

// A repository name in a path: Harbor wants its slashes encoded twice (a%252Fb).
export const repoPath = (name) => encodeURIComponent(encodeURIComponent(name));

// A repository's name without its project part.
export const shortName = (repository, project) => repository.startsWith(`${project}/`)
  ? repository.slice(project.length + 1) : repository;

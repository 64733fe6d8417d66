// Shared by every page: the login session, calls to the API on this origin, and showing its errors.
//
// The access token lives in this module's memory and in sessionStorage, which belongs to this origin
// and this tab only: other sites' scripts cannot read it, it is never sent automatically the way a
// cookie would be (so no cross-site request forgery), and it is gone when the tab closes.

const SESSION_KEY = "coffee-order.session";
let session = null;

export function currentSession() {
  if (session === null) {
    try {
      session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    } catch {
      session = null;
    }
  }
  if (session && session.expiresAt <= Date.now()) {
    clearSession();
  }
  return session;
}

export function startSession(login) {
  session = {
    token: login.access_token,
    userId: login.user_id,
    role: login.role,
    expiresAt: Date.now() + login.expires_in * 1000,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function clearSession() {
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
}

export function homeFor(role) {
  return role === "staff" ? "board.html" : "orders.html";
}

// Sends the visitor to the login page unless they are logged in with `role`; returns the session.
export function requireSession(role) {
  const current = currentSession();
  if (!current) {
    location.replace("./");
    return null;
  }
  if (role && current.role !== role) {
    location.replace(homeFor(current.role));
    return null;
  }
  return current;
}

export function logOut() {
  clearSession();
  location.replace("./?reason=logged-out");
}

// An answer that was not 2xx, carrying the service's problem+json (title, detail, hint, errors).
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, { body, headers = {}, auth = true } = {}) {
  const request = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store" };
  if (body !== undefined) {
    request.headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(body);
  }
  if (auth) {
    const current = currentSession();
    if (current) {
      request.headers.Authorization = `Bearer ${current.token}`;
    }
  }
  let response;
  try {
    response = await fetch(path, request);
  } catch {
    throw new ApiError(0, {
      title: "No connection",
      detail: "The service could not be reached.",
      hint: "Check your connection and that the stack is running, then try again.",
    });
  }
  if (auth && response.status === 401) {
    // The token expired or the service's secret changed: the only way forward is a new login.
    clearSession();
    location.replace("./?reason=expired");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, data && typeof data === "object" ? data : {
      title: `HTTP ${response.status}`,
      detail: text.slice(0, 200) || response.statusText,
      hint: "Try again in a moment.",
    });
  }
  return data;
}

// Shows an error (ideally an ApiError) in `box`: what went wrong, each field's problem, and the hint.
export function showError(box, error) {
  const problem = error instanceof ApiError ? error.problem : { title: "Error", detail: String(error) };
  box.replaceChildren();
  const title = document.createElement("strong");
  title.className = "error-title";
  title.textContent = problem.title || "Error";
  const detail = document.createElement("span");
  detail.className = "error-detail";
  detail.textContent = ` ${problem.detail || ""}`;
  box.append(title, detail);
  for (const fieldError of Array.isArray(problem.errors) ? problem.errors : []) {
    const line = document.createElement("div");
    line.className = "error-field";
    line.textContent = `${fieldError.field}: ${fieldError.message}`;
    box.append(line);
  }
  if (problem.hint) {
    const hint = document.createElement("div");
    hint.className = "error-hint";
    hint.textContent = problem.hint;
    box.append(hint);
  }
  box.hidden = false;
}

export function hide(element) {
  element.hidden = true;
  element.replaceChildren();
}

// A random UUID (version 4); crypto.randomUUID exists only on HTTPS pages, getRandomValues everywhere.
export function newUuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function formatTime(iso) {
  // The API gives microseconds; Date parses milliseconds reliably.
  const date = new Date(String(iso).replace(/(\.\d{3})\d*Z$/, "$1Z"));
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

// The header every logged-in page shares: who is logged in, and a way out.
export function fillTopBar(current) {
  document.getElementById("who").textContent = `${current.userId} (${current.role})`;
  document.getElementById("logout-button").addEventListener("click", logOut);
}

// Follows a server-sent event stream of this origin, as EventSource does, but with the session's token in the
// Authorization header: EventSource cannot send headers, and a token in the URL would land in access logs.
// Reconnects after the stream's `retry` milliseconds with Last-Event-ID, so the service replays what was missed.
// `onOpen()` runs on every connect, `onEvent(name, data, id)` per event (data parsed as JSON), `onProblem(error)`
// when the service refuses the stream (an ApiError; 5xx and lost connections are retried, other refusals are not).
export function followStream(path, { onOpen = () => {}, onEvent, onProblem = () => {} }) {
  let lastEventId = null;
  let retryMs = 2000;
  let stopped = false;
  let controller = null;

  const reconnectLater = () => {
    if (!stopped) setTimeout(connect, retryMs);
  };

  async function connect() {
    controller = new AbortController();
    const headers = { Accept: "text/event-stream" };
    const current = currentSession();
    if (current) headers.Authorization = `Bearer ${current.token}`;
    if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
    let response;
    try {
      response = await fetch(path, { headers, cache: "no-store", signal: controller.signal });
    } catch {
      reconnectLater();
      return;
    }
    if (response.status === 401) {
      clearSession();
      location.replace("./?reason=expired");
      return;
    }
    const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
    if (!response.ok || type !== "text/event-stream") {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        problem = null;
      }
      onProblem(new ApiError(response.status, problem && typeof problem === "object" ? problem : {
        title: `HTTP ${response.status}`, detail: "The live updates could not be opened.", hint: "Reload the page.",
      }));
      if (response.status >= 500) reconnectLater();
      return;
    }
    onOpen();
    try {
      await readEvents(response.body, {
        onEvent: (name, data, id) => {
          if (id !== null) lastEventId = id;
          onEvent(name, data, id);
        },
        onRetry: (ms) => { retryMs = ms; },
      });
    } catch {
      // The connection broke (or stop() aborted it): reconnect unless stopped.
    }
    reconnectLater();
  }

  connect();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}

// Reads a text/event-stream body until it ends: the stream format of the HTML standard (CRLF, LF or CR line
// ends, comments ignored, an event dispatched at its blank line).
async function readEvents(body, { onEvent, onRetry }) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let name = "";
  let data = [];
  let id = null;
  const line = (text) => {
    if (text === "") {
      if (data.length > 0) {
        let parsed = null;
        try {
          parsed = JSON.parse(data.join("\n"));
        } catch {
          parsed = null;
        }
        if (parsed !== null) onEvent(name || "message", parsed, id);
      }
      name = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
    else if (field === "retry" && /^\d+$/.test(value)) onRetry(Number(value));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const parts = buffer.split(/\r\n|\r(?!$)|\n/);
    buffer = parts.pop();
    parts.forEach(line);
  }
}

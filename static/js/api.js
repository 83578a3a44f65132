// Shared helpers for the writer pages: calls to the JSON API with the Django session
// (the CSRF token comes from the page; no credential is ever stored by script), readable
// error messages, field errors next to their inputs, and a retry button.

export class ApiError extends Error {
  constructor(message, status, data) {
    super(message);
    this.status = status;
    this.data = data || {};
  }
}

export function csrfToken(form) {
  const input = form && form.querySelector('input[name="csrfmiddlewaretoken"]');
  if (input) return input.value;
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export function messageFor(status, data, response) {
  if (data && typeof data.detail === "string") {
    if (status === 401) return "Your session has ended. Please log in again.";
    if (status === 429) {
      const wait = response && response.headers.get("Retry-After");
      return wait ? `${data.detail} (try again in ${wait} s)` : data.detail;
    }
    return data.detail;
  }
  if (status === 401 || status === 403) return "Please log in again to do that.";
  if (status === 404) return "That could not be found. It may have been deleted.";
  if (status === 413) return "That is too large to send.";
  if (status >= 500) return `The server had a problem (error ${status}). Please try again.`;
  if (status === 400) return "Please correct the highlighted fields.";
  return `The request failed (error ${status}).`;
}

// fetch() wrapper: resolves with the parsed JSON (or null), rejects with an ApiError whose
// message a person can read, whether the network, the server or the input was at fault.
export async function request(method, url, { json, form, csrf } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== "GET") headers["X-CSRFToken"] = csrf || csrfToken();
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin", redirect: "error" });
  } catch (_err) {
    throw new ApiError("Could not reach the server. Check your connection and try again.", 0, {});
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) {
    try {
      data = await response.json();
    } catch (_err) {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(messageFor(response.status, data, response), response.status, data);
  return data;
}

// Field errors from DRF ({"field": ["msg"]}) or Django forms ({"field": [{"message"}]}),
// shown in the element named by the input's aria-describedby "*-error" id.
export function showFieldErrors(form, data, prefix = "") {
  clearFieldErrors(form);
  const rest = [];
  for (const [field, messages] of Object.entries(data || {})) {
    const text = (Array.isArray(messages) ? messages : [messages])
      .map((m) => (typeof m === "string" ? m : m && m.message ? m.message : JSON.stringify(m)))
      .join(" ");
    const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
    const slot = form.querySelector(`#${CSS.escape(prefix + field)}-error`);
    if (input && slot) {
      slot.textContent = text;
      input.setAttribute("aria-invalid", "true");
    } else {
      rest.push(text);
    }
  }
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
  return rest;
}

export function clearFieldErrors(form) {
  form.querySelectorAll(".field-error").forEach((el) => (el.textContent = ""));
  form.querySelectorAll('[aria-invalid="true"]').forEach((el) => el.removeAttribute("aria-invalid"));
}

// A readable message in `box` (a role="alert" element), with a Retry button when a retry
// makes sense (the network or the server failed, not the input).
export function showError(box, message, retry) {
  box.replaceChildren();
  const p = document.createElement("p");
  p.textContent = message;
  box.append(p);
  if (retry) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Retry";
    button.addEventListener("click", () => {
      hideError(box);
      retry();
    });
    box.append(button);
  }
  box.hidden = false;
}

export function hideError(box) {
  box.hidden = true;
  box.replaceChildren();
}

export function isRetryable(err) {
  return err instanceof ApiError && (err.status === 0 || err.status >= 500 || err.status === 429);
}

export function loginUrl() {
  return `/login/?next=${encodeURIComponent(location.pathname)}`;
}

// Append a "Log in again" link to an error box when the session has ended.
export function addLoginLink(box, err) {
  if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) return;
  const a = document.createElement("a");
  a.href = loginUrl();
  a.textContent = "Log in again";
  box.append(a);
}

export function setBusy(buttons, busy) {
  for (const b of buttons) b.disabled = busy;
}

// The editor: load a post (when editing), preview its Markdown through the server's own
// renderer and sanitiser, save a draft, publish now or at a chosen time, delete.
import {
  addLoginLink,
  clearFieldErrors,
  hideError,
  isRetryable,
  request,
  setBusy,
  showError,
  showFieldErrors,
} from "./api.js";

const form = document.querySelector("[data-editor]");
const statusLine = document.querySelector("[data-status]");
const loadError = document.querySelector("[data-load-error]");
const formError = form.querySelector("[data-form-error]");
const preview = form.querySelector("[data-preview]");
const body = form.elements.body;
const viewLink = form.querySelector("[data-view-link]");
const deleteButton = form.querySelector("[data-delete]");
const actionButtons = form.querySelectorAll("button[data-save], button[data-delete]");
let slug = form.dataset.slug || "";
let current = null; // the post as the API last returned it

const STATUS_TEXT = { draft: "Draft", scheduled: "Scheduled", published: "Published" };

function toLocalInput(iso) {
  // "2026-01-02T03:04" in the browser's time zone, for <input type="datetime-local">.
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function describe(post) {
  const status = STATUS_TEXT[post.status] || post.status;
  if (post.status === "scheduled") return `${status} for ${new Date(post.published_at).toLocaleString()}.`;
  if (post.status === "published") return `${status} ${new Date(post.published_at).toLocaleString()}.`;
  return `${status}, saved ${new Date(post.updated_at).toLocaleTimeString()}.`;
}

function fill(post) {
  current = post;
  slug = post.slug;
  form.elements.title.value = post.title;
  body.value = post.body;
  form.elements.tags.value = post.tags.join(", ");
  form.elements.excerpt.value = post.excerpt;
  form.elements.published_at.value = post.status === "scheduled" ? toLocalInput(post.published_at) : "";
  showSaved(post);
}

function showSaved(post) {
  statusLine.textContent = describe(post);
  const live = post.status !== "draft";
  form.querySelector('[data-save="draft"]').textContent = live ? "Unpublish to draft" : "Save draft";
  form.querySelector('[data-save="published"]').textContent = live ? "Update" : "Publish";
  viewLink.href = `/posts/${encodeURIComponent(post.slug)}/`;
  viewLink.hidden = false;
  deleteButton.hidden = false;
}

async function load() {
  hideError(loadError);
  form.setAttribute("aria-busy", "true");
  setBusy(actionButtons, true);
  try {
    fill(await request("GET", `/api/v1/posts/${encodeURIComponent(slug)}/`));
    setBusy(actionButtons, false);
  } catch (err) {
    showError(loadError, `The post could not be loaded. ${err.message}`, isRetryable(err) ? load : null);
    addLoginLink(loadError, err);
  } finally {
    form.removeAttribute("aria-busy");
  }
}

function payload(status) {
  const tags = form.elements.tags.value
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  const data = {
    title: form.elements.title.value,
    body: body.value,
    tags,
    excerpt: form.elements.excerpt.value,
    status,
  };
  const when = form.elements.published_at.value;
  if (status === "published" && when) {
    const date = new Date(when);
    if (Number.isNaN(date.getTime())) return { error: { published_at: ["Enter a valid date and time."] } };
    data.published_at = date.toISOString();
  } else if (status === "draft") {
    data.published_at = null;
  }
  return { data };
}

async function save(status) {
  hideError(formError);
  clearFieldErrors(form);
  const { data, error } = payload(status);
  if (error) {
    showFieldErrors(form, error);
    return;
  }
  setBusy(actionButtons, true);
  statusLine.textContent = status === "draft" ? "Saving…" : "Publishing…";
  try {
    const post = slug
      ? await request("PATCH", `/api/v1/posts/${encodeURIComponent(slug)}/`, { json: data })
      : await request("POST", "/api/v1/posts/", { json: data });
    const created = !current;
    fill(post);
    if (created) history.replaceState(null, "", `/write/${encodeURIComponent(post.slug)}/`);
    if (post.status !== "draft") {
      location.assign(`/posts/${encodeURIComponent(post.slug)}/`);
      return;
    }
  } catch (err) {
    statusLine.textContent = current ? describe(current) : "";
    const rest = err.status === 400 ? showFieldErrors(form, err.data) : [];
    if (err.status !== 400 || rest.length) {
      showError(formError, rest.join(" ") || err.message, isRetryable(err) ? () => save(status) : null);
      addLoginLink(formError, err);
    }
  } finally {
    setBusy(actionButtons, false);
  }
}

let confirmTimer = null;
async function remove() {
  if (!deleteButton.dataset.confirm) {
    // Two steps instead of a confirm() dialog: the button asks once more.
    deleteButton.dataset.confirm = "1";
    deleteButton.textContent = "Really delete?";
    clearTimeout(confirmTimer);
    confirmTimer = setTimeout(() => {
      delete deleteButton.dataset.confirm;
      deleteButton.textContent = "Delete";
    }, 5000);
    return;
  }
  hideError(formError);
  setBusy(actionButtons, true);
  try {
    await request("DELETE", `/api/v1/posts/${encodeURIComponent(slug)}/`);
    location.assign("/me/");
  } catch (err) {
    showError(formError, err.message, isRetryable(err) ? remove : null);
    addLoginLink(formError, err);
    setBusy(actionButtons, false);
  }
}

async function showPreview() {
  preview.hidden = false;
  body.hidden = true;
  preview.setAttribute("aria-busy", "true");
  preview.replaceChildren();
  try {
    const { html } = await request("POST", "/markdown-preview/", { json: { body: body.value } });
    // The server rendered and sanitised this with the same allow-list as saved posts
    // (nh3): no script, no event handler, no javascript: URL survives; the CSP forbids
    // inline script as well. Parsed into an inert document, then moved in.
    const doc = new DOMParser().parseFromString(html, "text/html");
    preview.replaceChildren(...doc.body.childNodes);
    if (!body.value.trim()) preview.textContent = "Nothing to preview yet.";
  } catch (err) {
    const box = document.createElement("div");
    box.className = "form-error";
    box.setAttribute("role", "alert");
    preview.replaceChildren(box);
    showError(box, `The preview could not be rendered. ${err.message}`, isRetryable(err) ? showPreview : null);
    addLoginLink(box, err);
  } finally {
    preview.removeAttribute("aria-busy");
  }
}

function showWrite() {
  preview.hidden = true;
  body.hidden = false;
  body.focus();
}

form.querySelectorAll("[data-show]").forEach((tab) => {
  tab.addEventListener("click", () => {
    form.querySelectorAll("[data-show]").forEach((t) => t.setAttribute("aria-pressed", String(t === tab)));
    if (tab.dataset.show === "preview") showPreview();
    else showWrite();
  });
});
form.querySelectorAll("[data-save]").forEach((button) => {
  button.addEventListener("click", () => save(button.dataset.save));
});
deleteButton.addEventListener("click", remove);
form.addEventListener("submit", (event) => event.preventDefault());

if (slug) load();
else form.elements.title.focus();

// The editor: load a post (when editing), preview its Markdown through the server's own
// renderer and sanitiser, add images to the body (button, drop, paste) and pick a cover,
// save a draft, publish now or at a chosen time, delete.
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
import { altFromName, uploadQueue } from "./images.js";

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
let cover = null; // the cover image to save with the post ({id, url, renditions, ...}) or null
const maxBytes = Number(form.dataset.maxBytes) || 0;

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
  setCover(post.cover_image);
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
    cover_image: cover ? cover.id : null,
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
  setBusy(actionButtons, true);
  if (bodyUploads.busy() || coverUploads.busy()) {
    // Saved without them, the post would lack the image still on its way.
    statusLine.textContent = "Waiting for the uploads to finish…";
    await Promise.all([bodyUploads.idle(), coverUploads.idle()]);
  }
  clearFieldErrors(form);
  const { data, error } = payload(status);
  if (error) {
    showFieldErrors(form, error, "ed-");
    setBusy(actionButtons, false);
    return;
  }
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
    const rest = err.status === 400 ? showFieldErrors(form, err.data, "ed-") : [];
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

// --- Images ---------------------------------------------------------------------------

// `![alt](url)` replaces the selection, as a paragraph of its own: an image inside a line
// of text would render inline, mid-sentence.
function insertImage(image, alt) {
  const start = body.selectionStart;
  const end = body.selectionEnd;
  const before = body.value.slice(0, start);
  const after = body.value.slice(end);
  const lead = !before || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
  const tail = !after || after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
  body.setRangeText(`${lead}![${alt}](${image.url})${tail}`, start, end, "end");
  if (!preview.hidden) showPreview();
}

const bodyUploads = uploadQueue({
  status: form.querySelector("[data-image-status]"),
  errors: form.querySelector("#ed-image-error"),
  trigger: form.querySelector("[data-image-button]"),
  maxBytes,
  done: (name) => `Added ${name} to the body.`,
  onUploaded: (image, file) => insertImage(image, altFromName(file.name)),
});

function hasFiles(event) {
  return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types).includes("Files");
}

const imageFile = form.querySelector("[data-image-file]");
form.querySelector("[data-image-button]").addEventListener("click", () => imageFile.click());
imageFile.addEventListener("change", () => {
  bodyUploads.add(Array.from(imageFile.files));
  imageFile.value = ""; // choosing the same file again is a new upload
});
body.addEventListener("dragover", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
  body.classList.add("drop-target");
});
body.addEventListener("dragleave", () => body.classList.remove("drop-target"));
body.addEventListener("drop", (event) => {
  body.classList.remove("drop-target");
  if (!hasFiles(event) || !event.dataTransfer.files.length) return;
  event.preventDefault();
  bodyUploads.add(Array.from(event.dataTransfer.files));
});
body.addEventListener("paste", (event) => {
  const files = event.clipboardData ? Array.from(event.clipboardData.files) : [];
  if (!files.length) return; // text: the browser pastes it
  event.preventDefault();
  bodyUploads.add(files);
});
// A file dropped beside the body would make the browser leave the page for it, and take
// the unsaved post with it.
for (const type of ["dragover", "drop"]) {
  document.addEventListener(type, (event) => {
    if (hasFiles(event) && !event.defaultPrevented) event.preventDefault();
  });
}

const coverThumb = form.querySelector("[data-cover-thumb]");
const coverNone = form.querySelector("[data-cover-none]");
const coverButton = form.querySelector("[data-cover-button]");
const coverRemove = form.querySelector("[data-cover-remove]");
const coverFile = form.querySelector("[data-cover-file]");

function setCover(image) {
  cover = image || null;
  coverThumb.hidden = !cover;
  coverNone.hidden = Boolean(cover);
  coverRemove.hidden = !cover;
  coverButton.textContent = cover ? "Replace cover image" : "Upload cover image";
  if (cover) {
    // The smallest rendition is plenty for a thumbnail; small images have none.
    const smallest = (cover.renditions || [])[0];
    coverThumb.src = smallest ? smallest.url : cover.url;
    coverThumb.width = cover.width;
    coverThumb.height = cover.height;
    coverThumb.alt = cover.alt ? `Cover image: ${cover.alt}` : "The cover image";
  } else {
    coverThumb.removeAttribute("src");
  }
}

const coverUploads = uploadQueue({
  status: form.querySelector("[data-cover-status]"),
  errors: form.querySelector("#ed-cover_image-error"),
  trigger: coverButton,
  maxBytes,
  done: (name) => `${name} is the cover; save to keep it.`,
  onUploaded: (image) => setCover(image),
});
coverButton.addEventListener("click", () => coverFile.click());
coverFile.addEventListener("change", () => {
  coverUploads.add(Array.from(coverFile.files).slice(0, 1));
  coverFile.value = "";
});
coverRemove.addEventListener("click", () => {
  setCover(null);
  coverButton.focus(); // the Remove button has just disappeared
});

// --- Wiring ---------------------------------------------------------------------------

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

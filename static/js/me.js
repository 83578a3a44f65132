// "My posts": the caller's posts of every status from /api/v1/auth/me/posts/.
import { addLoginLink, hideError, isRetryable, request, showError } from "./api.js";

const list = document.querySelector("[data-my-posts]");
const loadError = document.querySelector("[data-load-error]");
const statusLine = document.querySelector("[data-status]");
const pages = document.querySelector("[data-pages]");
const prev = pages.querySelector('[data-page="prev"]');
const next = pages.querySelector('[data-page="next"]');
const LABELS = { draft: "Draft", scheduled: "Scheduled", published: "Published" };
let filter = "";
let links = { next: null, previous: null };

function item(post) {
  const li = document.createElement("li");
  li.className = "my-post";
  const title = document.createElement("a");
  title.className = "my-post-title";
  title.href = `/posts/${encodeURIComponent(post.slug)}/`;
  title.textContent = post.title;
  const badge = document.createElement("span");
  badge.className = `badge badge-${post.status}`;
  badge.textContent = LABELS[post.status] || post.status;
  const meta = document.createElement("p");
  meta.className = "meta";
  const when = post.published_at ? new Date(post.published_at) : new Date(post.updated_at);
  const verb = post.status === "draft" ? "edited" : post.status === "scheduled" ? "goes live" : "published";
  meta.textContent = `${verb} ${when.toLocaleString()} · ${post.like_count} likes · ${post.comment_count} comments`;
  const edit = document.createElement("a");
  edit.href = `/write/${encodeURIComponent(post.slug)}/`;
  edit.textContent = "Edit";
  edit.setAttribute("aria-label", `Edit “${post.title}”`);
  const head = document.createElement("div");
  head.className = "my-post-head";
  head.append(title, badge);
  li.append(head, meta, edit);
  return li;
}

async function load(url) {
  hideError(loadError);
  list.setAttribute("aria-busy", "true");
  statusLine.textContent = "Loading…";
  try {
    const data = await request("GET", url);
    list.replaceChildren(...data.results.map(item));
    statusLine.textContent = data.count
      ? `${data.count} post${data.count === 1 ? "" : "s"}.`
      : filter
        ? `No ${LABELS[filter].toLowerCase()} posts.`
        : "No posts yet. Write your first one!";
    links = { next: data.next, previous: data.previous };
    pages.hidden = !data.next && !data.previous;
    prev.disabled = !data.previous;
    next.disabled = !data.next;
  } catch (err) {
    statusLine.textContent = "";
    showError(loadError, `Your posts could not be loaded. ${err.message}`, isRetryable(err) ? () => load(url) : null);
    addLoginLink(loadError, err);
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function firstPage() {
  const params = new URLSearchParams({ page_size: "20" });
  if (filter) params.set("status", filter);
  return `/api/v1/auth/me/posts/?${params}`;
}

document.querySelectorAll("[data-filter]").forEach((tab) => {
  tab.addEventListener("click", () => {
    filter = tab.dataset.filter;
    document.querySelectorAll("[data-filter]").forEach((t) => t.setAttribute("aria-pressed", String(t === tab)));
    load(firstPage());
  });
});
prev.addEventListener("click", () => links.previous && load(links.previous));
next.addEventListener("click", () => links.next && load(links.next));
load(firstPage());

// Like, follow and comment on the reader pages for a signed-in reader.
import { addLoginLink, clearFieldErrors, hideError, isRetryable, request, showError, showFieldErrors } from "./api.js";

function errorBoxNear(el) {
  return el.closest("article, section, main").querySelector("[data-action-error]");
}

async function toggleLike(button) {
  const box = errorBoxNear(button);
  const liked = button.getAttribute("aria-pressed") === "true";
  button.disabled = true;
  if (box) hideError(box);
  try {
    const url = `/api/v1/posts/${encodeURIComponent(button.dataset.like)}/like/`;
    const state = await request(liked ? "DELETE" : "POST", url);
    button.setAttribute("aria-pressed", String(state.liked));
    button.querySelector("[data-like-label]").textContent = state.liked ? "Liked" : "Like";
    button.querySelector("[data-like-count]").textContent = String(state.like_count);
  } catch (err) {
    if (box) {
      showError(box, err.message, isRetryable(err) ? () => toggleLike(button) : null);
      addLoginLink(box, err);
    }
  } finally {
    button.disabled = false;
  }
}

async function toggleFollow(button) {
  const box = errorBoxNear(button);
  const following = button.getAttribute("aria-pressed") === "true";
  const name = button.textContent.replace(/^(Follow|Following)\s*/, "");
  button.disabled = true;
  if (box) hideError(box);
  try {
    const url = `/api/v1/users/${encodeURIComponent(button.dataset.follow)}/follow/`;
    const state = await request(following ? "DELETE" : "POST", url);
    button.setAttribute("aria-pressed", String(state.following));
    button.textContent = `${state.following ? "Following" : "Follow"} ${name}`;
    const count = document.querySelector("[data-follower-count]");
    if (count) {
      count.textContent = String(state.follower_count);
      document.querySelector("[data-follower-plural]").textContent = state.follower_count === 1 ? "" : "s";
    }
  } catch (err) {
    if (box) {
      showError(box, err.message, isRetryable(err) ? () => toggleFollow(button) : null);
      addLoginLink(box, err);
    }
  } finally {
    button.disabled = false;
  }
}

function commentItem(comment) {
  // Built with textContent: the comment body is user text and is never parsed as HTML.
  const li = document.createElement("li");
  li.className = "comment";
  li.id = `comment-${comment.id}`;
  const meta = document.createElement("p");
  meta.className = "meta";
  const author = document.createElement("a");
  author.href = `/authors/${encodeURIComponent(comment.author.username)}/`;
  author.textContent = comment.author.display_name || comment.author.username;
  const time = document.createElement("time");
  time.dateTime = comment.created_at;
  time.textContent = new Date(comment.created_at).toLocaleString();
  meta.append(author, " · ", time);
  const body = document.createElement("p");
  body.className = "comment-body";
  body.textContent = comment.body;
  li.append(meta, body);
  return li;
}

async function submitComment(form) {
  const box = form.querySelector("[data-form-error]");
  const button = form.querySelector('button[type="submit"]');
  const textarea = form.elements.body;
  hideError(box);
  clearFieldErrors(form);
  if (!textarea.value.trim()) {
    showFieldErrors(form, { body: ["Write something first."] }, "comment-");
    return;
  }
  button.disabled = true;
  try {
    const url = `/api/v1/posts/${encodeURIComponent(form.dataset.commentForm)}/comments/`;
    const comment = await request("POST", url, { json: { body: textarea.value } });
    const list = document.querySelector("[data-comment-list]");
    const empty = list.querySelector("[data-no-comments]");
    if (empty) empty.remove();
    list.append(commentItem(comment));
    const count = document.querySelector("[data-comment-count]");
    count.textContent = String(list.querySelectorAll(".comment").length);
    textarea.value = "";
  } catch (err) {
    const rest = err.status === 400 ? showFieldErrors(form, err.data, "comment-") : [];
    if (err.status !== 400 || rest.length) {
      showError(box, rest.join(" ") || err.message, isRetryable(err) ? () => submitComment(form) : null);
      addLoginLink(box, err);
    }
  } finally {
    button.disabled = false;
  }
}

document.querySelectorAll("[data-like]").forEach((button) => {
  button.addEventListener("click", () => toggleLike(button));
});
document.querySelectorAll("[data-follow]").forEach((button) => {
  button.addEventListener("click", () => toggleFollow(button));
});
document.querySelectorAll("[data-comment-form]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitComment(form);
  });
});

// Uploads to the media library (POST /api/v1/media/) for the writer pages: one file at a
// time, with progress, and messages a person can read when the server refuses one.
import { ApiError, addLoginLink, csrfToken, isRetryable, messageFor } from "./api.js";

export function mebibytes(bytes) {
  const value = bytes / (1024 * 1024);
  return value >= 1 ? `${Number(value.toFixed(1))} MiB` : `${bytes} bytes`;
}

// The alt text an upload starts with: its file name without the extension, without the
// characters that would end Markdown's ![alt](url) early.
export function altFromName(name) {
  const alt = String(name || "")
    .replace(/\.[^.]*$/, "")
    .replace(/[[\]()]/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300);
  return alt || "image";
}

function uploadMessage(status, data, xhr, maxBytes) {
  if (status === 400 && data) {
    const messages = [].concat(data.file || data.alt || []).filter((m) => typeof m === "string");
    if (messages.length) return messages.join(" ");
  }
  if (status === 413) {
    return maxBytes ? `That file is too large: the largest image accepted is ${mebibytes(maxBytes)}.` : "That file is too large to upload.";
  }
  return messageFor(status, data, { headers: { get: (name) => xhr.getResponseHeader(name) } });
}

// Resolves with the API's Image, rejects with an ApiError. XMLHttpRequest rather than
// fetch(): only it reports how much of the request body has been sent.
export function uploadImage(file, { alt = "", maxBytes = 0, onProgress, onSent } = {}) {
  return new Promise((resolve, reject) => {
    const data = new FormData();
    data.append("file", file, file.name || "image");
    if (alt) data.append("alt", alt);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/media/");
    xhr.responseType = "json";
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    if (onSent) xhr.upload.addEventListener("load", onSent);
    xhr.addEventListener("load", () => {
      const type = xhr.getResponseHeader("Content-Type") || "";
      const body = type.includes("application/json") ? xhr.response : null;
      if (xhr.status === 201 && body) resolve(body);
      else reject(new ApiError(uploadMessage(xhr.status, body, xhr, maxBytes), xhr.status, body));
    });
    xhr.addEventListener("error", () => {
      reject(new ApiError("Could not reach the server. Check your connection and try again.", 0, {}));
    });
    xhr.send(data);
  });
}

// A queue of uploads shown in one status box (a <progress>, a percentage and a live
// label) with their errors in one error slot. Files added while one is uploading wait
// their turn: one request at a time keeps within the upload rate and shows one bar.
//   status: element holding progress, [data-percent], [data-label]
//   errors: the slot beside the control that started the uploads
//   trigger: that control (marked aria-invalid while an error shows)
//   done(name): the label once a file is stored
//   onUploaded(image, file): called with each stored image, in order
export function uploadQueue({ status, errors, trigger, maxBytes = 0, done = (name) => `Uploaded ${name}.`, onUploaded }) {
  const bar = status.querySelector("progress");
  const percent = status.querySelector("[data-percent]");
  const label = status.querySelector("[data-label]");
  const waiting = [];
  let running = null;
  let total = 0;
  let started = 0;

  function show(fraction, text) {
    status.hidden = false;
    const value = Math.round(fraction * 100);
    bar.value = value;
    percent.textContent = `${value}%`;
    if (text !== undefined) label.textContent = text;
  }

  function clearErrors() {
    errors.replaceChildren();
    trigger.removeAttribute("aria-invalid");
  }

  function showError(file, err) {
    const p = document.createElement("p");
    p.textContent = `“${file.name || "image"}”: ${err.message}`;
    if (isRetryable(err)) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "secondary";
      retry.textContent = "Retry";
      retry.addEventListener("click", () => {
        p.remove();
        if (!errors.firstChild) trigger.removeAttribute("aria-invalid");
        add([file]);
      });
      p.append(" ", retry);
    }
    addLoginLink(p, err);
    errors.append(p);
    trigger.setAttribute("aria-invalid", "true");
  }

  async function one(file) {
    started += 1;
    const name = `“${file.name || "image"}”`;
    const count = total > 1 ? ` (${started} of ${total})` : "";
    if (maxBytes && file.size > maxBytes) {
      showError(file, new ApiError(`It is ${mebibytes(file.size)}; the largest image accepted is ${mebibytes(maxBytes)}.`, 413));
      show(0, `${name} was not uploaded.`);
      return;
    }
    show(0, `Uploading ${name}${count}…`);
    try {
      const image = await uploadImage(file, {
        alt: altFromName(file.name),
        maxBytes,
        onProgress: (fraction) => show(fraction),
        onSent: () => show(1, `Processing ${name}${count}…`),
      });
      show(1, done(name + count));
      onUploaded(image, file);
    } catch (err) {
      show(0, `${name} was not uploaded.`);
      showError(file, err);
    }
  }

  async function drain() {
    while (waiting.length) await one(waiting.shift());
    running = null;
  }

  function add(files) {
    if (!files.length) return;
    if (!running) {
      // A new batch: its count starts afresh and earlier errors go.
      total = 0;
      started = 0;
      clearErrors();
    }
    waiting.push(...files);
    total += files.length;
    if (!running) running = drain();
  }

  return {
    add,
    // Resolves once every file added so far has been uploaded or refused.
    idle: () => running || Promise.resolve(),
    busy: () => running !== null,
  };
}

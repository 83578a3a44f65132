// Log in and sign up. Login posts the page's own form (Django session + CSRF) and gets
// JSON back; sign-up calls the API's register endpoint, then logs in the same way.
// No token is returned to or kept by script: the session cookie is HttpOnly.
import { hideError, isRetryable, request, showError, showFieldErrors, clearFieldErrors } from "./api.js";

function safeNext(value, fallback) {
  // Same-site paths only ("/x", not "//host" or "http://...").
  return value && value.startsWith("/") && !value.startsWith("//") ? value : fallback;
}

async function logIn(form, username, password, next) {
  const data = new FormData();
  data.set("csrfmiddlewaretoken", form.querySelector('input[name="csrfmiddlewaretoken"]').value);
  data.set("username", username);
  data.set("password", password);
  data.set("next", next);
  return request("POST", "/login/", { form: data, csrf: data.get("csrfmiddlewaretoken") });
}

const loginForm = document.querySelector("[data-login-form]");
if (loginForm) {
  const errorBox = loginForm.querySelector("[data-form-error]");
  const submit = async () => {
    hideError(errorBox);
    clearFieldErrors(loginForm);
    const button = loginForm.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const next = safeNext(loginForm.elements.next.value, "/me/");
      const result = await logIn(loginForm, loginForm.elements.username.value, loginForm.elements.password.value, next);
      location.assign(safeNext(result && result.next, "/me/"));
    } catch (err) {
      const data = err.data || {};
      const general = showFieldErrors(loginForm, Object.fromEntries(Object.entries(data).filter(([k]) => k !== "__all__" && k !== "detail")), "id_");
      const all = (data.__all__ || []).map((e) => e.message);
      const message = [...all, ...general].join(" ") || err.message;
      showError(errorBox, message, isRetryable(err) ? submit : null);
      button.disabled = false;
    }
  };
  loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
}

const signupForm = document.querySelector("[data-signup-form]");
if (signupForm) {
  const errorBox = signupForm.querySelector("[data-form-error]");
  const button = signupForm.querySelector('button[type="submit"]');
  button.disabled = false;
  const submit = async () => {
    hideError(errorBox);
    clearFieldErrors(signupForm);
    button.disabled = true;
    const f = signupForm.elements;
    const next = safeNext(signupForm.dataset.next, "/write/");
    try {
      await request("POST", "/api/v1/auth/register/", {
        json: {
          username: f.username.value.trim(),
          email: f.email.value.trim(),
          display_name: f.display_name.value.trim(),
          password: f.password.value,
        },
        csrf: f.csrfmiddlewaretoken.value,
      });
    } catch (err) {
      const rest = err.status === 400 ? showFieldErrors(signupForm, err.data, "su-") : [];
      showError(errorBox, rest.join(" ") || err.message, isRetryable(err) ? submit : null);
      button.disabled = false;
      return;
    }
    try {
      await logIn(signupForm, f.username.value.trim(), f.password.value, next);
      location.assign(next);
    } catch (_err) {
      // The account exists; only the automatic login failed.
      location.assign(`/login/?next=${encodeURIComponent(next)}`);
    }
  };
  signupForm.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
}

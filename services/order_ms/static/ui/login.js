// The login page: both fields must be filled (a warning says which is missing), Enter submits.
import { api, currentSession, hide, homeFor, showError, startSession } from "./api.js";

const form = document.getElementById("login-form");
const userId = document.getElementById("user-id");
const password = document.getElementById("password");
const warning = document.getElementById("login-warning");
const errorBox = document.getElementById("login-error");
const notice = document.getElementById("notice");
const buttons = form.querySelectorAll("button");

const NOTICES = {
  expired: "Your session has ended. Please log in again.",
  "logged-out": "You are logged out.",
};

const existing = currentSession();
if (existing) {
  location.replace(homeFor(existing.role));
}
const reason = new URLSearchParams(location.search).get("reason");
if (NOTICES[reason]) {
  notice.textContent = NOTICES[reason];
  notice.hidden = false;
}

// The warning for empty fields, or null when both are filled.
function missingWarning() {
  const noId = userId.value.trim() === "";
  const noPassword = password.value === "";
  userId.classList.toggle("invalid", noId);
  password.classList.toggle("invalid", noPassword);
  userId.setAttribute("aria-invalid", String(noId));
  password.setAttribute("aria-invalid", String(noPassword));
  if (noId && noPassword) return "Please enter your ID and password.";
  if (noId) return "Please enter your ID.";
  if (noPassword) return "Please enter your password.";
  return null;
}

function credentials() {
  return { user_id: userId.value.trim(), password: password.value };
}

async function submit(createAccount) {
  hide(errorBox);
  const message = missingWarning();
  if (message) {
    warning.textContent = message;
    warning.hidden = false;
    (userId.value.trim() === "" ? userId : password).focus();
    return;
  }
  warning.hidden = true;
  buttons.forEach((button) => { button.disabled = true; });
  try {
    if (createAccount) {
      await api("POST", "/order-ms/users", { body: credentials(), auth: false });
    }
    const login = await api("POST", "/order-ms/login", { body: credentials(), auth: false });
    startSession(login);
    location.replace(homeFor(login.role));
  } catch (error) {
    showError(errorBox, error);
    password.select();
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
}

// A form submit covers both the button and Enter in either field.
form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit(false);
});
document.getElementById("signup-button").addEventListener("click", () => submit(true));
for (const input of [userId, password]) {
  input.addEventListener("input", () => {
    if (!warning.hidden && missingWarning() === null) {
      warning.hidden = true;
    }
  });
}

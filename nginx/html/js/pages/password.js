// shomei portal — パスワード変更. The rule (8–16 half-width alphanumerics, both new passwords
// equal) is checked here for quick feedback and again by the server, whose 422 field messages
// are shown under the same fields.

import { api } from '../api.js';
import { fromTemplate, hide, showKey, showLines } from '../dom.js';

const ALNUM = /^[A-Za-z0-9]*$/;

/** The message key for what is wrong with a new password, or null. */
export function newPasswordProblem(value) {
  if (!value) return 'password.err.required_new';
  if (!ALNUM.test(value)) return 'password.err.charset';
  if (value.length < 8 || value.length > 16) return 'password.err.length';
  return null;
}

const FIELDS = {
  current_password: { input: '#current-password', error: '#current-password-error' },
  new_password: { input: '#new-password', error: '#new-password-error' },
  new_password_confirm: { input: '#new-password-confirm', error: '#new-password-confirm-error' },
};

export function passwordPage(view, params, ctx) {
  const root = fromTemplate('tpl-password');
  const q = (sel) => root.querySelector(sel);
  const form = q('#password-form');
  const submit = q('#password-submit');
  const success = q('#password-success');
  const errorBox = q('#password-error');
  const input = (name) => q(FIELDS[name].input);
  const errorEl = (name) => q(FIELDS[name].error);

  function clearMessages() {
    hide(success);
    hide(errorBox);
    for (const name of Object.keys(FIELDS)) {
      hide(errorEl(name));
      input(name).removeAttribute('aria-invalid');
    }
  }

  /** Mark a field wrong, with one of our keys or the server's text. */
  function fieldProblem(name, key, text) {
    if (key) showKey(errorEl(name), key);
    else showLines(errorEl(name), [text]);
    input(name).setAttribute('aria-invalid', 'true');
  }

  function focusFirstInvalid() {
    const first = Object.keys(FIELDS).find((n) => input(n).getAttribute('aria-invalid') === 'true');
    if (first) input(first).focus();
  }

  function check() {
    const current = input('current_password').value;
    const next = input('new_password').value;
    const confirm = input('new_password_confirm').value;
    let ok = true;
    if (!current) {
      fieldProblem('current_password', 'password.err.required_current');
      ok = false;
    }
    let problem = newPasswordProblem(next);
    if (!problem && current && next === current) problem = 'password.err.same';
    if (problem) {
      fieldProblem('new_password', problem);
      ok = false;
    }
    if (!confirm) {
      fieldProblem('new_password_confirm', 'password.err.required_confirm');
      ok = false;
    } else if (confirm !== next) {
      fieldProblem('new_password_confirm', 'password.err.mismatch');
      ok = false;
    }
    return ok;
  }

  function setBusy(busy) {
    submit.disabled = busy;
    submit.setAttribute('data-i18n', busy ? 'password.submitting' : 'password.submit');
    showKey(submit, busy ? 'password.submitting' : 'password.submit');
  }

  function showServerError(err) {
    const general = [];
    for (const f of err.fields) {
      if (FIELDS[f.field]) fieldProblem(f.field, null, f.message);
      else general.push(f.message);
    }
    showLines(errorBox, [err.displayMessage(), ...general]);
    focusFirstInvalid();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessages();
    if (!check()) {
      showKey(errorBox, 'password.err.summary');
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    try {
      await api('POST', '/api/auth/password', {
        current_password: input('current_password').value,
        new_password: input('new_password').value,
        new_password_confirm: input('new_password_confirm').value,
      });
      form.reset();
      showKey(success, 'password.success');
      success.focus();
    } catch (err) {
      // A 401 with field messages is a wrong current password; without, the session is gone.
      if (err.status === 401 && err.fields.length === 0) {
        ctx.sessionLost();
        return;
      }
      showServerError(err);
    } finally {
      setBusy(false);
    }
  });

  // Clear a field's message as soon as it is edited.
  for (const name of Object.keys(FIELDS)) {
    input(name).addEventListener('input', () => {
      if (input(name).getAttribute('aria-invalid')) {
        hide(errorEl(name));
        input(name).removeAttribute('aria-invalid');
      }
    });
  }

  // Tells a password manager whose password changes; an attribute, so form.reset() keeps it.
  q('#password-username').setAttribute('value', ctx.loginId());
  success.tabIndex = -1;
  view.appendChild(root);
  input('current_password').focus();
  return {};
}

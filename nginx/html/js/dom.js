// shomei portal — small DOM helpers shared by the pages.
// Text always goes in through textContent / text nodes, never as HTML.

import { t } from './i18n.js';

/**
 * Show one of our own messages in el. Without params the element keeps the key in data-i18n,
 * so the message follows a later language switch.
 */
export function showKey(el, key, params) {
  el.textContent = t(key, params);
  if (params) el.removeAttribute('data-i18n');
  else el.setAttribute('data-i18n', key);
  el.hidden = false;
}

/** Show lines of text (e.g. messages from the server, already localized) in el. */
export function showLines(el, lines) {
  el.removeAttribute('data-i18n');
  el.replaceChildren();
  lines
    .filter((line) => line)
    .forEach((line, i) => {
      if (i > 0) el.appendChild(document.createElement('br'));
      el.appendChild(document.createTextNode(String(line)));
    });
  el.hidden = false;
}

/** Hide el and drop what it said. */
export function hide(el) {
  el.hidden = true;
  el.removeAttribute('data-i18n');
  el.replaceChildren();
}

/** A new element with a class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A deep copy of the <template id=id>'s content. */
export function fromTemplate(id) {
  const tpl = document.getElementById(id);
  return tpl.content.firstElementChild.cloneNode(true);
}

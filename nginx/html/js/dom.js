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

// ---------------------------------------------------------------- dates

const SLASH_DATE = /^(\d{4})\/(\d{2})\/(\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when y/m/d (numbers or digit strings) is a day of the calendar. */
export function validDate(y, m, d) {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return (
    date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d)
  );
}

/** "2026/11/22" (API and hash) → "2026-11-22" (<input type=date>); anything else → "". */
export function slashToIso(s) {
  const m = SLASH_DATE.exec(s || '');
  return m && validDate(m[1], m[2], m[3]) ? `${m[1]}-${m[2]}-${m[3]}` : '';
}

/** "2026-11-22" → "2026/11/22"; anything else → "". */
export function isoToSlash(s) {
  const m = ISO_DATE.exec(s || '');
  return m && validDate(m[1], m[2], m[3]) ? `${m[1]}/${m[2]}/${m[3]}` : '';
}

// ---------------------------------------------------------------- lists

/**
 * Fill a pager container (全 N 件中 a～b 件を表示, 前へ, page / pages, 次へ) for a list answer
 * {total, page, per_page}; goPage(n) is called with the page asked for.
 */
export function renderPager(container, data, goPage) {
  container.replaceChildren();
  const perPage = data.per_page > 0 ? data.per_page : 100;
  const total = Math.max(0, data.total | 0);
  const pages = Math.max(1, Math.ceil(total / perPage));
  const page = Math.min(Math.max(1, data.page | 0), pages);

  const summary = el('span', 'pager-summary');
  if (total === 0) {
    summary.textContent = t('pager.summary_empty');
  } else {
    summary.textContent = t('pager.summary', {
      total: total.toLocaleString(),
      from: ((page - 1) * perPage + 1).toLocaleString(),
      to: Math.min(page * perPage, total).toLocaleString(),
    });
  }

  const nav = el('div', 'pager-nav');
  nav.setAttribute('role', 'navigation');
  // the pagers above and below a list are two landmarks: each needs a name of its own
  const label = container.dataset.pager === 'bottom' ? 'pager.label_bottom' : 'pager.label';
  nav.setAttribute('aria-label', t(label));
  const prev = el('button', 'btn btn-small pager-prev', t('pager.prev'));
  prev.type = 'button';
  prev.disabled = page <= 1;
  prev.addEventListener('click', () => goPage(page - 1));
  const where = el('span', 'pager-page', t('pager.page', { page, pages }));
  const next = el('button', 'btn btn-small pager-next', t('pager.next'));
  next.type = 'button';
  next.disabled = page >= pages;
  next.addEventListener('click', () => goPage(page + 1));
  nav.append(prev, where, next);

  container.append(summary, nav);
  container.hidden = false;
}

/** The number of pages of a list answer. */
export function pageCount(data) {
  const perPage = data.per_page > 0 ? data.per_page : 100;
  return Math.max(1, Math.ceil((data.total | 0) / perPage));
}

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
 * Fill a pager container (全 N 件中 a～b 件を表示, 最初, 前へ, page / pages, 次へ, 最後) for a list
 * answer {total, total_estimated, page, per_page, next, prev}. The lists page by key: goPage(n,
 * cursor) is called with the page number to show and where it starts: {after} (次へ), {before}
 * (前へ), {last: true} (最後) or {} (最初). Past 10,000 rows the total is PostgreSQL's estimate:
 * it reads 約 N and the page count with it.
 */
export function renderPager(container, data, goPage) {
  container.replaceChildren();
  const perPage = data.per_page > 0 ? data.per_page : 100;
  const total = Math.max(0, data.total | 0);
  const about = data.total_estimated === true;
  const pages = Math.max(1, Math.ceil(total / perPage));
  const page = Math.min(Math.max(1, data.page | 0), pages);

  const summary = el('span', 'pager-summary');
  if (total === 0) {
    summary.textContent = t('pager.summary_empty');
  } else {
    const shown = Array.isArray(data.items) ? data.items.length : perPage;
    const from = data.next == null && data.prev != null ? Math.max(1, total - shown + 1) : (page - 1) * perPage + 1;
    summary.textContent = t(about ? 'pager.summary_about' : 'pager.summary', {
      total: total.toLocaleString(),
      from: from.toLocaleString(),
      to: Math.min(from + Math.max(shown, 1) - 1, total).toLocaleString(),
    });
  }

  const nav = el('div', 'pager-nav');
  nav.setAttribute('role', 'navigation');
  // the pagers above and below a list are two landmarks: each needs a name of its own
  const label = container.dataset.pager === 'bottom' ? 'pager.label_bottom' : 'pager.label';
  nav.setAttribute('aria-label', t(label));
  const button = (cls, label, disabled, onClick) => {
    const b = el('button', `btn btn-small ${cls}`, t(label));
    b.type = 'button';
    b.disabled = disabled;
    b.addEventListener('click', onClick);
    return b;
  };
  const atStart = data.prev == null;
  const atEnd = data.next == null;
  const first = button('pager-first', 'pager.first', atStart, () => goPage(1, {}));
  const prev = button('pager-prev', 'pager.prev', atStart, () =>
    goPage(Math.max(1, page - 1), page - 1 <= 1 ? {} : { before: data.prev }),
  );
  const where = el('span', 'pager-page', t(about ? 'pager.page_about' : 'pager.page', { page, pages }));
  const next = button('pager-next', 'pager.next', atEnd, () =>
    goPage(Math.min(pages, page + 1), { after: data.next }),
  );
  const last = button('pager-last', 'pager.last', atEnd, () => goPage(pages, { last: true }));
  nav.append(first, prev, where, next, last);

  container.append(summary, nav);
  container.hidden = false;
}

/** The cursor of a list's hash (after, before, last): where its page starts (renderPager). */
export function readCursor(params) {
  const page = Number.parseInt(params.get('page') || '1', 10);
  if (!(page > 1)) return { after: '', before: '', last: false };
  return {
    after: (params.get('after') || '').slice(0, 600),
    before: (params.get('before') || '').slice(0, 600),
    last: params.get('last') === '1',
  };
}

/** The cursor as query parameters (for the hash and the API); none on page 1. */
export function cursorQuery(state) {
  if (!(state.page > 1)) return { after: '', before: '', last: '' };
  if (state.last) return { after: '', before: '', last: '1' };
  return { after: state.after || '', before: state.after ? '' : state.before || '', last: '' };
}

/** A list state moved to page n starting at cursor (renderPager's goPage). */
export function atPage(state, n, cursor) {
  return { ...state, after: '', before: '', last: false, ...cursor, page: n };
}

/** The number of pages of a list answer. */
export function pageCount(data) {
  const perPage = data.per_page > 0 ? data.per_page : 100;
  return Math.max(1, Math.ceil((data.total | 0) / perPage));
}

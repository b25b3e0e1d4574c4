// shomei portal — 利用者: the ▼一括操作 menu (NRA 4-2, 7-3). A small registry: each entry is
//   { id, labelKey, hintKey?, view: 'any' | 'active' | 'deleted', selection: bool, visible?(), run(users) }
// view: offered in the normal list ('active'), in the 削除済み view ('deleted') or both;
// selection: it acts on the users checked in the list, and is disabled while none is (its hint
// says why); run() receives the checked users ({id, family_name, given_name, email, …}) in list
// order ([] for an entry without selection). visible() hides an entry (e.g. a feature missing).
// Entries are added with add(); the menu is a disclosure of plain buttons (no ARIA menu roles,
// so Tab and Enter work as everywhere else).

import { el } from '../dom.js';
import { t } from '../i18n.js';

/**
 * Build the menu inside container. selectedUsers() gives the checked users; deletedView()
 * whether the 削除済み view is shown. Returns { add(entry), refresh(), close(), destroy() }.
 */
export function bulkMenu(container, { selectedUsers, deletedView }) {
  const entries = [];
  const toggle = el('button', 'btn btn-secondary bulk-toggle');
  toggle.type = 'button';
  toggle.id = 'users-bulk';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-controls', 'users-bulk-list');
  const label = el('span');
  label.setAttribute('data-i18n', 'bulk.open');
  toggle.append(el('span', 'bulk-caret', '▼'), label);
  toggle.firstChild.setAttribute('aria-hidden', 'true');
  const list = el('ul', 'bulk-list');
  list.id = 'users-bulk-list';
  list.hidden = true;
  container.append(toggle, list);

  function close() {
    list.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
  }

  function render() {
    const users = selectedUsers();
    const deleted = deletedView();
    const items = [];
    for (const e of entries) {
      if (e.visible && !e.visible()) continue;
      if (e.view === 'active' && deleted) continue;
      if (e.view === 'deleted' && !deleted) continue;
      const li = el('li');
      const b = el('button', 'bulk-item');
      b.type = 'button';
      b.dataset.entry = e.id;
      const needs = Boolean(e.selection);
      b.textContent = needs && users.length ? t('bulk.with_count', { label: t(e.labelKey), n: users.length }) : t(e.labelKey);
      li.appendChild(b);
      if (needs && users.length === 0) {
        b.disabled = true;
        const hint = el('span', 'bulk-hint', t('bulk.select_first'));
        hint.id = `bulk-hint-${e.id}`;
        b.setAttribute('aria-describedby', hint.id);
        li.appendChild(hint);
      } else if (e.hintKey) {
        li.appendChild(el('span', 'bulk-hint', t(e.hintKey)));
      }
      b.addEventListener('click', () => {
        close();
        e.run(needs ? selectedUsers() : []);
      });
      items.push(li);
    }
    list.replaceChildren(...items);
    label.textContent = t('bulk.open');
  }

  toggle.addEventListener('click', () => {
    const open = list.hidden;
    if (open) render();
    list.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) {
      const first = list.querySelector('button:not([disabled])');
      if (first) first.focus();
    }
  });
  list.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      close();
      toggle.focus();
    }
  });
  const outside = (ev) => {
    if (!list.hidden && !container.contains(ev.target)) close();
  };
  document.addEventListener('click', outside);

  return {
    /** Register an entry (see the top of this file); entries show in the order added. */
    add(entry) {
      entries.push(entry);
      if (!list.hidden) render();
    },
    /** Re-render after the selection, the view or the language changed. */
    refresh() {
      label.textContent = t('bulk.open');
      if (!list.hidden) render();
    },
    close,
    destroy() {
      document.removeEventListener('click', outside);
    },
  };
}

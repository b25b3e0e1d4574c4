// shomei portal — the one table of a refused CSV file's errors, by line: 行 / 項目 / 内容. The
// CSV一括登録, CSV一括失効 and CSV一括利用者マスター削除 dialogs each hold a placeholder
//   <div class="import-lines" data-line-errors id="…" data-caption="i18n key"></div>
// which mountLineErrors() fills from <template id="tpl-line-errors">; fillLineErrors() shows a
// file's {line, column?, field, message} list in it (hidden when there is none).

import { el, fromTemplate } from '../dom.js';

/** Build the table inside every placeholder under root that has not been built yet. */
export function mountLineErrors(root) {
  for (const wrap of root.querySelectorAll('[data-line-errors]:not([data-built])')) {
    const table = fromTemplate('tpl-line-errors');
    table.querySelector('caption').setAttribute('data-i18n', wrap.dataset.caption);
    wrap.replaceChildren(table);
    wrap.dataset.built = '1';
    wrap.hidden = true;
  }
}

/** A file's errors ({line, column?, field, message}) into the table inside wrap; shown when any. */
export function fillLineErrors(wrap, fields) {
  const body = wrap.querySelector('tbody');
  body.replaceChildren();
  for (const f of fields) {
    const tr = el('tr');
    tr.appendChild(el('td', 'col-num', f.line ?? ''));
    tr.appendChild(el('td', '', f.column ? `${f.column}: ${f.field}` : f.field));
    tr.appendChild(el('td', '', f.message));
    body.appendChild(tr);
  }
  wrap.hidden = fields.length === 0;
}

// shomei portal — screens whose feature comes in a later release (証明書管理, 利用者, 設定).

import { fromTemplate } from '../dom.js';

/** A page function for the placeholder screen of feature name. */
export function placeholderPage(name) {
  return (view) => {
    const root = fromTemplate('tpl-placeholder');
    root.classList.add(`page-${name}`);
    root.querySelector('[data-slot="title"]').setAttribute('data-i18n', `placeholder.${name}.title`);
    root.querySelector('[data-slot="desc"]').setAttribute('data-i18n', `placeholder.${name}.desc`);
    view.appendChild(root);
    return {};
  };
}

/* i18n.h: Japanese and English texts of the API: messages and operation-history labels. */
#ifndef SHOMEI_I18N_H
#define SHOMEI_I18N_H

enum i18n_lang {
	I18N_JA,
	I18N_EN,
	I18N__MAX,
};

enum msg {
	MSG_REQUIRED,
	MSG_LOGIN_ID_FORMAT,
	MSG_PASSWORD_RULE,
	MSG_PASSWORD_CONFIRM,
	MSG_PASSWORD_CURRENT,
	MSG_PASSWORD_SAME,
	MSG_DATE_FORMAT,
	MSG_DATE_RANGE,
	MSG_PAGE,
	MSG_ACTION,
	MSG_TEXT_TOO_LONG,
	MSG_NOT_STRING,
	MSG_INVALID_CREDENTIALS,
	MSG_LOCKED_OUT,
	MSG_NO_CERTIFICATE,
	MSG_CSRF,
	MSG_ORIGIN,
	MSG_UNAUTHORIZED,
	MSG_NOT_FOUND,
	MSG_METHOD,
	MSG_TOO_LARGE,
	MSG_BAD_JSON,
	MSG_VALIDATION,
	MSG_INTERNAL,
	MSG_UNAVAILABLE,
	MSG__MAX,
};

/* The language an Accept-Language header prefers (Japanese unless English comes first). */
enum i18n_lang i18n_lang(const char *accept_language);

const char *i18n_msg(enum msg m, int lang);

/* The label of an operation-history action code, NULL when the code is unknown. */
const char *i18n_action_label(const char *action, int lang);

/* The action code at index i (for listing them), NULL past the end. */
const char *i18n_action_code(int i);

/* The English form of a fixed history detail (ログイン成功 …), or detail itself. */
const char *i18n_detail(const char *detail, int lang);

#endif

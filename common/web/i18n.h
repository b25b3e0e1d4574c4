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
	/* users and devices (NRA 4-1) */
	MSG_NAME,
	MSG_KANA,
	MSG_NAME_EN,
	MSG_CN_TOO_LONG,
	MSG_EMAIL,
	MSG_NOT_LIST,
	MSG_NOT_OBJECT,
	MSG_DEVICES_COUNT,
	MSG_DEVICE_CODE,
	MSG_DEVICE_TWICE,
	MSG_DATETIME_FORMAT,
	MSG_VALIDITY_ORDER,
	MSG_VALIDITY_PAST,
	MSG_VALIDITY_SPAN,
	MSG_VALIDITY_CA,
	MSG_NO_VALIDITY_PERIOD,
	MSG_NO_ORG_UNITS,
	MSG_NO_INSTALL_RESTRICTION,
	MSG_ORG_UNIT,
	MSG_RESTRICTION_DEVICE,
	MSG_RESTRICTION_MODE,
	MSG_RESTRICTION_EMPTY,
	MSG_MAC,
	MSG_RESTRICTION_ITEM,
	MSG_QUOTA,
	MSG_ISSUE_NOT_ALLOWED,
	MSG_USER_DELETED,
	MSG_STATUS_LIST,
	MSG_DEVICE_LIST,
	MSG_SORT,
	/* distribution */
	MSG_NOT_AVAILABLE,
	MSG_NOT_IOS,
	/* tenant settings and the end-user download site (NRA 4-3) */
	MSG_NOT_BOOL,
	MSG_ALLOWLIST_FORMAT,
	MSG_ALLOWLIST_PREFIX,
	MSG_ALLOWLIST_HOSTBITS,
	MSG_ALLOWLIST_TWICE,
	MSG_ALLOWLIST_COUNT,
	MSG_ALLOWLIST_ANY,
	MSG_NO_NOTIFY_USERS,
	MSG_IP_REFUSED,
	MSG_DL_RESTRICTED,
	MSG_RESTRICTION_FAILED,
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

/* i18n.h: Japanese and English texts of the API's messages, and the language a request prefers. */
#ifndef SHOMEI_I18N_H
#define SHOMEI_I18N_H

enum i18n_lang {
	I18N_JA,
	I18N_EN,
	I18N__MAX,
};

/* A text in every language of the API (messages, labels). */
struct i18n_text {
	const char *text[I18N__MAX];
};

/* The messages shared by the web layer and several services; a service declares its own. */
extern const struct i18n_text msg_required;
extern const struct i18n_text msg_login_id_format;
extern const struct i18n_text msg_password_rule;
extern const struct i18n_text msg_date_format;
extern const struct i18n_text msg_date_range;
extern const struct i18n_text msg_page;
extern const struct i18n_text msg_cursor;     /* after/before is not a cursor */
extern const struct i18n_text msg_cursor_one; /* more than one of after, before, last */
extern const struct i18n_text msg_flag;
extern const struct i18n_text msg_text_too_long;
extern const struct i18n_text msg_not_string;
extern const struct i18n_text msg_encoding;
extern const struct i18n_text msg_invalid_credentials;
extern const struct i18n_text msg_locked_out;
extern const struct i18n_text msg_origin;
extern const struct i18n_text msg_unauthorized;
extern const struct i18n_text msg_not_found;
extern const struct i18n_text msg_method;
extern const struct i18n_text msg_too_large;
extern const struct i18n_text msg_bad_json;
extern const struct i18n_text msg_validation;
extern const struct i18n_text msg_internal;
extern const struct i18n_text msg_unavailable;
extern const struct i18n_text msg_not_list;
extern const struct i18n_text msg_mac;
extern const struct i18n_text msg_restriction_item;

/* The language an Accept-Language header prefers (Japanese unless English comes first). */
enum i18n_lang i18n_lang(const char *accept_language);

/* The text of m in lang ("" for NULL). */
const char *i18n_msg(const struct i18n_text *m, int lang);

#endif

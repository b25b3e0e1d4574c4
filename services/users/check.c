/* check.c: validation of a user and its devices (NRA 4-1), every failing field reported. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "core/json.h"
#include "web/valid.h"
#include "domain/device.h"

#define JST_OFFSET (9 * 3600)

const char *const user_field_names[UF__MAX] = {
	"family_name",   "given_name", "family_name_kana", "given_name_kana", "family_name_en",
	"given_name_en", "email",
};

/* The manual's words, for history details. */
const char *const user_field_labels[UF__MAX] = {
	"氏名(姓)",         "氏名(名)",         "氏名(姓)フリガナ", "氏名(名)フリガナ",
	"氏名(姓)英語表記", "氏名(名)英語表記", "メールアドレス",
};

static const struct valid_field user_fields[UF__MAX] = {
	{"family_name", valid_name, 1, &msg_name, 0},
	{"given_name", valid_name, 1, &msg_name, 0},
	{"family_name_kana", valid_kana, 1, &msg_kana, 0},
	{"given_name_kana", valid_kana, 1, &msg_kana, 0},
	{"family_name_en", valid_name_en, 1, &msg_name_en, 0},
	{"given_name_en", valid_name_en, 1, &msg_name_en, 0},
	{"email", valid_email, 1, &msg_email, 0},
};

static int
valid_user_lang(const char *v)
{
	return strcmp(v, "ja") == 0 || strcmp(v, "en") == 0 ? 0 : 1;
}

static const struct valid_field lang_field = {"lang", valid_user_lang, 1, &msg_user_lang, 0};

enum dfield { DF_DEVICE, DF_EMAIL, DF_FROM, DF_TO, DF_O, DF_OU1, DF_OU2, DF__MAX };

static const struct valid_field device_fields[DF__MAX] = {
	{"device", device_valid_code, 1, &msg_device_code, 0},
	{"email", valid_email, 0, &msg_email, 0},
	{"valid_from", valid_datetime, 0, &msg_datetime_format, 0},
	{"valid_to", valid_datetime, 0, &msg_datetime_format, 0},
	{"o", valid_org_unit, 0, &msg_org_unit, 0},
	{"ou1", valid_org_unit, 0, &msg_org_unit, 0},
	{"ou2", valid_org_unit, 0, &msg_org_unit, 0},
};

/* The feature a device field needs, -1 for none. */
static const int device_feature[DF__MAX] = {
	-1,
	-1,
	FEAT_VALIDITY_PERIOD,
	FEAT_VALIDITY_PERIOD,
	FEAT_ORG_UNITS,
	FEAT_ORG_UNITS,
	FEAT_ORG_UNITS,
};

static const struct i18n_text *const feature_msg[FEAT__MAX] = {
	[FEAT_VALIDITY_PERIOD] = &msg_no_validity_period,
	[FEAT_ORG_UNITS] = &msg_no_org_units,
	[FEAT_INSTALL_RESTRICTION] = &msg_no_install_restriction,
};

enum rfield { RF_MODE, RF_MAC, RF_COMPUTER, RF_LOGIN_USER, RF_BIOS_SERIAL, RF__MAX };

static const struct valid_field restriction_fields[RF__MAX] = {
	{"mode", valid_restriction_mode, 1, &msg_restriction_mode, 0},
	{"mac", valid_mac, 0, &msg_mac, 0},
	{"computer", valid_restriction_item, 0, &msg_restriction_item, 0},
	{"login_user", valid_restriction_item, 0, &msg_restriction_item, 0},
	{"bios_serial", valid_restriction_item, 0, &msg_restriction_item, 0},
};

/* Given: present, not null, and not an empty string. */
static int
given(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return v != NULL && !cJSON_IsNull(v) && !(cJSON_IsString(v) && v->valuestring[0] == '\0');
}

/* The string member, NULL when not given. */
static const char *
opt_str(const cJSON *obj, const char *name)
{
	const char *v = json_str(obj, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Append field errors of one table row under a prefix ("devices[1]."); the number added. */
static int
check_prefixed(const cJSON *obj, const struct valid_field *f, const char *prefix, int lang,
	       cJSON *errs)
{
	cJSON *tmp = cJSON_CreateArray(), *e;
	char name[96];
	int bad = valid_json(obj, f, 1, tmp, lang);

	cJSON_ArrayForEach(e, tmp)
	{
		snprintf(name, sizeof(name), "%s%s", prefix,
			 cJSON_GetObjectItem(e, "field")->valuestring);
		json_field_error(errs, name, cJSON_GetObjectItem(e, "message")->valuestring);
	}
	cJSON_Delete(tmp);
	return bad;
}

static void
field_error(cJSON *errs, const char *prefix, const char *field, const char *msg)
{
	char name[96];

	snprintf(name, sizeof(name), "%s%s", prefix, field);
	json_field_error(errs, name, msg);
}

int
check_cn(const char *family_en, const char *given_en, int lang, cJSON *errs)
{
	if (strlen(family_en) + 1 + strlen(given_en) <= VALID_CN_MAX)
		return 0;
	json_field_error(errs, "given_name_en", i18n_msg(&msg_cn_too_long, lang));
	return 1;
}

int
check_user(const cJSON *body, int partial, int lang, cJSON *errs, struct user_in *u)
{
	int bad = 0;

	for (int i = 0; i < UF__MAX; i++) {
		int present = cJSON_GetObjectItemCaseSensitive(body, user_fields[i].name) != NULL;
		u->v[i] = NULL;
		if (partial && !present)
			continue;
		if (valid_json(body, &user_fields[i], 1, errs, lang) > 0)
			bad++;
		else
			u->v[i] = json_str(body, user_fields[i].name);
	}
	if (u->v[UF_FAMILY_NAME_EN] && u->v[UF_GIVEN_NAME_EN])
		bad += check_cn(u->v[UF_FAMILY_NAME_EN], u->v[UF_GIVEN_NAME_EN], lang, errs);
	/* the language of the user's notices: optional, Japanese when a new user has none */
	u->lang = NULL;
	if (cJSON_GetObjectItemCaseSensitive(body, "lang") != NULL) {
		if (valid_json(body, &lang_field, 1, errs, lang) > 0)
			bad++;
		else
			u->lang = json_str(body, "lang");
	}
	return bad;
}

/* yyyy/mm/dd[ hh:mm] in JST as epoch seconds; a date alone is its first or its last second. */
static time_t
jst_epoch(const char *v, int end_of_day)
{
	int y, mo, d, h, mi;
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	valid_parse_datetime(v, &y, &mo, &d, &h, &mi);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	if (strlen(v) == 10 && end_of_day) {
		tm.tm_hour = 23;
		tm.tm_min = tm.tm_sec = 59;
	}
	return timegm(&tm) - JST_OFFSET;
}

/* Epoch seconds as timestamptz text in JST. */
static void
jst_text(time_t t, char *buf, size_t len)
{
	time_t local = t + JST_OFFSET;
	struct tm tm;

	gmtime_r(&local, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S+09", &tm);
}

/* From before To, To in the future, the span within the tenant's limit and the CA's life. */
static int
check_period(const char *from, const char *to, const struct tenant *tn, time_t now,
	     const char *prefix, int lang, cJSON *errs, struct device_in *d)
{
	time_t f = from ? jst_epoch(from, 0) : now;
	time_t e = to ? jst_epoch(to, 1) : f + (time_t)tn->default_validity_days * 86400;
	const char *end_field = to ? "valid_to" : "valid_from";
	char msg[256];

	if (from && to && f >= e) {
		field_error(errs, prefix, "valid_from", i18n_msg(&msg_validity_order, lang));
		return 1;
	}
	if (from && f > now + (time_t)tn->max_start_ahead_days * 86400) {
		snprintf(msg, sizeof(msg), "%s %d", i18n_msg(&msg_validity_start, lang),
			 tn->max_start_ahead_days);
		field_error(errs, prefix, "valid_from", msg);
		return 1;
	}
	if (e <= now) {
		field_error(errs, prefix, end_field, i18n_msg(&msg_validity_past, lang));
		return 1;
	}
	if (e - f > (time_t)tn->max_validity_days * 86400) {
		snprintf(msg, sizeof(msg), "%s %d", i18n_msg(&msg_validity_span, lang),
			 tn->max_validity_days);
		field_error(errs, prefix, end_field, msg);
		return 1;
	}
	if (tn->ca_not_after > 0 && e > (time_t)tn->ca_not_after) {
		field_error(errs, prefix, end_field, i18n_msg(&msg_validity_ca, lang));
		return 1;
	}
	if (from)
		jst_text(f, d->valid_from, sizeof(d->valid_from));
	if (to)
		jst_text(e, d->valid_to, sizeof(d->valid_to));
	return 0;
}

/* The period rules, when the tenant has the feature and each given date is well-formed. */
static int
period(const cJSON *dv, const struct tenant *tn, time_t now, const char *prefix, int lang,
       cJSON *errs, struct device_in *d)
{
	const char *from = opt_str(dv, "valid_from"), *to = opt_str(dv, "valid_to");

	if (!(tn->features & (1u << FEAT_VALIDITY_PERIOD)) || (!from && !to))
		return 0;
	if ((from && valid_datetime(from) != 0) || (to && valid_datetime(to) != 0))
		return 0; /* already reported */
	return check_period(from, to, tn, now, prefix, lang, errs, d);
}

/* The restriction object of device 01; *d gets its values. */
static int
check_restriction(const cJSON *r, const char *prefix, int lang, cJSON *errs, struct device_in *d)
{
	const char *mac;
	char pre[64];
	int bad = 0;

	snprintf(pre, sizeof(pre), "%srestriction.", prefix);
	if (!cJSON_IsObject(r)) {
		field_error(errs, prefix, "restriction", i18n_msg(&msg_not_object, lang));
		return 1;
	}
	for (int i = 0; i < RF__MAX; i++)
		bad += check_prefixed(r, &restriction_fields[i], pre, lang, errs);
	if (bad)
		return bad;
	d->mode = json_str(r, "mode");
	if ((mac = opt_str(r, "mac")) != NULL) /* 12 hex digits: stored in upper case */
		for (int k = 0; k < 12; k++)
			d->mac[k] = (char)toupper((unsigned char)mac[k]);
	d->computer = opt_str(r, "computer");
	d->login_user = opt_str(r, "login_user");
	d->bios_serial = opt_str(r, "bios_serial");
	if (strcmp(d->mode, "none") != 0 && !d->mac[0] && !d->computer && !d->login_user &&
	    !d->bios_serial) {
		field_error(errs, prefix, "restriction", i18n_msg(&msg_restriction_empty, lang));
		return 1;
	}
	return 0;
}

/* The plain fields of one device, a feature's fields refused when the tenant lacks it. */
static int
check_device_fields(const cJSON *dv, const struct tenant *tn, const char *prefix, int lang,
		    cJSON *errs)
{
	int bad = 0;

	for (int k = 0; k < DF__MAX; k++) {
		int feat = device_feature[k];
		if (feat >= 0 && !(tn->features & (1u << feat)) &&
		    given(dv, device_fields[k].name)) {
			field_error(errs, prefix, device_fields[k].name,
				    i18n_msg(feature_msg[feat], lang));
			bad++;
			continue;
		}
		bad += check_prefixed(dv, &device_fields[k], prefix, lang, errs);
	}
	return bad;
}

/* One device; *d filled when it is valid. seen[] holds the codes of earlier devices. */
static int
check_device(const cJSON *dv, int i, const struct tenant *tn, time_t now, int lang, cJSON *errs,
	     const char *seen[], struct device_in *d)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(dv, "restriction");
	char prefix[32];
	int bad;

	snprintf(prefix, sizeof(prefix), "devices[%d].", i);
	memset(d, 0, sizeof(*d));
	if (!cJSON_IsObject(dv)) {
		snprintf(prefix, sizeof(prefix), "devices[%d]", i);
		json_field_error(errs, prefix, i18n_msg(&msg_not_object, lang));
		return 1;
	}
	bad = check_device_fields(dv, tn, prefix, lang, errs);
	d->code = json_str(dv, "device");
	if (d->code != NULL && device_valid_code(d->code) == 0) {
		for (int j = 0; j < i; j++)
			if (seen[j] != NULL && strcmp(seen[j], d->code) == 0) {
				field_error(errs, prefix, "device",
					    i18n_msg(&msg_device_twice, lang));
				bad++;
				break;
			}
		seen[i] = d->code;
	} else {
		d->code = NULL;
	}
	if (r != NULL && !cJSON_IsNull(r)) {
		if (!(tn->features & (1u << FEAT_INSTALL_RESTRICTION))) {
			field_error(errs, prefix, "restriction",
				    i18n_msg(&msg_no_install_restriction, lang));
			bad++;
		} else if (d->code != NULL && strcmp(d->code, "01") != 0) {
			field_error(errs, prefix, "restriction",
				    i18n_msg(&msg_restriction_device, lang));
			bad++;
		} else {
			bad += check_restriction(r, prefix, lang, errs, d);
		}
	}
	bad += period(dv, tn, now, prefix, lang, errs, d);
	if (!d->mode)
		d->mode = "none";
	d->email = opt_str(dv, "email");
	d->o = opt_str(dv, "o");
	d->ou1 = opt_str(dv, "ou1");
	d->ou2 = opt_str(dv, "ou2");
	return bad;
}

/* The e-mail a device's certificate gets: its own, else the user's; NULL when neither is known. */
const char *
check_device_email(const struct user_in *u, const struct device_in *d)
{
	return d->email != NULL ? d->email : u->v[UF_EMAIL];
}

int
check_devices(const cJSON *body, const struct tenant *tn, time_t now, int lang, cJSON *errs,
	      struct user_in *u)
{
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(body, "devices");
	const char *seen[USERS_MAX_DEVICES] = {NULL};
	int n, bad = 0;

	u->ndev = 0;
	if (devs == NULL || cJSON_IsNull(devs)) {
		json_field_error(errs, "devices", i18n_msg(&msg_required, lang));
		return 1;
	}
	if (!cJSON_IsArray(devs)) {
		json_field_error(errs, "devices", i18n_msg(&msg_not_list, lang));
		return 1;
	}
	n = cJSON_GetArraySize(devs);
	if (n < 1 || n > USERS_MAX_DEVICES) {
		json_field_error(errs, "devices", i18n_msg(&msg_devices_count, lang));
		return 1;
	}
	for (int i = 0; i < n; i++)
		bad += check_device(cJSON_GetArrayItem(devs, i), i, tn, now, lang, errs, seen,
				    &u->dev[i]);
	if (bad == 0)
		u->ndev = n;
	return bad;
}

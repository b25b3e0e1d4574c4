/* mailcfg.c: shomei-users' [mail] section: the SMTP relay, the templates, the worker's pace. */
#include "extern.h"

struct mail_cfg mail_cfg;

static const char *const starttls_words[] = {"required", "off", NULL};

/*
 * smtp_url: smtp://host:port (STARTTLS as smtp_starttls says) or smtps://host:port (TLS at
 * once); smtp_starttls required refuses to send unless the server starts TLS, off is for a
 * relay on this host only; smtp_auth_file: "user:password", one line ("" = no AUTH);
 * smtp_ca_file "" = the system's CAs. README's configuration list says the rest.
 */
static const struct cfg_key keys[] = {
	CFG_KEY_STR(struct mail_cfg, smtp_url, "smtp://127.0.0.1:25"),
	CFG_KEY_ENUM(struct mail_cfg, smtp_starttls, required, starttls_words),
	CFG_KEY_STR(struct mail_cfg, smtp_auth_file, ""),
	CFG_KEY_STR(struct mail_cfg, smtp_ca_file, ""),
	CFG_KEY_STR(struct mail_cfg, mail_from, "shomei@localhost"),
	CFG_KEY_STR(struct mail_cfg, template_dir, "/usr/share/shomei/mail"),
	CFG_KEY_INT(struct mail_cfg, workers, 2, 0, 32),
	CFG_KEY_INT(struct mail_cfg, retry_base, 5, 1, 3600),
	CFG_KEY_INT(struct mail_cfg, max_attempts, 12, 1, 100),
	CFG_KEY_INT(struct mail_cfg, link_ttl_hours, 168, 1, 720),
	CFG_KEY_INT(struct mail_cfg, reminder_interval, 3600, 1, 86400),
	CFG_KEY_INT(struct mail_cfg, poll_ms, 1000, 100, 60000),
};

const struct cfg_section mail_section = {"mail", keys, sizeof(keys) / sizeof(keys[0]), &mail_cfg};

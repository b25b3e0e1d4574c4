/* history.c: GET /api/audit, the 操作履歴 list with its filters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain/audit.h"
#include "extern.h"
#include "web/i18n.h"
#include "core/json.h"
#include "web/keyset.h"
#include "web/valid.h"

static const struct valid_field fields[] = {
	{"from", valid_date, 0, &msg_date_format, 10},
	{"to", valid_date, 0, &msg_date_format, 10},
	{"action", audit_valid_action, 0, &msg_action, 64},
	{"q", valid_text, 0, &msg_text_too_long, 200},
};

/*
 * A query parameter valid_query has passed, or NULL when absent or empty. Every field's maxlen
 * fits its buffer, so no other outcome is possible; *rc says so (-EINVAL) rather than drop it.
 */
static const char *
opt(const char *query, const char *name, char *buf, size_t len, int *rc)
{
	int r = http_query_get(query, name, buf, len);

	if (r != 0 && r != HTTP_E_ABSENT)
		*rc = -EINVAL;
	return r == 0 && *buf ? buf : NULL;
}

int
auth_audit(struct http_req *req, struct svc_thread *t)
{
	char from[16], to[16], action[72], q[256];
	struct audit_filter f;
	struct keyset ks;
	cJSON *errs = cJSON_CreateArray(), *doc = NULL;
	int rc = 0;

	if (valid_query(req->query, fields, 4, errs, req->lang) +
		keyset_read(req->query, KEYSET_INT, req->lang, errs, &ks) >
	    0) {
		svc_invalid(req, errs);
		return 0;
	}
	f.from = opt(req->query, "from", from, sizeof(from), &rc);
	f.to = opt(req->query, "to", to, sizeof(to), &rc);
	f.action = opt(req->query, "action", action, sizeof(action), &rc);
	f.q = opt(req->query, "q", q, sizeof(q), &rc);
	f.ks = &ks;
	if (rc != 0) {
		cJSON_Delete(errs);
		return rc;
	}
	/* yyyy/mm/dd compares as text in calendar order */
	if (f.from && f.to && strcmp(f.from, f.to) > 0) {
		json_field_error(errs, "from", i18n_msg(&msg_date_range, req->lang));
		svc_invalid(req, errs);
		return 0;
	}
	cJSON_Delete(errs);
	if ((rc = audit_list(&t->db, req->tenant_id, &f, req->lang, &doc)) != 0)
		return rc;
	http_json(req, 200, doc);
	cJSON_Delete(doc);
	return 0;
}

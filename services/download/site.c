/* site.c: GET /api/downloads/site, 証明書ダウンロード画面の表示: the site's URL and its QR code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "web/i18n.h"
#include "core/qr.h"

int
dl_site_info(struct http_req *req, struct svc_thread *t)
{
	char tid[24], url[600];
	PGresult *res = NULL;
	cJSON *doc = NULL;
	char *svg = NULL;
	size_t len = 0, n;
	int rc;

	snprintf(tid, sizeof(tid), "%lld", req->tenant_id);
	const char *params[] = {tid};
	if ((rc = db_exec(&t->db, &q_dl_site, params, &res)) != 0)
		return rc < 0 ? rc : -EIO;
	if (PQntuples(res) != 1) {
		PQclear(res);
		svc_fail(req, 404, "not_found", &msg_not_found);
		return 0;
	}
	/* public_url without a trailing slash, then /dl/<slug>/ */
	n = strlen(t->cfg->public_url);
	while (n > 0 && t->cfg->public_url[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s/dl/%s/", (int)n, t->cfg->public_url,
		 db_get(res, 0, "slug"));
	if ((rc = qr_svg(url, &svg, &len)) != 0)
		goto out;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "url", url);
	cJSON_AddBoolToObject(doc, "enabled", strcmp(db_get(res, 0, "site"), "t") == 0);
	cJSON_AddStringToObject(doc, "qr_svg", svg);
	http_add_header(req, "Cache-Control", "no-store");
	http_json(req, 200, doc);
	rc = 0;
out:
	cJSON_Delete(doc);
	free(svg);
	PQclear(res);
	return rc;
}

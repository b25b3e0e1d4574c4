/* cmd_health.c: shomeictl health (PostgreSQL and the signer, as JSON). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "extern.h"
#include "pki/signer.h"

static void
check_db(struct cmd_ctx *cx, cJSON *o)
{
	long long version = 0;

	if (db_init(&cx->db, cx->cfg.db) != 0)
		return;
	cx->db_open = 1;
	if (db_ensure(&cx->db) != 0 || !db_ping(&cx->db)) {
		cJSON_AddStringToObject(o, "db", "down");
		return;
	}
	cJSON_AddStringToObject(o, "db", "ok");
	if (q_schema_version(cx, &version) == 0)
		cJSON_AddNumberToObject(o, "schema_version", (double)version);
}

static void
check_signer(struct cmd_ctx *cx, cJSON *o)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	char path[PATH_MAX], reason[128], msg[200];
	int rc;

	if ((rc = cfg_socket_path(&cx->cfg, "signer", path, sizeof(path))) == 0)
		rc = signer_request(path, SIGNER_OP_PING, 0, NULL, 0, &out, &outlen, reason,
				    sizeof(reason));
	free(out);
	if (rc == 0) {
		cJSON_AddStringToObject(o, "signer", "ok");
		return;
	}
	snprintf(msg, sizeof(msg), "down: %s", rc < 0 ? strerror(-rc) : reason);
	cJSON_AddStringToObject(o, "signer", msg);
}

int
cmd_health(struct cmd_ctx *cx)
{
	cJSON *o = cJSON_CreateObject(), *db, *sg;
	char *s;
	int ok;

	if (o == NULL)
		return CTL_FAIL;
	check_db(cx, o);
	check_signer(cx, o);
	db = cJSON_GetObjectItem(o, "db");
	sg = cJSON_GetObjectItem(o, "signer");
	ok = cJSON_IsString(db) && strcmp(db->valuestring, "ok") == 0 && cJSON_IsString(sg) &&
	     strcmp(sg->valuestring, "ok") == 0;
	cJSON_AddBoolToObject(o, "ok", ok);
	if ((s = cJSON_PrintUnformatted(o)) != NULL)
		printf("%s\n", s);
	free(s);
	cJSON_Delete(o);
	return ok ? CTL_OK : CTL_FAIL;
}

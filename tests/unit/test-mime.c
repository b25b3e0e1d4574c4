/* test-mime.c: the notices' messages (services/users/mime.c) and templates (tmpl.c). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mime.h"
#include "tap.h"
#include "tmpl.h"

/* base64 of s decoded into out (NUL-terminated); its length or -1. */
static int
unb64(const char *s, size_t n, char *out, size_t cap)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(a, s[i]);
		if (p == NULL || s[i] == '\0')
			return -1;
		v = (v << 6) | (unsigned)(p - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)((v >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* The subject's encoded words decoded and joined. */
static void
subject_of(const char *msg, char *out, size_t cap)
{
	const char *s = strstr(msg, "\r\nSubject: ");
	size_t o = 0;

	out[0] = '\0';
	if (s == NULL)
		return;
	s += 11;
	for (;;) {
		const char *w = strstr(s, "=?UTF-8?B?"), *e;
		char part[256];
		int n;

		if (w == NULL || w > strstr(s, "\r\n") + 3)
			break;
		w += 10;
		e = strstr(w, "?=");
		if ((n = unb64(w, (size_t)(e - w), part, sizeof(part))) < 0 || o + (size_t)n >= cap)
			break;
		memcpy(out + o, part, (size_t)n);
		o += (size_t)n;
		out[o] = '\0';
		s = e + 2;
		if (strncmp(s, "\r\n ", 3) != 0)
			break;
	}
}

static void
test_build(void)
{
	const char *subj =
		"【令和証明書サービス】電子証明書の「秘密の鍵」を登録してください — a long subject that needs folding";
	struct mime_msg m = {"noreply@example.org",
			     "令和証明書サービス",
			     "help@example.org",
			     "u@example.com",
			     subj,
			     "一行目\nhttps://h/dl/demo/\n",
			     "<p>x</p>",
			     "notice-1.ab@example.org",
			     "ja",
			     0,
			     NULL,
			     0,
			     NULL};
	char dec[1024];
	size_t len = 0;
	char *msg = mime_build(&m, &len);
	const char *line;
	int longest = 0, crlf_only = 1;

	TAP_OK(msg != NULL && len == strlen(msg), "a message is built");
	if (msg == NULL)
		return;
	subject_of(msg, dec, sizeof(dec));
	TAP_STREQ(dec, subj, "the subject's RFC 2047 words decode to the UTF-8 subject");
	for (line = msg; *line != '\0';) {
		const char *e = strstr(line, "\r\n");
		if (e == NULL)
			break;
		if ((int)(e - line) > longest)
			longest = (int)(e - line);
		for (const char *p = line; p < e; p++)
			if (*p == '\n' || *p == '\r')
				crlf_only = 0;
		line = e + 2;
	}
	TAP_OK(longest <= 78, "no line longer than 78 (longest %d)", longest);
	TAP_OK(crlf_only, "lines end in CRLF only");
	TAP_OK(strstr(msg, "\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != NULL,
	       "Date in RFC 5322 form");
	TAP_OK(strstr(msg, "\r\nMessage-ID: <notice-1.ab@example.org>\r\n") != NULL, "Message-ID");
	TAP_OK(strstr(msg, "Reply-To: <help@example.org>\r\n") != NULL &&
		       strstr(msg, "To: <u@example.com>\r\n"),
	       "Reply-To and To");
	TAP_OK(strstr(msg, "Content-Type: multipart/alternative;") &&
		       strstr(msg, "Content-Type: text/plain; charset=UTF-8") &&
		       strstr(msg, "Content-Type: text/html; charset=UTF-8") &&
		       strstr(msg, "Content-Language: ja"),
	       "multipart/alternative: text/plain and text/html, UTF-8, Content-Language");
	for (const char *p = msg; *p; p++)
		if ((unsigned char)*p >= 0x80) {
			TAP_OK(0, "the message is 7-bit");
			break;
		} else if (p[1] == '\0')
			TAP_OK(1, "the message is 7-bit");
	free(msg);

	m.to = "a@b.c\r\nBcc: x@y.z";
	TAP_OK(mime_build(&m, &len) == NULL,
	       "an address with CRLF is refused (no header injection)");
	m.to = "u@example.com";
	m.reply_to = "x <y@z>";
	TAP_OK(mime_build(&m, &len) == NULL, "a Reply-To that is not an addr-spec is refused");
	m.reply_to = "";
	m.message_id = "no-at-sign";
	TAP_OK(mime_build(&m, &len) == NULL, "a Message-ID without @ is refused");
}

static void
test_addr(void)
{
	static const struct {
		const char *a;
		int ok;
	} cases[] = {
		{"a@b.c", 1},
		{"first.last+tag@example.co.jp", 1},
		{"", 0},
		{"@b.c", 0},
		{"a@", 0},
		{"a@b@c", 0},
		{"a b@c.d", 0},
		{"a@b.c\n", 0},
		{"<a@b.c>", 0},
		{"a,b@c.d", 0},
		{"\xe3\x81\x82@b.c", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TAP_OK(mime_addr_ok(cases[i].a) == cases[i].ok, "address %zu: %s", i,
		       cases[i].ok ? "ok" : "refused");
}

static void
test_html(void)
{
	char *h = mime_text_html("A <b>&\"'\nsee https://h/x?a=1&b=2 now", "en", NULL, NULL, NULL);

	TAP_OK(h && strstr(h, "A &lt;b&gt;&amp;&quot;&#39;<br>") != NULL,
	       "text escaped, lines as <br>");
	TAP_OK(h && strstr(h,
			   "<a href=\"https://h/x?a=1&amp;b=2\">https://h/x?a=1&amp;b=2</a> now") !=
			       NULL,
	       "a URL becomes a link");
	TAP_OK(h && strstr(h, "<html lang=\"en\">") != NULL, "the language");
	free(h);
}

/* An image: the HTML alternative becomes multipart/related with the PNG its cid: names. */
static void
test_image(void)
{
	unsigned char png[200];
	char dec[512];
	struct mime_msg m = {"noreply@example.org",
			     NULL,
			     NULL,
			     "u@example.com",
			     "s",
			     "t\n",
			     "<p><img src=\"cid:qr-1.ab@example.org\"></p>",
			     "notice-1.ab@example.org",
			     "ja",
			     0,
			     png,
			     sizeof(png),
			     "qr-1.ab@example.org"};
	size_t len = 0;
	char *msg, *h, *rel, *img, *b, *e;

	for (size_t i = 0; i < sizeof(png); i++)
		png[i] = (unsigned char)(i * 7 + 3);
	msg = mime_build(&m, &len);
	TAP_OK(msg != NULL, "a message with an image is built");
	rel = msg ? strstr(msg, "Content-Type: multipart/related; type=\"text/html\";") : NULL;
	img = msg ? strstr(msg, "Content-Type: image/png\r\n") : NULL;
	TAP_OK(rel != NULL && img != NULL && rel < img &&
		       strstr(rel, "Content-Type: text/html") < img,
	       "the HTML and the image/png part in a multipart/related, the HTML first");
	TAP_OK(img && strstr(img, "Content-ID: <qr-1.ab@example.org>\r\n") != NULL &&
		       strstr(img, "Content-Disposition: inline;") != NULL,
	       "the image has the Content-ID the HTML names, inline");
	b = img ? strstr(img, "\r\n\r\n") : NULL;
	e = b ? strstr(b, "\r\n--") : NULL;
	if (b != NULL && e != NULL) {
		char flat[512];
		size_t n = 0;

		for (char *p = b + 4; p < e && n < sizeof(flat) - 1; p++)
			if (*p != '\r' && *p != '\n')
				flat[n++] = *p;
		TAP_OK(unb64(flat, n, dec, sizeof(dec)) == (int)sizeof(png) &&
			       memcmp(dec, png, sizeof(png)) == 0,
		       "its base64 decodes to the image's bytes");
	} else {
		TAP_OK(0, "its base64 decodes to the image's bytes");
	}
	TAP_OK(msg && strstr(msg, "_r--\r\n") != NULL && strstr(msg, "\r\n--=_shomei_") != NULL,
	       "the related part closes inside the alternative");
	free(msg);
	m.image_cid = "no-at";
	TAP_OK(mime_build(&m, &len) == NULL, "a Content-ID without @ is refused");
	h = mime_text_html("site:\nhttps://h/dl/x/\nother https://h/y\n", "ja", "https://h/dl/x/",
			   "qr-1@h", "QR <code>");
	TAP_OK(h && strstr(h, "<a href=\"https://h/dl/x/\">https://h/dl/x/</a><br>\n"
			      "<img src=\"cid:qr-1@h\" alt=\"QR &lt;code&gt;\"") != NULL,
	       "the HTML shows the image under the link to its URL");
	TAP_OK(h && strstr(h, "cid:") == strstr(h, "cid:qr-1@h") &&
		       strstr(strstr(h, "cid:") + 4, "cid:") == NULL,
	       "and only there");
	free(h);
}

static void
test_tmpl(void)
{
	cJSON *v = cJSON_Parse("{\"name\":\"花子\",\"days\":15,\"obj\":{}}");
	const char *subj, *body;
	char *out = NULL;

	TAP_OK(tmpl_render("Subject: あと {{days}} 日\n\n{{name}} 様 {{missing}}{{obj}}.\n{{open",
			   v, &out, &subj, &body) == 0,
	       "a template renders");
	TAP_STREQ(subj, "あと 15 日", "the subject, a number field");
	TAP_STREQ(body, "花子 様 .\n{{open",
		  "the body: fields, unknown ones empty, an unclosed {{ kept");
	free(out);
	out = NULL;
	TAP_OK(tmpl_render("Subject: x\r\n\r\nbody", v, &out, &subj, &body) == 0 &&
		       strcmp(subj, "x") == 0 && strcmp(body, "body") == 0,
	       "CRLF files too");
	free(out);
	out = NULL;
	TAP_OK(tmpl_render("Subjekt: x\n\nb", v, &out, &subj, &body) != 0,
	       "no Subject line: refused");
	TAP_OK(tmpl_render("Subject: x\nbody", v, &out, &subj, &body) != 0,
	       "no blank line: refused");
	TAP_OK(tmpl_load("/nonexistent", "user_issued", "ja") == NULL, "a missing file: NULL");
	TAP_OK(tmpl_load(".", "../etc", "ja") == NULL, "a kind with a path in it: NULL");
	cJSON_Delete(v);
}

int
main(void)
{
	test_build();
	test_addr();
	test_html();
	test_image();
	test_tmpl();
	return tap_done();
}

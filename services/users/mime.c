/* mime.c: a notice as an Internet message (RFC 5322, 2045-2047): see mime.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

/* A growing buffer; err set once anything failed (no memory). */
struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->err = 1;
	else
		put(b, tmp, (size_t)n);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
put_b64(struct buf *b, const unsigned char *in, size_t n)
{
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		put(b, q, 4);
	}
}

/* A body: its lines made CRLF, then base64 in lines of 76. */
static void
put_body(struct buf *b, const char *text)
{
	struct buf crlf = {0};

	for (const char *s = text; *s != '\0'; s++) {
		if (*s == '\r')
			continue;
		put(&crlf, *s == '\n' ? "\r\n" : s, *s == '\n' ? 2 : 1);
	}
	for (size_t i = 0; !crlf.err && i < crlf.len; i += 57) {
		put_b64(b, (const unsigned char *)crlf.p + i,
			crlf.len - i < 57 ? crlf.len - i : 57);
		puts_(b, "\r\n");
	}
	if (crlf.err)
		b->err = 1;
	free(crlf.p);
}

/* Where a UTF-8 text may be cut at or before n bytes: not inside a character. */
static size_t
utf8_cut(const char *s, size_t len, size_t n)
{
	if (n >= len)
		return len;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/*
 * A header value as RFC 2047 encoded words ("=?UTF-8?B?…?="), 45 bytes of text each (60
 * base64 characters: a word stays within 75), 39 in the first (which follows "Subject: "),
 * folded one word a line, so no line passes 78. Control characters are dropped.
 */
static void
put_words(struct buf *b, const char *s)
{
	struct buf clean = {0};
	size_t off = 0;

	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			put(&clean, p, 1);
	if (clean.err || clean.len == 0) {
		b->err |= clean.err;
		free(clean.p);
		return;
	}
	while (off < clean.len) {
		/* the first word shares its line with the header's name */
		size_t max = off ? 45 : 39, n = utf8_cut(clean.p + off, clean.len - off, max);

		if (n == 0)
			n = clean.len - off < max ? clean.len - off : max;
		puts_(b, off ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
		put_b64(b, (const unsigned char *)clean.p + off, n);
		puts_(b, "?=");
		off += n;
	}
	free(clean.p);
}

int
mime_addr_ok(const char *s)
{
	const char *at;
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 254)
		return 0;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>\"(),;:\\[]", *p))
			return 0;
	at = strchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL;
}

static void
put_date(struct buf *b, time_t t)
{
	static const char *const day[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		b->err = 1;
		return;
	}
	putf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", day[tm.tm_wday], tm.tm_mday,
	     mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
put_headers(struct buf *b, const struct mime_msg *m, const char *boundary)
{
	puts_(b, "From: ");
	if (m->from_name != NULL && m->from_name[0] != '\0') {
		put_words(b, m->from_name);
		puts_(b, "\r\n ");
	}
	putf(b, "<%s>\r\n", m->from);
	if (m->reply_to != NULL && m->reply_to[0] != '\0')
		putf(b, "Reply-To: <%s>\r\n", m->reply_to);
	putf(b, "To: <%s>\r\n", m->to);
	puts_(b, "Subject: ");
	put_words(b, m->subject);
	puts_(b, "\r\n");
	put_date(b, m->date);
	putf(b, "Message-ID: <%s>\r\n", m->message_id);
	puts_(b, "MIME-Version: 1.0\r\n");
	if (m->lang != NULL && (strcmp(m->lang, "ja") == 0 || strcmp(m->lang, "en") == 0))
		putf(b, "Content-Language: %s\r\n", m->lang);
	puts_(b, "Auto-Submitted: auto-generated\r\n");
	putf(b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", boundary);
}

static int
id_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 200 || strchr(s, '@') == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '<' ||
		    *s == '>')
			return 0;
	return 1;
}

char *
mime_build(const struct mime_msg *m, size_t *len)
{
	struct buf b = {0};
	char boundary[80];

	if (!mime_addr_ok(m->from) || !mime_addr_ok(m->to) ||
	    (m->reply_to != NULL && m->reply_to[0] != '\0' && !mime_addr_ok(m->reply_to)) ||
	    m->subject == NULL || m->text == NULL || m->html == NULL || !id_ok(m->message_id) ||
	    (m->image != NULL && (m->image_len == 0 || !id_ok(m->image_cid)))) {
		errno = EINVAL;
		return NULL;
	}
	/* '_' never occurs in base64 and the parts are nothing else */
	snprintf(boundary, sizeof(boundary), "=_shomei_%.50s", m->message_id);
	for (char *p = boundary; *p != '\0'; p++)
		if (*p == '@' || *p == '.')
			*p = '_';
	put_headers(&b, m, boundary);
	putf(&b,
	     "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	     "Content-Transfer-Encoding: base64\r\n\r\n",
	     boundary);
	put_body(&b, m->text);
	if (m->image != NULL) /* the HTML and its image, one alternative */
		putf(&b,
		     "--%s\r\nContent-Type: multipart/related; type=\"text/html\";\r\n"
		     " boundary=\"%s_r\"\r\n\r\n--%s_r\r\n",
		     boundary, boundary, boundary);
	else
		putf(&b, "--%s\r\n", boundary);
	puts_(&b, "Content-Type: text/html; charset=UTF-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\n");
	put_body(&b, m->html);
	if (m->image != NULL) {
		putf(&b,
		     "--%s_r\r\nContent-Type: image/png\r\n"
		     "Content-Transfer-Encoding: base64\r\nContent-ID: <%s>\r\n"
		     "Content-Disposition: inline; filename=\"qr.png\"\r\n\r\n",
		     boundary, m->image_cid);
		for (size_t i = 0; i < m->image_len; i += 57) {
			put_b64(&b, m->image + i, m->image_len - i < 57 ? m->image_len - i : 57);
			puts_(&b, "\r\n");
		}
		putf(&b, "--%s_r--\r\n", boundary);
	}
	putf(&b, "--%s--\r\n", boundary);
	if (b.err) {
		free(b.p);
		errno = ENOMEM;
		return NULL;
	}
	*len = b.len;
	return b.p;
}

static void
put_escaped(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			puts_(b, "&amp;");
			break;
		case '<':
			puts_(b, "&lt;");
			break;
		case '>':
			puts_(b, "&gt;");
			break;
		case '"':
			puts_(b, "&quot;");
			break;
		case '\'':
			puts_(b, "&#39;");
			break;
		case '\r':
			break;
		case '\n':
			puts_(b, "<br>\n");
			break;
		default:
			put(b, s + i, 1);
		}
	}
}

char *
mime_text_html(const char *text, const char *lang, const char *img_url, const char *img_cid,
	       const char *img_alt)
{
	struct buf b = {0};
	const char *s = text;

	putf(&b,
	     "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"></head>\n"
	     "<body style=\"font-family: sans-serif; line-height: 1.6\">\n<p>",
	     lang != NULL && strcmp(lang, "en") == 0 ? "en" : "ja");
	while (*s != '\0') {
		const char *u = strstr(s, "https://"), *h = strstr(s, "http://");
		size_t n;

		if (u == NULL || (h != NULL && h < u))
			u = h;
		if (u == NULL) {
			put_escaped(&b, s, strlen(s));
			break;
		}
		put_escaped(&b, s, (size_t)(u - s));
		n = strcspn(u, " \t\r\n<>\"'");
		puts_(&b, "<a href=\"");
		put_escaped(&b, u, n);
		puts_(&b, "\">");
		put_escaped(&b, u, n);
		puts_(&b, "</a>");
		if (img_url != NULL && img_cid != NULL && strlen(img_url) == n &&
		    strncmp(u, img_url, n) == 0) {
			puts_(&b, "<br>\n<img src=\"cid:");
			put_escaped(&b, img_cid, strlen(img_cid));
			puts_(&b, "\" alt=\"");
			put_escaped(&b, img_alt != NULL ? img_alt : "",
				    img_alt != NULL ? strlen(img_alt) : 0);
			puts_(&b, "\" width=\"180\" height=\"180\">");
		}
		s = u + n;
	}
	puts_(&b, "</p>\n</body></html>\n");
	if (b.err) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

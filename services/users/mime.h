/* mime.h: a notice as an Internet message: UTF-8, RFC 2047 headers, base64 text and HTML. */
#ifndef SHOMEI_USERS_MIME_H
#define SHOMEI_USERS_MIME_H

#include <stddef.h>
#include <time.h>

struct mime_msg {
	const char *from;       /* addr-spec */
	const char *from_name;  /* display name (UTF-8), NULL or "" = none */
	const char *reply_to;   /* addr-spec, NULL or "" = none */
	const char *to;         /* addr-spec */
	const char *subject;    /* UTF-8 */
	const char *text;       /* the plain-text body, UTF-8, LF or CRLF lines */
	const char *html;       /* the HTML alternative, UTF-8 */
	const char *message_id; /* without the angle brackets */
	const char *lang;       /* Content-Language: ja, en */
	time_t date;
	/* An image the HTML shows inline (src="cid:<image_cid>"), or none (NULL) */
	const unsigned char *image; /* PNG */
	size_t image_len;
	const char *image_cid; /* its Content-ID without the angle brackets, as id_ok */
};

/*
 * 1 when s is an address a header may carry: local@domain, printable ASCII without spaces,
 * angle brackets, quotes, commas or control characters, at most 254 bytes.
 */
int mime_addr_ok(const char *s);

/*
 * The whole message (headers, multipart/alternative with text/plain and text/html, each
 * base64), CRLF line ends; *len its length. With an image, the HTML alternative is a
 * multipart/related of the HTML and the image/png part its cid: names (RFC 2387). The caller
 * frees it. NULL when an address is not mime_addr_ok or a field is missing (errno EINVAL), or on
 * no memory (ENOMEM).
 */
char *mime_build(const struct mime_msg *m, size_t *len);

/*
 * The HTML alternative of a plain text: escaped, each line a <br>, each http(s) URL a link.
 * With img_url and img_cid, the link to img_url is followed by the image cid:img_cid (alt
 * img_alt), e.g. the QR code of that URL. The caller frees it; NULL on no memory.
 */
char *mime_text_html(const char *text, const char *lang, const char *img_url, const char *img_cid,
		     const char *img_alt);

#endif

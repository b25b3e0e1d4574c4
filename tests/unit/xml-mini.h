/*
 * xml-mini.h: a strict little XML reader for the tests of generated documents (.mobileconfig):
 * a prolog, a DOCTYPE without internal subset, elements with attributes, text with the five
 * predefined entities and character references. It refuses what a conforming parser refuses:
 * unbalanced or misnamed end tags, a raw '<' or a bare '&' in text, an unknown entity, control
 * characters, invalid UTF-8, anything after the root element.
 */
#ifndef SHOMEI_XML_MINI_H
#define SHOMEI_XML_MINI_H

#include <stdlib.h>
#include <string.h>

#define XML_KIDS_MAX 64

struct xnode {
	char name[64];
	char *text; /* the element's own text, entities resolved, NUL-terminated */
	size_t text_len;
	int nkids;
	struct xnode *kids[XML_KIDS_MAX];
};

struct xml {
	const unsigned char *p;
	const char *err; /* NULL while well-formed */
	int depth;
};

static inline void
xml_free(struct xnode *n)
{
	if (n == NULL)
		return;
	for (int i = 0; i < n->nkids; i++)
		xml_free(n->kids[i]);
	free(n->text);
	free(n);
}

static inline int
xml_fail(struct xml *x, const char *why)
{
	if (x->err == NULL)
		x->err = why;
	return -1;
}

static inline void
xml_space(struct xml *x)
{
	while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')
		x->p++;
}

static inline int
xml_namechar(int c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

static inline int
xml_name(struct xml *x, char *buf, size_t len)
{
	size_t n = 0;

	if (!xml_namechar(*x->p, 1))
		return xml_fail(x, "a name expected");
	while (xml_namechar(*x->p, 0)) {
		if (n + 1 >= len)
			return xml_fail(x, "name too long");
		buf[n++] = (char)*x->p++;
	}
	buf[n] = '\0';
	return 0;
}

/* Append bytes to n->text. */
static inline int
xml_add(struct xml *x, struct xnode *n, const void *s, size_t len)
{
	char *t = realloc(n->text, n->text_len + len + 1);

	if (t == NULL)
		return xml_fail(x, "out of memory");
	memcpy(t + n->text_len, s, len);
	n->text = t;
	n->text_len += len;
	t[n->text_len] = '\0';
	return 0;
}

/* One UTF-8 character of text (or of an attribute value): its length, or -1. */
static inline int
xml_utf8(struct xml *x)
{
	const unsigned char *p = x->p;
	int n = p[0] < 0x80             ? 1
		: (p[0] & 0xe0) == 0xc0 ? 2
		: (p[0] & 0xf0) == 0xe0 ? 3
		: (p[0] & 0xf8) == 0xf0 ? 4
					: 0;

	if (n == 0 || (p[0] == 0xc0 || p[0] == 0xc1) || p[0] > 0xf4)
		return xml_fail(x, "invalid UTF-8");
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return xml_fail(x, "invalid UTF-8");
	if (n == 1 && p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r')
		return xml_fail(x, "a control character");
	return n;
}

/* An entity after '&' into n's text. */
static inline int
xml_entity(struct xml *x, struct xnode *n)
{
	static const struct {
		const char *name, *text;
	} ents[] = {{"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"}};

	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		if (strncmp((const char *)x->p, ents[i].name, strlen(ents[i].name)) == 0) {
			x->p += strlen(ents[i].name);
			return n ? xml_add(x, n, ents[i].text, 1) : 0;
		}
	if (*x->p == '#') {
		unsigned long v = 0;
		int hex = x->p[1] == 'x', digits = 0;
		x->p += hex ? 2 : 1;
		for (; (*x->p >= '0' && *x->p <= '9') ||
		       (hex && ((*x->p >= 'a' && *x->p <= 'f') || (*x->p >= 'A' && *x->p <= 'F')));
		     x->p++, digits++)
			v = v * (hex ? 16 : 10) +
			    (unsigned long)(*x->p <= '9' ? *x->p - '0' : (*x->p | 0x20) - 'a' + 10);
		if (digits == 0 || *x->p != ';' || v == 0 || v > 0x7f)
			return xml_fail(x, "a character reference this reader does not take");
		x->p++;
		char c = (char)v;
		return n ? xml_add(x, n, &c, 1) : 0;
	}
	return xml_fail(x, "an unknown entity or a bare '&'");
}

/* name="value" pairs up to '>' or '/>'. */
static inline int
xml_attrs(struct xml *x)
{
	char name[64];

	for (;;) {
		xml_space(x);
		if (*x->p == '>' || *x->p == '/')
			return 0;
		if (xml_name(x, name, sizeof(name)) != 0)
			return -1;
		xml_space(x);
		if (*x->p++ != '=')
			return xml_fail(x, "'=' expected");
		xml_space(x);
		unsigned char q = *x->p++;
		if (q != '"' && q != '\'')
			return xml_fail(x, "a quoted value expected");
		while (*x->p != q) {
			int l;
			if (*x->p == '\0' || *x->p == '<')
				return xml_fail(x, "an attribute value not closed");
			if (*x->p == '&') {
				x->p++;
				if (xml_entity(x, NULL) != 0)
					return -1;
				continue;
			}
			if ((l = xml_utf8(x)) < 0)
				return -1;
			x->p += l;
		}
		x->p++;
	}
}

static inline struct xnode *xml_element(struct xml *x);

/* Text and child elements up to the end tag of n. */
static inline int
xml_content(struct xml *x, struct xnode *n)
{
	char end[64];

	for (;;) {
		if (*x->p == '\0')
			return xml_fail(x, "the document ends inside an element");
		if (x->p[0] == '<' && x->p[1] == '/') {
			x->p += 2;
			if (xml_name(x, end, sizeof(end)) != 0)
				return -1;
			if (strcmp(end, n->name) != 0)
				return xml_fail(x, "an end tag that does not match");
			xml_space(x);
			if (*x->p++ != '>')
				return xml_fail(x, "'>' expected");
			return 0;
		}
		if (*x->p == '<') {
			struct xnode *k = xml_element(x);
			if (k == NULL)
				return -1;
			if (n->nkids == XML_KIDS_MAX) {
				xml_free(k);
				return xml_fail(x, "too many children");
			}
			n->kids[n->nkids++] = k;
			continue;
		}
		if (*x->p == '&') {
			x->p++;
			if (xml_entity(x, n) != 0)
				return -1;
			continue;
		}
		if (x->p[0] == ']' && x->p[1] == ']' && x->p[2] == '>')
			return xml_fail(x, "]]> in text");
		int l = xml_utf8(x);
		if (l < 0 || xml_add(x, n, x->p, (size_t)l) != 0)
			return -1;
		x->p += l;
	}
}

static inline struct xnode *
xml_element(struct xml *x)
{
	struct xnode *n = calloc(1, sizeof(*n));

	if (n == NULL || ++x->depth > 32) {
		xml_fail(x, n ? "too deep" : "out of memory");
		free(n);
		return NULL;
	}
	if (*x->p++ != '<' || xml_name(x, n->name, sizeof(n->name)) != 0 || xml_attrs(x) != 0)
		goto fail;
	if (x->p[0] == '/') {
		if (x->p[1] != '>')
			goto fail;
		x->p += 2;
		x->depth--;
		return n;
	}
	x->p++; /* '>' */
	if (xml_content(x, n) != 0)
		goto fail;
	x->depth--;
	return n;
fail:
	xml_fail(x, "a malformed start tag");
	xml_free(n);
	return NULL;
}

/* Parse a whole document; the root element, or NULL with *err saying why. */
static inline struct xnode *
xml_parse(const char *doc, const char **err)
{
	struct xml x = {(const unsigned char *)doc, NULL, 0};
	struct xnode *root = NULL;
	const char *e;

	if (strncmp(doc, "<?xml ", 6) == 0) {
		if ((e = strstr(doc, "?>")) == NULL) {
			*err = "the XML declaration is not closed";
			return NULL;
		}
		x.p = (const unsigned char *)e + 2;
	}
	xml_space(&x);
	if (strncmp((const char *)x.p, "<!DOCTYPE ", 10) == 0) {
		const unsigned char *gt = (const unsigned char *)strchr((const char *)x.p, '>');
		const unsigned char *br = (const unsigned char *)strchr((const char *)x.p, '[');
		if (gt == NULL || (br != NULL && br < gt)) {
			*err = "a DOCTYPE this reader does not take";
			return NULL;
		}
		x.p = gt + 1;
	}
	xml_space(&x);
	root = xml_element(&x);
	if (root != NULL) {
		xml_space(&x);
		if (*x.p != '\0')
			xml_fail(&x, "text after the root element");
	}
	if (x.err != NULL) {
		xml_free(root);
		*err = x.err;
		return NULL;
	}
	*err = NULL;
	return root;
}

/* The text of n ("" when none). */
static inline const char *
xml_text(const struct xnode *n)
{
	return n != NULL && n->text != NULL ? n->text : "";
}

/*
 * A plist <dict>'s value for key: children alternate <key> and value. NULL when absent or
 * when the dict is not key/value pairs.
 */
static inline const struct xnode *
plist_get(const struct xnode *dict, const char *key)
{
	if (dict == NULL || strcmp(dict->name, "dict") != 0 || dict->nkids % 2 != 0)
		return NULL;
	for (int i = 0; i + 1 < dict->nkids; i += 2)
		if (strcmp(dict->kids[i]->name, "key") == 0 &&
		    strcmp(xml_text(dict->kids[i]), key) == 0)
			return dict->kids[i + 1];
	return NULL;
}

/* The <string> value for key, NULL when absent or of another type. */
static inline const char *
plist_string(const struct xnode *dict, const char *key)
{
	const struct xnode *v = plist_get(dict, key);

	return v != NULL && strcmp(v->name, "string") == 0 ? xml_text(v) : NULL;
}

#endif

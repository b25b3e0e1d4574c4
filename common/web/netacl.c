/* netacl.c: IP allow-lists: IPv4/IPv6 addresses and CIDR networks, parsed with inet_pton only. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "web/netacl.h"

/* The 12-byte prefix of an IPv4-mapped IPv6 address (RFC 4291 2.5.5.2). */
static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* "0".."128": digits only, no leading zero, at most three. -1 when not. */
static int
parse_prefix(const char *s)
{
	size_t n = strlen(s);
	int v = 0;

	if (n == 0 || n > 3 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Parse an address of at most INET6_ADDRSTRLEN characters; IPv4-mapped becomes IPv4. */
static int
parse_host(const char *s, size_t n, struct netacl_net *out)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof(buf))
		return NETACL_E_FORMAT;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->addr) != 1)
		return NETACL_E_FORMAT;
	if (memcmp(out->addr, mapped, sizeof(mapped)) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->prefix = 32;
		return 0;
	}
	out->v6 = 1;
	out->prefix = 128;
	return 0;
}

/* 1 when a bit right of prefix is set in addr. */
static int
host_bits(const struct netacl_net *n)
{
	size_t bytes = n->v6 ? 16 : 4;

	for (size_t i = 0; i < bytes; i++) {
		unsigned keep = 0;
		if (n->prefix >= (i + 1) * 8)
			keep = 8;
		else if (n->prefix > i * 8)
			keep = n->prefix - (unsigned)i * 8;
		unsigned char mask = (unsigned char)(keep == 0 ? 0xff : (0xff >> keep));
		if (keep < 8 && (n->addr[i] & mask) != 0)
			return 1;
	}
	return 0;
}

int
netacl_parse(const char *text, struct netacl_net *out)
{
	const char *slash = strchr(text, '/');
	struct netacl_net n;
	int rc, p, mapped_text;

	if ((rc = parse_host(text, slash ? (size_t)(slash - text) : strlen(text), &n)) != 0)
		return rc;
	if (slash != NULL) {
		if ((p = parse_prefix(slash + 1)) < 0)
			return NETACL_E_FORMAT;
		/* a mapped network's prefix counts the 96 bits of ::ffff:0:0 */
		mapped_text = !n.v6 && strchr(text, ':') != NULL;
		if (mapped_text) {
			if (p > 128)
				return NETACL_E_PREFIX;
			if (p < 96)
				return NETACL_E_HOSTBITS; /* ::ffff is set right of such a prefix */
			p -= 96;
		}
		if ((unsigned)p > (n.v6 ? 128u : 32u))
			return NETACL_E_PREFIX;
		n.prefix = (unsigned)p;
	}
	if (host_bits(&n))
		return NETACL_E_HOSTBITS;
	*out = n;
	return 0;
}

int
netacl_parse_addr(const char *text, struct netacl_net *out)
{
	if (strchr(text, '/') != NULL)
		return NETACL_E_FORMAT;
	return parse_host(text, strlen(text), out);
}

int
netacl_contains(const struct netacl_net *net, const struct netacl_net *addr)
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;

	if (net->v6 != addr->v6)
		return 0;
	if (memcmp(net->addr, addr->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr->addr[full] & mask);
}

int
netacl_match(const struct netacl_net *list, size_t n, const struct netacl_net *addr)
{
	for (size_t i = 0; i < n; i++)
		if (netacl_contains(&list[i], addr))
			return 1;
	return 0;
}

int
netacl_json_allows(const char *list_json, const char *addr)
{
	struct netacl_net net, host;
	cJSON *list, *item;
	int ok = 0;

	if (addr == NULL || list_json == NULL || netacl_parse_addr(addr, &host) != 0 ||
	    (list = cJSON_Parse(list_json)) == NULL)
		return 0;
	cJSON_ArrayForEach(item, list)
	{
		if (cJSON_IsString(item) && netacl_parse(item->valuestring, &net) == 0 &&
		    netacl_contains(&net, &host)) {
			ok = 1;
			break;
		}
	}
	cJSON_Delete(list);
	return ok;
}

int
netacl_is_any(const struct netacl_net *net)
{
	return net->prefix == 0;
}

void
netacl_format(const struct netacl_net *net, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(net->v6 ? AF_INET6 : AF_INET, net->addr, a, sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(buf, len, "%s/%u", a, net->prefix);
}

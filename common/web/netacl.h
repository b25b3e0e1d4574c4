/* netacl.h: IP allow-lists: IPv4/IPv6 addresses and CIDR networks, parsed with inet_pton only. */
#ifndef SHOMEI_NETACL_H
#define SHOMEI_NETACL_H

#include "core/err.h"

#include <stddef.h>

/* The longest text netacl_format writes, with its NUL ("ffff:…:ffff/128"). */
#define NETACL_TEXT_MAX 48

/*
 * One address or network. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, and
 * ::ffff:a.b.c.d/96+n) is held as the IPv4 one (a.b.c.d, /n), so an
 * allow-list entry and a client address compare the same whichever way nginx
 * or the administrator wrote them.
 */
struct netacl_net {
	int v6;                 /* 0: IPv4 (addr[0..3]), 1: IPv6 */
	unsigned char addr[16]; /* network byte order */
	unsigned prefix;        /* 0..32 or 0..128; a single address has the full length */
};

/*
 * Parse "addr" or "addr/prefix" (the prefix in decimal, 0..32 or 0..128,
 * without sign, spaces or leading zeros). Host bits set right of the prefix
 * are refused (NETACL_E_HOSTBITS), not cleared: "192.0.2.1/24" is more often a
 * typing slip than a wish for 192.0.2.0/24, and PostgreSQL's cidr refuses it
 * too. Nothing but inet_pton reads the address (no name lookups), so
 * surrounding white space, zone ids (%eth0) and IPv4 shorthands (10.1) are
 * refused. 0 or NETACL_E_*; *out is written only on success.
 */
int netacl_parse(const char *text, struct netacl_net *out);

/* Parse a single address (no "/prefix"), e.g. nginx's $remote_addr. 0 or NETACL_E_FORMAT. */
int netacl_parse_addr(const char *text, struct netacl_net *out);

/* 1 when addr (a single address) lies in net; different families never match. */
int netacl_contains(const struct netacl_net *net, const struct netacl_net *addr);

/* 1 when addr lies in one of the n networks of list; an empty list matches nothing. */
int netacl_match(const struct netacl_net *list, size_t n, const struct netacl_net *addr);

/*
 * 1 when addr (a single address as text, e.g. nginx's $remote_addr) lies in one of the networks
 * of list_json, a JSON array of CIDR texts (a tenant's download_allowlist as array_to_json gives
 * it). A NULL or malformed list, an entry that does not parse or an address that does not parse
 * match nothing: the answer is "refused" whenever it cannot be "allowed".
 */
int netacl_json_allows(const char *list_json, const char *addr);

/* 1 for 0.0.0.0/0 and ::/0 (everyone). */
int netacl_is_any(const struct netacl_net *net);

/* Canonical text ("192.0.2.0/24", "2001:db8::1/128") into buf (NETACL_TEXT_MAX bytes). */
void netacl_format(const struct netacl_net *net, char *buf, size_t len);

#endif

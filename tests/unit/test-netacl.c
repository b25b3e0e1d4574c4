/* test-netacl.c: allow-list parsing (valid, boundary, empty, whitespace, garbage) and matching. */
#include <stdio.h>
#include <string.h>

#include "web/netacl.h"
#include "tap.h"

struct parse_case {
	const char *in;
	int rc;
	const char *canon; /* netacl_format of the result when rc == 0 */
};

static const struct parse_case parse_cases[] = {
	/* valid */
	{"192.0.2.1", 0, "192.0.2.1/32"},
	{"192.0.2.0/24", 0, "192.0.2.0/24"},
	{"10.0.0.0/8", 0, "10.0.0.0/8"},
	{"2001:db8::1", 0, "2001:db8::1/128"},
	{"2001:db8::/32", 0, "2001:db8::/32"},
	{"2001:DB8::/32", 0, "2001:db8::/32"},
	{"::1", 0, "::1/128"},
	{"fe80::/10", 0, "fe80::/10"},
	/* IPv4-mapped IPv6 is IPv4 */
	{"::ffff:192.0.2.1", 0, "192.0.2.1/32"},
	{"::FFFF:c000:0201", 0, "192.0.2.1/32"},
	{"::ffff:192.0.2.0/120", 0, "192.0.2.0/24"},
	{"::ffff:0.0.0.0/96", 0, "0.0.0.0/0"},
	{"::ffff:192.0.2.1/128", 0, "192.0.2.1/32"},
	/* boundaries */
	{"0.0.0.0/0", 0, "0.0.0.0/0"},
	{"::/0", 0, "::/0"},
	{"255.255.255.255/32", 0, "255.255.255.255/32"},
	{"192.0.2.1/32", 0, "192.0.2.1/32"},
	{"128.0.0.0/1", 0, "128.0.0.0/1"},
	{"192.0.2.128/25", 0, "192.0.2.128/25"},
	{"2001:db8::1/128", 0, "2001:db8::1/128"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 0,
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
	{"192.0.2.0/33", NETACL_E_PREFIX, NULL},
	{"2001:db8::/129", NETACL_E_PREFIX, NULL},
	{"::ffff:192.0.2.0/129", NETACL_E_PREFIX, NULL},
	{"192.0.2.0/999", NETACL_E_PREFIX, NULL},
	/* host bits */
	{"192.0.2.1/24", NETACL_E_HOSTBITS, NULL},
	{"192.0.2.129/25", NETACL_E_HOSTBITS, NULL},
	{"1.0.0.0/0", NETACL_E_HOSTBITS, NULL},
	{"2001:db8::1/64", NETACL_E_HOSTBITS, NULL},
	{"::ffff:192.0.2.1/120", NETACL_E_HOSTBITS, NULL},
	{"::ffff:0.0.0.0/80", NETACL_E_HOSTBITS, NULL},
	/* empty */
	{"", NETACL_E_FORMAT, NULL},
	{"/", NETACL_E_FORMAT, NULL},
	{"/24", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/", NETACL_E_FORMAT, NULL},
	/* white space */
	{" 192.0.2.1", NETACL_E_FORMAT, NULL},
	{"192.0.2.1 ", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/ 24", NETACL_E_FORMAT, NULL},
	{"192.0.2.0 /24", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/24\n", NETACL_E_FORMAT, NULL},
	{"\t::1", NETACL_E_FORMAT, NULL},
	/* garbage */
	{"localhost", NETACL_E_FORMAT, NULL},
	{"example.com", NETACL_E_FORMAT, NULL},
	{"10.1", NETACL_E_FORMAT, NULL},
	{"010.0.0.1", NETACL_E_FORMAT, NULL},
	{"0x7f.0.0.1", NETACL_E_FORMAT, NULL},
	{"256.0.0.1", NETACL_E_FORMAT, NULL},
	{"1.2.3.4.5", NETACL_E_FORMAT, NULL},
	{"fe80::1%eth0", NETACL_E_FORMAT, NULL},
	{"2001:db8:::1", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/24/8", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/+24", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/-1", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/024", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/2a", NETACL_E_FORMAT, NULL},
	{"192.0.2.0/1000", NETACL_E_FORMAT, NULL},
	{"[::1]", NETACL_E_FORMAT, NULL},
	{"1111:2222:3333:4444:5555:6666:7777:8888:9999", NETACL_E_FORMAT, NULL},
	{"\xe3\x80\x80", NETACL_E_FORMAT, NULL},
};

struct match_case {
	const char *net;
	const char *addr;
	int match;
};

static const struct match_case match_cases[] = {
	{"192.0.2.0/24", "192.0.2.0", 1},
	{"192.0.2.0/24", "192.0.2.255", 1},
	{"192.0.2.0/24", "192.0.3.0", 0},
	{"192.0.2.0/24", "192.0.1.255", 0},
	{"192.0.2.128/25", "192.0.2.127", 0},
	{"192.0.2.128/25", "192.0.2.128", 1},
	{"127.0.0.1", "127.0.0.1", 1},
	{"127.0.0.1", "127.0.0.2", 0},
	{"127.0.0.1", "::ffff:127.0.0.1", 1},
	{"::ffff:127.0.0.1", "127.0.0.1", 1},
	{"::ffff:127.0.0.0/104", "127.9.9.9", 1},
	{"0.0.0.0/0", "203.0.113.9", 1},
	{"0.0.0.0/0", "::1", 0},
	{"::/0", "2001:db8::1", 1},
	{"::/0", "192.0.2.1", 0},
	{"::1", "::1", 1},
	{"::1", "::2", 0},
	{"::1", "127.0.0.1", 0},
	{"2001:db8::/32", "2001:db8:ffff::1", 1},
	{"2001:db8::/32", "2001:db9::1", 0},
	{"2001:db8:8000::/33", "2001:db8:7fff::1", 0},
	{"2001:db8:8000::/33", "2001:db8:8000::1", 1},
};

/* The case as printable text for its TAP line (control characters as '?'). */
static const char *
shown(const char *in, char *buf, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i < len - 1; i++)
		buf[i] = (unsigned char)in[i] < 0x20 ? '?' : in[i];
	buf[i] = '\0';
	return buf;
}

static void
test_parse(void)
{
	char buf[NETACL_TEXT_MAX], show[64];

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct netacl_net n;
		memset(&n, 0xAA, sizeof(n));
		int rc = netacl_parse(c->in, &n);
		TAP_OK(rc == c->rc, "parse \"%s\" gives %d (got %d)",
		       shown(c->in, show, sizeof(show)), c->rc, rc);
		if (c->rc == 0 && rc == 0) {
			netacl_format(&n, buf, sizeof(buf));
			TAP_STREQ(buf, c->canon, "\"%s\" is written %s (got %s)", c->in, c->canon,
				  buf);
		}
	}
}

static void
test_match(void)
{
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		struct netacl_net n, a;
		int ok = netacl_parse(c->net, &n) == 0 && netacl_parse_addr(c->addr, &a) == 0;
		TAP_OK(ok && netacl_contains(&n, &a) == c->match, "%s %s %s", c->addr,
		       c->match ? "is in" : "is not in", c->net);
	}
}

static void
test_list(void)
{
	struct netacl_net list[3], a;

	TAP_OK(netacl_parse_addr("127.0.0.1", &a) == 0 && !netacl_match(list, 0, &a),
	       "an empty list matches nobody");
	TAP_OK(netacl_parse("10.0.0.0/8", &list[0]) == 0 && netacl_parse("::1", &list[1]) == 0 &&
		       netacl_parse("192.0.2.7", &list[2]) == 0,
	       "a list of three parses");
	TAP_OK(netacl_parse_addr("192.0.2.7", &a) == 0 && netacl_match(list, 3, &a),
	       "the last entry matches");
	TAP_OK(netacl_parse_addr("::1", &a) == 0 && netacl_match(list, 3, &a), "::1 matches");
	TAP_OK(netacl_parse_addr("::ffff:10.1.2.3", &a) == 0 && netacl_match(list, 3, &a),
	       "a mapped address matches the IPv4 network");
	TAP_OK(netacl_parse_addr("192.0.2.8", &a) == 0 && !netacl_match(list, 3, &a),
	       "an address outside matches nothing");
	TAP_OK(netacl_parse_addr("10.0.0.0/8", &a) == NETACL_E_FORMAT,
	       "an address refuses a /prefix");
	TAP_OK(netacl_parse_addr("", &a) == NETACL_E_FORMAT, "an empty address is refused");
	TAP_OK(netacl_parse("0.0.0.0/0", &list[0]) == 0 && netacl_is_any(&list[0]),
	       "0.0.0.0/0 is everyone");
	TAP_OK(netacl_parse("::/0", &list[0]) == 0 && netacl_is_any(&list[0]), "::/0 is everyone");
	TAP_OK(netacl_parse("0.0.0.0/1", &list[0]) == 0 && !netacl_is_any(&list[0]),
	       "0.0.0.0/1 is not everyone");
}

/* A tenant's allow-list as PostgreSQL hands it over (array_to_json of cidr[]). */
static void
test_json(void)
{
	const char *list = "[\"10.0.0.0/8\",\"2001:db8::/32\",\"192.0.2.7/32\"]";

	TAP_OK(netacl_json_allows(list, "10.20.30.40"), "10.20.30.40 is in the JSON list");
	TAP_OK(netacl_json_allows(list, "::ffff:192.0.2.7"), "a mapped address matches /32");
	TAP_OK(netacl_json_allows(list, "2001:db8:1::5"), "an IPv6 address in 2001:db8::/32");
	TAP_OK(!netacl_json_allows(list, "192.0.2.8"), "an address outside is refused");
	TAP_OK(!netacl_json_allows("[]", "10.0.0.1"), "an empty list refuses everyone");
	TAP_OK(!netacl_json_allows(NULL, "10.0.0.1"), "no list refuses everyone");
	TAP_OK(!netacl_json_allows("[\"10.0.0.0/8\"", "10.0.0.1"), "a malformed list refuses");
	TAP_OK(!netacl_json_allows("[\"10.0.0.1/8\", 7]", "10.0.0.1"),
	       "entries that do not parse match nothing");
	TAP_OK(!netacl_json_allows(list, "10.0.0.1/32"),
	       "a client address with a prefix is refused");
	TAP_OK(!netacl_json_allows(list, NULL), "no client address is refused");
	TAP_OK(netacl_json_allows("[\"0.0.0.0/0\",\"::/0\"]", "203.0.113.9"),
	       "0.0.0.0/0 lets everyone in");
}

int
main(void)
{
	test_parse();
	test_match();
	test_list();
	test_json();
	return tap_done();
}

/*
 * test_netaddr.c: which addresses are not on the public internet, and allow lists.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/netaddr.h"
#include "tests/check.h"

/* What netaddr_special says of an address written as text, or "public". */
static const char *what(const char *text)
{
	struct netaddr a;
	const char *w;

	if (!netaddr_parse(text, &a))
		return "(unparsable)";
	w = netaddr_special(&a);
	return w ? w : "public";
}

TEST(test_special)
{
	CHECK_STR(what("127.0.0.1"), "loopback");
	CHECK_STR(what("127.255.1.2"), "loopback");
	CHECK_STR(what("::1"), "loopback");
	CHECK_STR(what("::ffff:127.0.0.1"), "loopback");   /* IPv4 in IPv6 */
	CHECK_STR(what("64:ff9b::7f00:1"), "loopback");     /* IPv4 through NAT64 */
	CHECK_STR(what("10.1.2.3"), "private");
	CHECK_STR(what("172.16.0.1"), "private");
	CHECK_STR(what("172.31.255.255"), "private");
	CHECK_STR(what("172.32.0.1"), "public");
	CHECK_STR(what("172.15.255.255"), "public");
	CHECK_STR(what("192.168.1.1"), "private");
	CHECK_STR(what("fc00::1"), "private");
	CHECK_STR(what("fdff:ffff::1"), "private");
	CHECK_STR(what("fe80::1"), "link-local");
	CHECK_STR(what("febf::1"), "link-local");
	CHECK_STR(what("169.254.169.254"), "link-local"); /* cloud metadata */
	CHECK_STR(what("::ffff:169.254.169.254"), "link-local");
	CHECK_STR(what("0.0.0.0"), "unspecified");
	CHECK_STR(what("0.1.2.3"), "unspecified");
	CHECK_STR(what("::"), "unspecified");
	CHECK_STR(what("224.0.0.1"), "multicast");
	CHECK_STR(what("239.255.255.250"), "multicast");
	CHECK_STR(what("ff02::1"), "multicast");
	CHECK_STR(what("100.64.0.1"), "shared (carrier-grade NAT)");
	CHECK_STR(what("255.255.255.255"), "reserved");
	CHECK_STR(what("::10.0.0.1"), "reserved");
	/* The public internet. */
	CHECK_STR(what("8.8.8.8"), "public");
	CHECK_STR(what("93.184.216.34"), "public");
	CHECK_STR(what("100.128.0.1"), "public");
	CHECK_STR(what("169.253.255.255"), "public");
	CHECK_STR(what("2a00:1450:4009:81f::200e"), "public");
	CHECK_STR(what("64:ff9b::808:808"), "public");
	CHECK_STR(what("fe00::1"), "public");
}

TEST(test_parse)
{
	struct netaddr a;
	char text[64];

	CHECK(netaddr_parse("10.0.0.0/8", &a) && a.prefix == 104);
	CHECK(netaddr_parse("fc00::/7", &a) && a.prefix == 7);
	CHECK(netaddr_parse("::1", &a) && a.prefix == 128);
	CHECK(!netaddr_parse("", &a));
	CHECK(!netaddr_parse("localhost", &a));
	CHECK(!netaddr_parse("10.0.0.0/33", &a));
	CHECK(!netaddr_parse("10.0.0.0/", &a));
	CHECK(!netaddr_parse("10.0.0.0/8/8", &a));
	CHECK(!netaddr_parse("::/129", &a));
	CHECK(!netaddr_parse("1.2.3", &a));
	CHECK(!netaddr_parse("/8", &a));
	CHECK(netaddr_parse("::ffff:10.0.0.5", &a));
	netaddr_str(&a, text, sizeof(text));
	CHECK_STR(text, "10.0.0.5");
	CHECK(netaddr_parse("fe80::1", &a));
	netaddr_str(&a, text, sizeof(text));
	CHECK_STR(text, "fe80::1");
}

TEST(test_lists_and_sockaddrs)
{
	struct netaddr items[2], a;
	struct netaddr_list l = { items, 2 };
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
	struct sockaddr other = { .sa_family = AF_UNIX };

	CHECK(netaddr_parse("127.0.0.1", &items[0]) && netaddr_parse("10.20.0.0/16", &items[1]));
	inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
	CHECK(netaddr_from_sockaddr((struct sockaddr *)&v4, &a) && netaddr_list_contains(&l, &a));
	inet_pton(AF_INET, "127.0.0.2", &v4.sin_addr);
	CHECK(netaddr_from_sockaddr((struct sockaddr *)&v4, &a) && !netaddr_list_contains(&l, &a));
	inet_pton(AF_INET, "10.20.255.1", &v4.sin_addr);
	CHECK(netaddr_from_sockaddr((struct sockaddr *)&v4, &a) && netaddr_list_contains(&l, &a));
	inet_pton(AF_INET, "10.21.0.1", &v4.sin_addr);
	CHECK(netaddr_from_sockaddr((struct sockaddr *)&v4, &a) && !netaddr_list_contains(&l, &a));
	/* The same address in IPv6 clothing is the same address. */
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
	CHECK(netaddr_from_sockaddr((struct sockaddr *)&v6, &a) && netaddr_list_contains(&l, &a));
	inet_pton(AF_INET6, "::1", &v6.sin6_addr);
	CHECK(netaddr_from_sockaddr((struct sockaddr *)&v6, &a) && !netaddr_list_contains(&l, &a));
	CHECK_STR(netaddr_special(&a), "loopback");
	CHECK(!netaddr_from_sockaddr(&other, &a));
}

int main(void)
{
	RUN(test_special);
	RUN(test_parse);
	RUN(test_lists_and_sockaddrs);
	return check_summary("netaddr");
}

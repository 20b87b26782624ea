/*
 * netaddr.c: IP addresses and blocks (see netaddr.h).
 */
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ::ffff:0:0/96, where IPv4 addresses live in IPv6. */
static const unsigned char netaddr_v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
/* 64:ff9b::/96, NAT64's well-known prefix: an IPv4 address behind a translator. */
static const unsigned char netaddr_nat64[12] = { 0, 0x64, 0xff, 0x9b };

static bool netaddr_is_v4(const struct netaddr *a)
{
	return memcmp(a->bytes, netaddr_v4_mapped, 12) == 0;
}

static void netaddr_set_v4(struct netaddr *a, const void *v4)
{
	memcpy(a->bytes, netaddr_v4_mapped, 12);
	memcpy(a->bytes + 12, v4, 4);
}

bool netaddr_parse(const char *s, struct netaddr *out)
{
	const char *slash = strchr(s, '/');
	char host[INET6_ADDRSTRLEN];
	unsigned char raw[16];
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int64_t bits = -1;

	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, raw) == 1) {
		if (slash && !str_to_i64(slash + 1, 0, 32, &bits))
			return false;
		netaddr_set_v4(out, raw);
		out->prefix = bits < 0 ? 128 : 96 + (int)bits;
		return true;
	}
	if (inet_pton(AF_INET6, host, raw) == 1) {
		if (slash && !str_to_i64(slash + 1, 0, 128, &bits))
			return false;
		memcpy(out->bytes, raw, 16);
		out->prefix = bits < 0 ? 128 : (int)bits;
		return true;
	}
	return false;
}

bool netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
	out->prefix = 128;
	if (sa->sa_family == AF_INET) {
		netaddr_set_v4(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out->bytes, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

bool netaddr_contains(const struct netaddr *block, const struct netaddr *a)
{
	int full = block->prefix / 8, rest = block->prefix % 8;

	if (memcmp(block->bytes, a->bytes, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (block->bytes[full] & mask) == (a->bytes[full] & mask);
}

/* A block as the first bytes of its address, its prefix length and what it is. */
struct netaddr_block {
	unsigned char bytes[16];
	int prefix;
	const char *what;
};

#define V4(a, b, c, d, bits, what) \
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d }, 96 + (bits), what }

static const struct netaddr_block netaddr_blocks[] = {
	V4(0, 0, 0, 0, 8, "unspecified"),         /* "this network": 0.0.0.0 reaches this host */
	V4(127, 0, 0, 0, 8, "loopback"),
	V4(10, 0, 0, 0, 8, "private"),
	V4(172, 16, 0, 0, 12, "private"),
	V4(192, 168, 0, 0, 16, "private"),
	V4(100, 64, 0, 0, 10, "shared (carrier-grade NAT)"),
	V4(169, 254, 0, 0, 16, "link-local"),     /* 169.254.169.254: cloud metadata */
	V4(224, 0, 0, 0, 4, "multicast"),
	V4(240, 0, 0, 0, 4, "reserved"),          /* and 255.255.255.255, broadcast */
	{ { 0 }, 128, "unspecified" },            /* :: */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, "loopback" }, /* ::1 */
	{ { 0 }, 96, "reserved" },                /* ::a.b.c.d, IPv4-compatible (obsolete) */
	{ { 0xfc }, 7, "private" },               /* unique local addresses */
	{ { 0xfe, 0xc0 }, 10, "private" },        /* site-local (obsolete) */
	{ { 0xfe, 0x80 }, 10, "link-local" },
	{ { 0xff }, 8, "multicast" },
};

#undef V4

const char *netaddr_special(const struct netaddr *a)
{
	struct netaddr v4;

	if (memcmp(a->bytes, netaddr_nat64, 12) == 0) { /* judged as the IPv4 address it is */
		netaddr_set_v4(&v4, a->bytes + 12);
		a = &v4;
	}
	for (size_t i = 0; i < ARRAY_LEN(netaddr_blocks); i++) {
		struct netaddr block;
		memcpy(block.bytes, netaddr_blocks[i].bytes, 16);
		block.prefix = netaddr_blocks[i].prefix;
		if (netaddr_contains(&block, a))
			return netaddr_blocks[i].what;
	}
	return NULL;
}

void netaddr_str(const struct netaddr *a, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN] = "?";

	if (netaddr_is_v4(a))
		inet_ntop(AF_INET, a->bytes + 12, text, sizeof(text));
	else
		inet_ntop(AF_INET6, a->bytes, text, sizeof(text));
	snprintf(out, size, "%s", text);
}

bool netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (netaddr_contains(&l->items[i], a))
			return true;
	return false;
}

void netaddr_list_free(struct netaddr_list *l)
{
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/*
 * netaddr.h: IP addresses and blocks: which addresses are not on the public internet
 * (loopback, private, link-local...), and lists of allowed ones.
 *
 * An IPv4 address written in IPv6 (::ffff:127.0.0.1, or 64:ff9b::7f00:1 through NAT64)
 * is judged as the IPv4 address it is.
 */
#ifndef SIGNPOST_NETADDR_H
#define SIGNPOST_NETADDR_H

#include <sys/socket.h>

#include "common/util.h"

/* An address, or a block of them ("10.0.0.0/8", "fc00::/7"): IPv4 is held as IPv6. */
struct netaddr {
	unsigned char bytes[16];
	int prefix; /* bits that must match, 0 to 128 */
};

/* Parses "127.0.0.1", "::1", "10.0.0.0/8" or "fc00::/7"; false for anything else. */
bool netaddr_parse(const char *s, struct netaddr *out) WUR;
/* The address of an AF_INET or AF_INET6 sockaddr; false for another family. */
bool netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out) WUR;
/* True when block (prefix included) contains the address a. */
bool netaddr_contains(const struct netaddr *block, const struct netaddr *a);
/*
 * What a is when it is not an address on the public internet: "loopback", "private",
 * "shared (carrier-grade NAT)", "link-local", "unspecified", "multicast" or "reserved"
 * (the link-local block holds the cloud metadata address 169.254.169.254); NULL for a
 * public address.
 */
const char *netaddr_special(const struct netaddr *a);
/* Writes a as text ("10.0.0.5", "::1"; an IPv4 address in IPv6 as IPv4). */
void netaddr_str(const struct netaddr *a, char *out, size_t size);

/* A list of allowed addresses and blocks. */
struct netaddr_list {
	struct netaddr *items;
	size_t n;
};

bool netaddr_list_contains(const struct netaddr_list *l, const struct netaddr *a);
void netaddr_list_free(struct netaddr_list *l);

#endif

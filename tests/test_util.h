/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the Check suites share: literal addresses, socket addresses and prefixes that fail the
 * test (naming the bad text) instead of returning an error.
 */
#ifndef KPSIM_TEST_UTIL_H
#define KPSIM_TEST_UTIL_H

#include <check.h>

#include "sim/sim_addr.h"

/* The address written as text; fails the test on a malformed one. */
static inline SimAddr
addr(const char *text)
{
    SimAddr a;
    ck_assert_msg(sim_addr_parse(text, &a), "bad address %s", text);
    return a;
}

/* "IP:PORT" or "[IPv6]:PORT"; fails the test on a malformed one. */
static inline SimSockAddr
sockaddr(const char *text)
{
    SimSockAddr s;
    ck_assert_msg(sim_sockaddr_parse(text, &s, FALSE), "bad socket address %s", text);
    return s;
}

/* "ADDR/LEN" (or a bare address); fails the test on a malformed one. */
static inline SimCidr
cidr(const char *text)
{
    SimCidr c;
    ck_assert_msg(sim_cidr_parse(text, &c), "bad CIDR %s", text);
    return c;
}

#endif

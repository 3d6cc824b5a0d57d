/* SPDX-License-Identifier: Apache-2.0 */
/* kube-proxy's chain-name hashes: SHA-256 of a service-port name, a protocol and optionally an
 * endpoint, encoded in base32 and cut to 16 characters.
 *
 * Models portProtoHash() and servicePortEndpointChainName() of pkg/proxy/iptables/proxier.go:
 * sha256.Sum256([]byte(servicePortName + protocol [+ endpoint])) encoded with Go's
 * base32.StdEncoding (RFC 4648, uppercase alphabet A-Z2-7), of which only the first 16
 * characters are kept so that "KUBE-SEP-" + hash fits iptables' 28-character chain names.
 * Sixteen base32 characters are exactly the first 10 digest bytes, so padding never occurs.
 */
#include "model/kube_proxy.h"

#include <string.h>

#define KP_HASH_CHARS 16
#define KP_HASH_BYTES 10 /* 16 characters x 5 bits = 80 bits */

/* Encodes the first KP_HASH_BYTES bytes of digest as KP_HASH_CHARS base32 characters plus a
 * NUL into out (RFC 4648 section 6, uppercase alphabet). */
static void
kp_hash_base32(const guint8 *digest, char out[KP_HASH_CHARS + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    guint bits = 0;
    guint32 acc = 0;
    guint n = 0;

    for (guint i = 0; i < KP_HASH_BYTES; i++) {
        acc = (acc << 8) | digest[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[n++] = alphabet[(acc >> bits) & 0x1f];
        }
    }
    g_assert(n == KP_HASH_CHARS && bits == 0);
    out[n] = '\0';
}

/* Hashes the concatenation of parts (a NULL-terminated list) with SHA-256 and writes the first
 * 16 base32 characters of the digest and a NUL into out. */
static void
kp_hash_parts(const char *const *parts, char out[KUBE_PROXY_HASH_SIZE])
{
    G_STATIC_ASSERT(KUBE_PROXY_HASH_SIZE == KP_HASH_CHARS + 1);
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    for (guint i = 0; parts[i] != NULL; i++)
        g_checksum_update(sum, (const guchar *)parts[i], (gssize)strlen(parts[i]));

    guint8 digest[32];
    gsize len = sizeof digest;
    g_checksum_get_digest(sum, digest, &len);
    g_assert(len == sizeof digest);
    kp_hash_base32(digest, out);
}

/* portProtoHash: base32(SHA-256(service_port_name + proto))[:16], into out. */
void
kube_proxy_port_proto_hash_into(const char *service_port_name, const char *proto,
                                char out[KUBE_PROXY_HASH_SIZE])
{
    g_return_if_fail(service_port_name != NULL && proto != NULL && out != NULL);
    const char *parts[] = {service_port_name, proto, NULL};
    kp_hash_parts(parts, out);
}

/* servicePortEndpointChainName's hash, into out. */
void
kube_proxy_endpoint_hash_into(const char *service_port_name, const char *proto,
                              const char *endpoint, char out[KUBE_PROXY_HASH_SIZE])
{
    g_return_if_fail(service_port_name != NULL && proto != NULL && endpoint != NULL);
    g_return_if_fail(out != NULL);
    const char *parts[] = {service_port_name, proto, endpoint, NULL};
    kp_hash_parts(parts, out);
}

/* portProtoHash: base32(SHA-256(service_port_name + proto))[:16]. (transfer full) */
char *
kube_proxy_port_proto_hash(const char *service_port_name, const char *proto)
{
    g_return_val_if_fail(service_port_name != NULL && proto != NULL, NULL);
    char out[KUBE_PROXY_HASH_SIZE];
    kube_proxy_port_proto_hash_into(service_port_name, proto, out);
    return g_strdup(out);
}

/* servicePortEndpointChainName's hash: base32(SHA-256(service_port_name + proto +
 * endpoint))[:16]. (transfer full) */
char *
kube_proxy_endpoint_hash(const char *service_port_name, const char *proto, const char *endpoint)
{
    g_return_val_if_fail(service_port_name != NULL && proto != NULL && endpoint != NULL, NULL);
    char out[KUBE_PROXY_HASH_SIZE];
    kube_proxy_endpoint_hash_into(service_port_name, proto, endpoint, out);
    return g_strdup(out);
}

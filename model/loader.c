/* SPDX-License-Identifier: Apache-2.0 */
/* Loading scenario files and manifests: the stream, the kind: Scenario document, spec.manifests,
 * spec.patches, the checks that need every object, and the typed field readers the decoders
 * share.
 *
 * Stands in for `kubectl apply -f`'s client side (decoding, strict field checking) plus the
 * apiserver's validation of the fields kpsim uses, with errors worded as those tools word them
 * and positioned at the offending key or value. A load is all or nothing: on error the target is
 * left exactly as it was. Left out: server-side defaulting kpsim does not use, admission
 * plugins, and every kind that does not shape the datapath (those are ignored with a warning).
 *
 * spec.patches are applied here, right after the stream and its manifests are read, with
 * strategic-merge semantics (Service ports keyed by port number, containers by name); the
 * Scenario record does not keep them.
 */
#include "model/loader_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK(kpsim - loader - error - quark, loader_error)

/* ---------------------------------------------------------------- errors */

/* Formats the one-line error at file:line:column. */
static void
ld_set_error_va(GError **error, const char *file, guint line, guint column, const char *prefix,
                const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    g_set_error(error, LOADER_ERROR, LOADER_ERROR_INVALID, "%s:%u:%u: error: %s%s",
                file != NULL ? file : "<unknown>", line, column, prefix, msg);
}

/* See loader_private.h. */
gboolean
ld_fail(GError **error, const YtNode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ld_set_error_va(error, at->file, at->line, at->column, "", fmt, ap);
    va_end(ap);
    return FALSE;
}

/* See loader_private.h. */
gboolean
ld_fail_pos(GError **error, const K8sPos *pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ld_set_error_va(error, pos->file, pos->line, pos->column, "", fmt, ap);
    va_end(ap);
    return FALSE;
}

/* "The Service \"web\" is invalid: " for objects, "" for scenario fields. (transfer full) */
static char *
ld_invalid_prefix(const LdObject *o)
{
    if (o == NULL || o->kind == NULL || o->name == NULL)
        return g_strdup("");
    return g_strdup_printf("The %s \"%s\" is invalid: ", o->kind, o->name != NULL ? o->name : "");
}

/* See loader_private.h. */
gboolean
ld_invalid(const LdObject *o, GError **error, const YtNode *at, const char *fmt, ...)
{
    g_autofree char *prefix = ld_invalid_prefix(o);
    va_list ap;
    va_start(ap, fmt);
    ld_set_error_va(error, at->file, at->line, at->column, prefix, fmt, ap);
    va_end(ap);
    return FALSE;
}

/* See loader_private.h. */
gboolean
ld_invalid_pos(const LdObject *o, GError **error, const K8sPos *pos, const char *fmt, ...)
{
    g_autofree char *prefix = ld_invalid_prefix(o);
    va_list ap;
    va_start(ap, fmt);
    ld_set_error_va(error, pos->file, pos->line, pos->column, prefix, fmt, ap);
    va_end(ap);
    return FALSE;
}

/* See loader_private.h. */
void
ld_warn(Loader *ld, const YtNode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(ld->sc->warnings,
                    g_strdup_printf("%s:%u:%u: warning: %s", at->file, at->line, at->column, msg));
}

/* See loader_private.h. */
K8sPos
ld_pos(const YtNode *n)
{
    K8sPos p = {n->file, n->line, n->column};
    return p;
}

/* ---------------------------------------------------------------- paths */

/* See loader_private.h. */
char *
ld_path(const char *parent, const char *key)
{
    if (parent == NULL || parent[0] == '\0')
        return g_strdup(key);
    return g_strdup_printf("%s.%s", parent, key);
}

/* See loader_private.h. */
char *
ld_path_index(const char *parent, guint i)
{
    return g_strdup_printf("%s[%u]", parent != NULL ? parent : "", i);
}

/* "PATH: " or "" for messages about a whole document. (transfer full) */
static char *
ld_path_prefix(const char *path)
{
    return path != NULL && path[0] != '\0' ? g_strdup_printf("%s: ", path) : g_strdup("");
}

/* ---------------------------------------------------------------- structure */

/* See loader_private.h. Cost: O(keys * known). */
gboolean
ld_check_fields(const YtNode *n, const char *const *known, const char *what, const char *path,
                GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    if (!ld_expect_map(n, path, error))
        return FALSE;
    for (guint i = 0; i < n->pairs->len; i++) {
        const YtNode *key = g_array_index(n->pairs, YtPair, i).key;
        gboolean found = FALSE;
        for (const char *const *k = known; *k != NULL && !found; k++)
            found = strcmp(*k, key->text) == 0;
        if (found)
            continue;
        const char *hint = yt_closest(key->text, known);
        g_autofree char *where =
            path != NULL && path[0] != '\0' ? g_strdup_printf("%s %s", what, path) : g_strdup(what);
        if (hint != NULL)
            return ld_fail(error, key, "unknown field '%s' in %s; did you mean '%s'?", key->text,
                           where, hint);
        return ld_fail(error, key, "unknown field '%s' in %s", key->text, where);
    }
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_expect_map(const YtNode *n, const char *path, GError **error)
{
    if (yt_is_null(n) || n->type == YT_MAPPING)
        return TRUE;
    g_autofree char *p = ld_path_prefix(path);
    return ld_fail(error, n, "%sexpected a mapping, got %s", p, yt_describe(n));
}

/* See loader_private.h. */
gboolean
ld_expect_seq(const YtNode *n, const char *path, GError **error)
{
    if (yt_is_null(n) || n->type == YT_SEQUENCE)
        return TRUE;
    g_autofree char *p = ld_path_prefix(path);
    return ld_fail(error, n, "%sexpected a list, got %s", p, yt_describe(n));
}

/* ---------------------------------------------------------------- values */

/* See loader_private.h. */
gboolean
ld_string(const YtNode *n, const char *path, char **out, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    g_autofree char *p = ld_path_prefix(path);
    if (n->type != YT_SCALAR)
        return ld_fail(error, n, "%sexpected a string, got %s", p, yt_describe(n));
    if (yt_scalar_kind(n) != YT_VALUE_STRING)
        return ld_fail(error, n, "%sexpected a string, got %s (%s); quote it to mean the text", p,
                       n->text, yt_describe(n));
    g_free(*out);
    *out = g_strdup(n->text);
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_text(const YtNode *n, const char *path, char **out, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    if (n->type != YT_SCALAR) {
        g_autofree char *p = ld_path_prefix(path);
        return ld_fail(error, n, "%sexpected a value, got %s", p, yt_describe(n));
    }
    g_free(*out);
    *out = g_strdup(n->text);
    return TRUE;
}

/* Parses YAML 1.1 integer text (sign, 0x/0o/0b prefixes, underscores) into *out. */
static gboolean
ld_parse_int_text(const char *text, gint64 *out)
{
    g_autoptr(GString) digits = g_string_new(NULL);
    for (const char *s = text; *s != '\0'; s++)
        if (*s != '_')
            g_string_append_c(digits, *s);
    const char *s = digits->str;
    gboolean neg = *s == '-';
    if (*s == '+' || *s == '-')
        s++;
    guint base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && s[1] == 'o')
        base = 8, s += 2;
    else if (s[0] == '0' && s[1] == 'b')
        base = 2, s += 2;
    guint64 v;
    if (!g_ascii_string_to_unsigned(s, base, 0, (guint64)G_MAXINT64 + (neg ? 1 : 0), &v, NULL))
        return FALSE;
    *out = neg ? (gint64)(0 - v) : (gint64)v;
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_int(const YtNode *n, const char *path, gint64 *out, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    g_autofree char *p = ld_path_prefix(path);
    if (n->type != YT_SCALAR)
        return ld_fail(error, n, "%sexpected an integer, got %s", p, yt_describe(n));
    YtValueKind kind = yt_scalar_kind(n);
    if (kind == YT_VALUE_STRING && n->style != YT_STYLE_PLAIN)
        return ld_fail(error, n, "%sexpected an integer, got the string \"%s\"", p, n->text);
    if (kind != YT_VALUE_INT)
        return ld_fail(error, n, "%sexpected an integer, got '%s'", p, n->text);
    if (!ld_parse_int_text(n->text, out))
        return ld_fail(error, n, "%sexpected an integer, got '%s' (out of range)", p, n->text);
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_bool(const YtNode *n, const char *path, gboolean *out, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    g_autofree char *p = ld_path_prefix(path);
    if (n->type != YT_SCALAR)
        return ld_fail(error, n, "%sexpected a boolean, got %s", p, yt_describe(n));
    if (yt_scalar_kind(n) != YT_VALUE_BOOL)
        return ld_fail(error, n, "%sexpected a boolean (true or false), got '%s'", p, n->text);
    char c = n->text[0];
    *out = c == 't' || c == 'T' || c == 'y' || c == 'Y' || g_ascii_strcasecmp(n->text, "on") == 0;
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_duration(const YtNode *n, const char *path, SimTime *out, GError **error)
{
    g_autofree char *text = NULL;
    if (!ld_text(n, path, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    g_autoptr(GError) err = NULL;
    if (!sim_time_parse(text, out, &err)) {
        g_autofree char *p = ld_path_prefix(path);
        return ld_fail(error, n, "%s%s", p, err->message);
    }
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_string_map(const YtNode *n, const char *path, GHashTable **out, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    if (!ld_expect_map(n, path, error))
        return FALSE;
    if (*out == NULL)
        *out = k8s_string_table_new();
    for (guint i = 0; i < n->pairs->len; i++) {
        const YtPair *pair = &g_array_index(n->pairs, YtPair, i);
        g_autofree char *p = ld_path(path, pair->key->text);
        char *value = NULL;
        if (!ld_string(pair->value, p, &value, error))
            return FALSE;
        g_hash_table_insert(*out, g_strdup(pair->key->text), value != NULL ? value : g_strdup(""));
    }
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_string_list(const YtNode *n, const char *path, gboolean scalar_ok, GPtrArray **out,
               GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    if (n->type == YT_SCALAR && scalar_ok) {
        char *s = NULL;
        if (!ld_string(n, path, &s, error))
            return FALSE;
        g_ptr_array_add(list, s);
    } else {
        if (!ld_expect_seq(n, path, error))
            return FALSE;
        for (guint i = 0; i < n->items->len; i++) {
            g_autofree char *p = ld_path_index(path, i);
            char *s = NULL;
            if (!ld_string(n->items->pdata[i], p, &s, error))
                return FALSE;
            g_ptr_array_add(list, s != NULL ? s : g_strdup(""));
        }
    }
    if (*out != NULL)
        g_ptr_array_unref(*out);
    *out = g_steal_pointer(&list);
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_ip(const LdObject *o, const YtNode *n, const char *path, SimAddr *out, GError **error)
{
    g_autofree char *text = NULL;
    if (!ld_string(n, path, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    if (!sim_addr_parse(text, out))
        return ld_invalid(o, error, n,
                          "%s: Invalid value: \"%s\": must be a valid IP address, (e.g. 10.9.8.7 "
                          "or 2001:db8::ffff)",
                          path, text);
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_cidr(const LdObject *o, const YtNode *n, const char *path, gboolean trim, SimCidr *out,
        GError **error)
{
    g_autofree char *text = NULL;
    if (!ld_string(n, path, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    const char *t = trim ? g_strstrip(text) : text;
    if (strchr(t, '/') == NULL || !sim_cidr_parse(t, out))
        return ld_invalid(o, error, n,
                          "%s: Invalid value: \"%s\": must be a valid CIDR value, (e.g. "
                          "10.9.8.0/24 or 2001:db8::/64)",
                          path, t);
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_port(const LdObject *o, const YtNode *n, const char *path, gboolean zero_ok, guint16 *out,
        GError **error)
{
    gint64 v = 0;
    if (yt_is_null(n))
        return TRUE;
    if (!ld_int(n, path, &v, error))
        return FALSE;
    if (v == 0 && zero_ok) {
        *out = 0;
        return TRUE;
    }
    if (v < 1 || v > 65535)
        return ld_invalid(o, error, n,
                          "%s: Invalid value: %" G_GINT64_FORMAT
                          ": must be between 1 and 65535, inclusive",
                          path, v);
    *out = (guint16)v;
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_enum(const LdObject *o, const YtNode *n, const char *path, const char *const *allowed,
        guint *index, GError **error)
{
    g_autofree char *text = NULL;
    if (!ld_string(n, path, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    for (guint i = 0; allowed[i] != NULL; i++) {
        if (strcmp(allowed[i], text) == 0) {
            *index = i;
            return TRUE;
        }
    }
    g_autoptr(GString) list = g_string_new(NULL);
    for (guint i = 0; allowed[i] != NULL; i++)
        g_string_append_printf(list, "%s\"%s\"", i > 0 ? ", " : "", allowed[i]);
    const char *hint = yt_closest(text, allowed);
    g_autofree char *dym = hint != NULL ? g_strdup_printf("; did you mean '%s'?", hint) : NULL;
    return ld_invalid(o, error, n, "%s: Unsupported value: \"%s\": supported values: %s%s", path,
                      text, list->str, dym != NULL ? dym : "");
}

/* See loader_private.h. */
gboolean
ld_protocol(const LdObject *o, const YtNode *n, const char *path, SimProto *out, GError **error)
{
    static const char *const names[] = {"SCTP", "TCP", "UDP", NULL};
    static const SimProto protos[] = {SIM_PROTO_SCTP, SIM_PROTO_TCP, SIM_PROTO_UDP};
    guint i = G_MAXUINT;
    if (!ld_enum(o, n, path, names, &i, error))
        return FALSE;
    if (i != G_MAXUINT)
        *out = protos[i];
    return TRUE;
}

/* See loader_private.h. */
gboolean
ld_get_string(const YtNode *map, const char *key, const char *path, char **out, GError **error)
{
    g_autofree char *p = ld_path(path, key);
    return ld_string(yt_map_get(map, key), p, out, error);
}

/* See loader_private.h. */
gboolean
ld_get_int(const YtNode *map, const char *key, const char *path, gint64 *out, GError **error)
{
    g_autofree char *p = ld_path(path, key);
    return ld_int(yt_map_get(map, key), p, out, error);
}

/* See loader_private.h. */
gboolean
ld_get_bool(const YtNode *map, const char *key, const char *path, gboolean *out, GError **error)
{
    g_autofree char *p = ld_path(path, key);
    return ld_bool(yt_map_get(map, key), p, out, error);
}

/* See loader_private.h. */
gboolean
ld_get_string_map(const YtNode *map, const char *key, const char *path, GHashTable **out,
                  GError **error)
{
    g_autofree char *p = ld_path(path, key);
    return ld_string_map(yt_map_get(map, key), p, out, error);
}

/* ---------------------------------------------------------------- names */

/* See loader_private.h. */
gboolean
ld_register_name(Loader *ld, const char *resource, const char *ns, const char *name,
                 const YtNode *at, GError **error)
{
    char *key = g_strdup_printf("%s/%s/%s", resource, ns != NULL ? ns : "", name);
    const K8sPos *first = g_hash_table_lookup(ld->names, key);
    if (first != NULL) {
        g_free(key);
        g_autofree char *in_ns =
            ns != NULL ? g_strdup_printf(" in namespace \"%s\"", ns) : g_strdup("");
        return ld_fail(error, at, "%s \"%s\" already exists%s (first defined at %s:%u:%u)",
                       resource, name, in_ns, first->file, first->line, first->column);
    }
    K8sPos *pos = g_new(K8sPos, 1);
    *pos = ld_pos(at);
    g_hash_table_insert(ld->names, key, pos);
    return TRUE;
}

/* TRUE when s[0..len) is a DNS-1123 label body: [a-z0-9]([-a-z0-9]*[a-z0-9])?, with the first
 * character a letter when alpha_first. */
static gboolean
ld_is_label(const char *s, gsize len, gboolean alpha_first)
{
    if (len == 0)
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        gboolean ok = g_ascii_islower(s[i]) || g_ascii_isdigit(s[i]) || s[i] == '-';
        if (!ok)
            return FALSE;
    }
    if (alpha_first && !g_ascii_islower(s[0]))
        return FALSE;
    return s[0] != '-' && s[len - 1] != '-';
}

/* TRUE when s is a DNS-1123 subdomain (labels joined by dots). */
static gboolean
ld_is_subdomain(const char *s)
{
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p != '.' && *p != '\0')
            continue;
        if (!ld_is_label(start, (gsize)(p - start), FALSE))
            return FALSE;
        if (*p == '\0')
            return TRUE;
        start = p + 1;
    }
}

/* See loader_private.h. */
gboolean
ld_check_name(const LdObject *o, const YtNode *at, const char *path, const char *name,
              LdNameRule rule, GError **error)
{
    gsize len = strlen(name);
    gsize max = rule == LD_NAME_DNS1123_SUBDOMAIN ? 253 : 63;
    const char *msg = NULL;
    gboolean ok = FALSE;
    switch (rule) {
    case LD_NAME_DNS1123_SUBDOMAIN:
        ok = ld_is_subdomain(name);
        msg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
              "characters, '-' or '.', and must start and end with an alphanumeric character "
              "(e.g. 'example.com', regex used for validation is "
              "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
        break;
    case LD_NAME_DNS1123_LABEL:
        ok = ld_is_label(name, len, FALSE);
        msg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
              "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
              "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
        break;
    case LD_NAME_DNS1035_LABEL:
        ok = ld_is_label(name, len, TRUE);
        msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
              "with an alphabetic character, and end with an alphanumeric character (e.g. "
              "'my-name',  or 'abc-123', regex used for validation is "
              "'[a-z]([-a-z0-9]*[a-z0-9])?')";
        break;
    }
    if (len > max)
        return ld_invalid(o, error, at,
                          "%s: Invalid value: \"%s\": must be no more than %" G_GSIZE_FORMAT
                          " characters",
                          path, name, max);
    if (!ok)
        return ld_invalid(o, error, at, "%s: Invalid value: \"%s\": %s", path, name, msg);
    return TRUE;
}

/* Frees a recorded node reference. */
static void
ld_node_ref_free(LdNodeRef *r)
{
    g_free(r->path);
    g_free(r);
}

/* See loader_private.h. */
void
ld_add_node_ref(Loader *ld, const YtNode *at, const char *path)
{
    LdNodeRef *r = g_new(LdNodeRef, 1);
    r->at = at;
    r->path = g_strdup(path);
    g_ptr_array_add(ld->node_refs, r);
}

/* ---------------------------------------------------------------- files */

/* Reads a whole file. On failure returns FALSE with *err_no set to the errno that explains it.
 * Reading stops one byte past the YAML size limit so the parser can report it. */
static gboolean
ld_read_file(const char *path, char **text, gsize *len, int *err_no)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *err_no = errno;
        return FALSE;
    }
    GString *buf = g_string_new(NULL);
    char chunk[65536];
    size_t n;
    while (buf->len <= YT_MAX_INPUT_BYTES && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        g_string_append_len(buf, chunk, (gssize)n);
    gboolean failed = ferror(f) != 0;
    *err_no = errno;
    fclose(f);
    if (failed) {
        g_string_free(buf, TRUE);
        return FALSE;
    }
    *len = buf->len;
    *text = g_string_free(buf, FALSE);
    return TRUE;
}

/* A manifest path as written in spec.manifests, resolved against the scenario file's
 * directory (kept relative when the scenario path is). (transfer full) */
static char *
ld_resolve_manifest(const char *scenario_file, const char *entry)
{
    if (g_path_is_absolute(entry))
        return g_strdup(entry);
    g_autofree char *dir = g_path_get_dirname(scenario_file);
    if (strcmp(dir, ".") == 0)
        return g_strdup(entry);
    return g_build_filename(dir, entry, NULL);
}

/* ---------------------------------------------------------------- documents */

static gboolean ld_document(Loader *ld, const YtNode *root, gboolean in_list, GError **error);
static gboolean ld_scenario_doc(Loader *ld, const YtNode *root, GError **error);

/* A kind kpsim knows: decoded (decode set) or ignored with a warning (note set). */
typedef struct {
    const char *kind;
    const char *api_version; /* NULL: any (ignored kinds) */
    gboolean (*decode)(Loader *ld, const YtNode *root, GError **error);
    const char *note;
} LdKind;

/* A GCopyFunc for string arrays. */
static gpointer
ld_strdup_copy(gconstpointer src, gpointer data)
{
    return g_strdup(src);
}

/* Decodes a KubeProxyConfiguration document, saving the previous configuration first so a
 * failed manifest load can restore it. */
static gboolean
ld_proxy_doc(Loader *ld, const YtNode *root, GError **error)
{
    if (!ld->scenario_file && !ld->proxy_saved) {
        KubeProxyConfig *c = &ld->proxy_backup;
        *c = ld->sc->proxy;
        c->cluster_cidrs = g_array_copy(ld->sc->proxy.cluster_cidrs);
        c->bridge_interface = g_strdup(ld->sc->proxy.bridge_interface);
        c->interface_name_prefix = g_strdup(ld->sc->proxy.interface_name_prefix);
        c->node_port_addresses =
            g_ptr_array_copy(ld->sc->proxy.node_port_addresses, ld_strdup_copy, NULL);
        g_ptr_array_set_free_func(c->node_port_addresses, g_free);
        c->ipvs_scheduler = g_strdup(ld->sc->proxy.ipvs_scheduler);
        ld->proxy_from_cluster_backup = ld->sc->proxy_cluster_cidr_from_cluster;
        ld->proxy_saved = TRUE;
    }
    return ld_proxy_config(ld, root, "", TRUE, error);
}

/* Decodes the items of a kind: List as documents of their own. */
static gboolean
ld_list_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "items", NULL};
    if (!ld_check_fields(root, fields, "List", "", error))
        return FALSE;
    const YtNode *items = yt_map_get(root, "items");
    if (!ld_expect_seq(items, "items", error))
        return FALSE;
    for (guint i = 0; items != NULL && items->type == YT_SEQUENCE && i < items->items->len; i++)
        if (!ld_document(ld, items->items->pdata[i], TRUE, error))
            return FALSE;
    return TRUE;
}

static const LdKind ld_kinds[] = {
    {"Service", "v1", ld_service_doc, NULL},
    {"Deployment", "apps/v1", ld_deployment_doc, NULL},
    {"Pod", "v1", ld_pod_doc, NULL},
    {"EndpointSlice", "discovery.k8s.io/v1", ld_endpoint_slice_doc, NULL},
    {"Node", "v1", ld_node_doc, NULL},
    {"KubeProxyConfiguration", "kubeproxy.config.k8s.io/v1alpha1", ld_proxy_doc, NULL},
    {"Scenario", "kpsim.io/v1alpha1", ld_scenario_doc, NULL},
    {"List", "v1", ld_list_doc, NULL},
    {"Namespace", NULL, NULL, "namespaces need no setup in kpsim"},
    {"ConfigMap", NULL, NULL, "it does not affect the datapath"},
    {"Secret", NULL, NULL, "it does not affect the datapath"},
    {"ServiceAccount", NULL, NULL, "it does not affect the datapath"},
    {"Endpoints", NULL, NULL, "kube-proxy reads EndpointSlices, not Endpoints"},
    {"PersistentVolumeClaim", NULL, NULL, "it does not affect the datapath"},
    {"PersistentVolume", NULL, NULL, "it does not affect the datapath"},
    {"StorageClass", NULL, NULL, "it does not affect the datapath"},
    {"Role", NULL, NULL, "it does not affect the datapath"},
    {"RoleBinding", NULL, NULL, "it does not affect the datapath"},
    {"ClusterRole", NULL, NULL, "it does not affect the datapath"},
    {"ClusterRoleBinding", NULL, NULL, "it does not affect the datapath"},
    {"PodDisruptionBudget", NULL, NULL, "it does not affect the datapath"},
    {"PriorityClass", NULL, NULL, "it does not affect the datapath"},
    {"LimitRange", NULL, NULL, "it does not affect the datapath"},
    {"ResourceQuota", NULL, NULL, "it does not affect the datapath"},
    {"HorizontalPodAutoscaler", NULL, NULL, "replicas stay as written"},
    {"CustomResourceDefinition", NULL, NULL, "it does not affect the datapath"},
    {"Ingress", NULL, NULL, "Ingress is not simulated yet"},
    {"IngressClass", NULL, NULL, "Ingress is not simulated yet"},
    {"NetworkPolicy", NULL, NULL, "NetworkPolicy is not simulated"},
    {"StatefulSet", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"DaemonSet", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"ReplicaSet", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"Job", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
    {"CronJob", NULL, NULL, "its pods will not exist; use a Deployment or Pods"},
};

/* Looks a kind up; returns NULL and an error with a did-you-mean hint for unknown kinds. */
static const LdKind *
ld_find_kind(const YtNode *kind_node, const char *kind, GError **error)
{
    const char *names[G_N_ELEMENTS(ld_kinds) + 1];
    for (gsize i = 0; i < G_N_ELEMENTS(ld_kinds); i++) {
        if (strcmp(ld_kinds[i].kind, kind) == 0)
            return &ld_kinds[i];
        names[i] = ld_kinds[i].kind;
    }
    names[G_N_ELEMENTS(ld_kinds)] = NULL;
    const char *hint = yt_closest(kind, names);
    if (hint != NULL)
        ld_fail(error, kind_node, "unknown kind '%s'; did you mean '%s'?", kind, hint);
    else
        ld_fail(error, kind_node, "unknown kind '%s'", kind);
    return NULL;
}

/* Decodes one document (or List item): checks apiVersion and kind, then dispatches. Empty
 * documents are skipped. */
static gboolean
ld_document(Loader *ld, const YtNode *root, gboolean in_list, GError **error)
{
    if (yt_is_null(root))
        return TRUE;
    if (root->type != YT_MAPPING)
        return ld_fail(error, root,
                       "expected a Kubernetes object (a mapping with apiVersion and kind), got %s",
                       yt_describe(root));
    g_autofree char *api_version = NULL, *kind = NULL;
    const YtNode *kind_node = yt_map_get(root, "kind");
    const YtNode *api_node = yt_map_get(root, "apiVersion");
    if (!ld_string(api_node, "apiVersion", &api_version, error) ||
        !ld_string(kind_node, "kind", &kind, error))
        return FALSE;
    if (kind == NULL || kind[0] == '\0')
        return ld_fail(error, root, "'kind' is not set; every document needs apiVersion and kind");
    const LdKind *k = ld_find_kind(kind_node, kind, error);
    if (k == NULL)
        return FALSE;
    if (api_version == NULL || api_version[0] == '\0')
        return ld_fail(error, root, "'apiVersion' is not set; a %s needs apiVersion: %s", kind,
                       k->api_version != NULL ? k->api_version : "...");
    if (k->api_version != NULL && strcmp(k->api_version, api_version) != 0)
        return ld_fail(error, api_node,
                       "no matches for kind \"%s\" in version \"%s\"; use apiVersion: %s", kind,
                       api_version, k->api_version);
    if (k->decode == NULL) {
        ld_warn(ld, kind_node, "kind %s is not simulated and was ignored: %s", kind, k->note);
        return TRUE;
    }
    if (in_list && k->decode == ld_scenario_doc)
        return ld_fail(error, kind_node, "a kind: Scenario document cannot be a List item");
    return k->decode(ld, root, error);
}

/* Parses a YAML text and decodes its documents; the trees stay alive in ld->docs (decoded
 * objects' node references point into them). */
static gboolean
ld_stream(Loader *ld, const char *name, const char *text, gsize len, GError **error)
{
    g_autoptr(GError) yerr = NULL;
    GPtrArray *docs = yt_parse(name, text, len, &yerr);
    if (docs == NULL) {
        g_set_error_literal(error, LOADER_ERROR, LOADER_ERROR_SYNTAX, yerr->message);
        return FALSE;
    }
    guint first = ld->docs->len;
    for (guint i = 0; i < docs->len; i++)
        g_ptr_array_add(ld->docs, docs->pdata[i]);
    g_ptr_array_set_free_func(docs, NULL);
    g_ptr_array_unref(docs);
    guint end = ld->docs->len;
    for (guint i = first; i < end; i++) {
        const YtDocument *d = ld->docs->pdata[i];
        if (!ld_document(ld, d->root, FALSE, error))
            return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- Scenario: cluster */

/* Adds offset to an address (big-endian carry). FALSE when it runs past the family's end. */
static gboolean
ld_addr_add(SimAddr *a, guint64 offset)
{
    int last = a->family == SIM_AF_INET ? 3 : 15;
    for (int i = last; i >= 0 && offset > 0; i--) {
        guint64 sum = (guint64)a->b[i] + (offset & 0xff);
        a->b[i] = (guint8)sum;
        offset = (offset >> 8) + (sum >> 8);
    }
    return offset == 0;
}

/* Appends a Ready scenario node, registering its name. */
static gboolean
ld_add_cluster_node(Loader *ld, K8sNode *n, const YtNode *name_node, guint *insert_at,
                    GError **error)
{
    if (!ld_register_name(ld, "nodes", NULL, n->name, name_node, error)) {
        k8s_node_free(n);
        return FALSE;
    }
    n->ready = TRUE;
    g_ptr_array_insert(ld->sc->nodes, (gint)(*insert_at)++, n);
    return TRUE;
}

/* Sets the zone label of a node. */
static void
ld_node_set_zone(K8sNode *n, const char *zone)
{
    if (n->labels == NULL)
        n->labels = k8s_string_table_new();
    g_hash_table_insert(n->labels, g_strdup("topology.kubernetes.io/zone"), g_strdup(zone));
}

/* Decodes one spec.cluster.nodes[] entry {name, addresses, zone, labels, podCIDR}. */
static gboolean
ld_cluster_node(Loader *ld, const YtNode *item, const char *path, guint *insert_at, GError **error)
{
    static const char *const fields[] = {"name", "addresses", "zone", "labels", "podCIDR", NULL};
    if (!ld_check_fields(item, fields, "Scenario", path, error))
        return FALSE;
    if (yt_is_null(item))
        return ld_fail(error, item, "%s: expected a node {name, addresses}", path);
    g_autoptr(GPtrArray) addrs = NULL;
    g_autofree char *zone = NULL;
    g_autofree char *ap = ld_path(path, "addresses"), *np = ld_path(path, "name");
    const YtNode *name_node = yt_map_get(item, "name");
    K8sNode *n = k8s_node_new();
    n->pos = ld_pos(name_node != NULL ? name_node : item);
    gboolean ok = ld_string(name_node, np, &n->name, error) &&
                  ld_string_list(yt_map_get(item, "addresses"), ap, TRUE, &addrs, error) &&
                  ld_get_string(item, "zone", path, &zone, error) &&
                  ld_get_string_map(item, "labels", path, &n->labels, error);
    if (ok && n->name == NULL)
        ok = ld_fail(error, item, "%s: Required value: a node needs a name", np);
    if (ok)
        ok = ld_check_name(NULL, name_node, np, n->name, LD_NAME_DNS1123_SUBDOMAIN, error);
    if (ok && (addrs == NULL || addrs->len == 0))
        ok = ld_fail(error, item, "%s: Required value: a node needs at least one address", ap);
    const YtNode *an = yt_map_get(item, "addresses");
    for (guint i = 0; ok && i < addrs->len; i++) {
        g_autofree char *p = ld_path_index(ap, i);
        SimAddr a;
        ok = ld_ip(NULL, an->type == YT_SEQUENCE ? an->items->pdata[i] : an, p, &a, error);
        if (ok)
            g_array_append_val(n->addresses, a);
    }
    g_autofree char *cp = ld_path(path, "podCIDR");
    if (ok)
        ok = ld_cidr(NULL, yt_map_get(item, "podCIDR"), cp, FALSE, &n->pod_cidr, error);
    if (ok && zone != NULL)
        ld_node_set_zone(n, zone);
    if (!ok) {
        k8s_node_free(n);
        return FALSE;
    }
    return ld_add_cluster_node(ld, n, name_node != NULL ? name_node : item, insert_at, error);
}

/* Expands the count form {count, addressBase, zones, namePrefix}: nodes PREFIX1..PREFIXn with
 * addresses addressBase+1..addressBase+n and zones assigned round-robin. */
static gboolean
ld_cluster_node_count(Loader *ld, const YtNode *map, const char *path, GError **error)
{
    static const char *const fields[] = {"count", "addressBase", "zones", "namePrefix", NULL};
    if (!ld_check_fields(map, fields, "Scenario", path, error))
        return FALSE;
    gint64 count = 0;
    SimAddr base = {0};
    g_autoptr(GPtrArray) zones = NULL;
    g_autofree char *prefix = NULL;
    g_autofree char *cp = ld_path(path, "count"), *bp = ld_path(path, "addressBase");
    g_autofree char *zp = ld_path(path, "zones");
    const YtNode *count_node = yt_map_get(map, "count");
    if (!ld_int(count_node, cp, &count, error) ||
        !ld_ip(NULL, yt_map_get(map, "addressBase"), bp, &base, error) ||
        !ld_string_list(yt_map_get(map, "zones"), zp, FALSE, &zones, error) ||
        !ld_get_string(map, "namePrefix", path, &prefix, error))
        return FALSE;
    if (count < 1 || count > 100000)
        return ld_fail(error, count_node != NULL ? count_node : map,
                       "%s: Invalid value: %" G_GINT64_FORMAT ": must be between 1 and 100000", cp,
                       count);
    if (base.family == SIM_AF_NONE)
        return ld_fail(error, map, "%s: Required value: the count form needs addressBase", bp);
    guint insert_at = 0;
    for (gint64 i = 1; i <= count; i++) {
        K8sNode *n = k8s_node_new();
        n->name = g_strdup_printf("%s%" G_GINT64_FORMAT, prefix != NULL ? prefix : "node", i);
        n->pos = ld_pos(map);
        SimAddr a = base;
        if (!ld_addr_add(&a, (guint64)i)) {
            k8s_node_free(n);
            return ld_fail(error, yt_map_get(map, "addressBase"),
                           "%s: %" G_GINT64_FORMAT " nodes do not fit after this address", bp,
                           count);
        }
        g_array_append_val(n->addresses, a);
        if (zones != NULL && zones->len > 0)
            ld_node_set_zone(n, zones->pdata[(guint)(i - 1) % zones->len]);
        if (!ld_add_cluster_node(ld, n, map, &insert_at, error))
            return FALSE;
    }
    return TRUE;
}

/* Parses "LOW-HIGH", "BASE+OFFSET" or a single port into a range. */
static gboolean
ld_parse_port_range(const char *text, guint *low, guint *high)
{
    guint64 a, b;
    g_auto(GStrv) parts = NULL;
    char sep = strchr(text, '+') != NULL ? '+' : '-';
    char seps[2] = {sep, '\0'};
    parts = g_strsplit(text, seps, 3);
    guint n = g_strv_length(parts);
    if (n < 1 || n > 2)
        return FALSE;
    if (!g_ascii_string_to_unsigned(g_strstrip(parts[0]), 10, 0, 65535, &a, NULL))
        return FALSE;
    b = a;
    if (n == 2 && !g_ascii_string_to_unsigned(g_strstrip(parts[1]), 10, 0, 65535, &b, NULL))
        return FALSE;
    if (sep == '+')
        b += a;
    *low = (guint)a;
    *high = (guint)b;
    return TRUE;
}

/* Decodes serviceNodePortRange into sc->node_port_low/high. */
static gboolean
ld_node_port_range(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    if (!ld_text(n, path, &text, error))
        return FALSE;
    if (text == NULL)
        return TRUE;
    guint low = 0, high = 0;
    if (!ld_parse_port_range(text, &low, &high) || low < 1 || low > high || high > 65535)
        return ld_fail(error, n,
                       "%s: Invalid value: \"%s\": must be LOW-HIGH (or a single port) with "
                       "1 <= LOW <= HIGH <= 65535",
                       path, text);
    ld->sc->node_port_low = (guint16)low;
    ld->sc->node_port_high = (guint16)high;
    return TRUE;
}

/* Decodes serviceCIDR: one CIDR or a comma-separated (or YAML) list, at most one per family. */
static gboolean
ld_service_cidrs(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    g_autoptr(GPtrArray) texts = NULL;
    if (!ld_string_list(n, path, TRUE, &texts, error))
        return FALSE;
    g_autoptr(GArray) cidrs = g_array_new(FALSE, TRUE, sizeof(SimCidr));
    for (guint i = 0; i < texts->len; i++) {
        g_auto(GStrv) parts = g_strsplit(texts->pdata[i], ",", -1);
        for (guint j = 0; parts[j] != NULL; j++) {
            SimCidr c;
            char *t = g_strstrip(parts[j]);
            if (strchr(t, '/') == NULL || !sim_cidr_parse(t, &c))
                return ld_fail(error, n,
                               "%s: Invalid value: \"%s\": must be a valid CIDR value, (e.g. "
                               "10.9.8.0/24 or 2001:db8::/64)",
                               path, t);
            for (guint k = 0; k < cidrs->len; k++)
                if (g_array_index(cidrs, SimCidr, k).addr.family == c.addr.family)
                    return ld_fail(error, n,
                                   "%s: Invalid value: \"%s\": may specify no more than one CIDR "
                                   "for each IP family",
                                   path, (const char *)texts->pdata[i]);
            g_array_append_val(cidrs, c);
        }
    }
    if (cidrs->len == 0)
        return ld_fail(error, n, "%s: Required value: at least one CIDR", path);
    g_array_unref(ld->sc->service_cidrs);
    ld->sc->service_cidrs = g_steal_pointer(&cidrs);
    return TRUE;
}

/* Parses "10Gbps", "100Mbps", "2.5Gbps", "1000bps" or a bare number of bits per second. */
static gboolean
ld_parse_bandwidth(const char *text, guint64 *out)
{
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {{"Tbps", 1e12}, {"Gbps", 1e9}, {"Mbps", 1e6},
                 {"Kbps", 1e3},  {"kbps", 1e3}, {"bps", 1.0}};
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || !(v > 0))
        return FALSE;
    double scale = 0;
    if (*end == '\0')
        scale = 1.0;
    for (gsize i = 0; scale == 0 && i < G_N_ELEMENTS(units); i++)
        if (strcmp(end, units[i].suffix) == 0)
            scale = units[i].scale;
    if (scale == 0 || v * scale < 1 || v * scale > 1e18)
        return FALSE;
    *out = (guint64)(v * scale + 0.5);
    return TRUE;
}

/* Decodes spec.cluster.network {latency, bandwidth}. */
static gboolean
ld_network(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"latency", "bandwidth", NULL};
    if (!ld_check_fields(n, fields, "Scenario", path, error))
        return FALSE;
    g_autofree char *lp = ld_path(path, "latency"), *bp = ld_path(path, "bandwidth");
    g_autofree char *bw = NULL;
    const YtNode *bw_node = yt_map_get(n, "bandwidth");
    if (!ld_duration(yt_map_get(n, "latency"), lp, &ld->sc->net_latency, error) ||
        !ld_text(bw_node, bp, &bw, error))
        return FALSE;
    if (bw != NULL && !ld_parse_bandwidth(bw, &ld->sc->net_bandwidth))
        return ld_fail(error, bw_node,
                       "%s: Invalid value: \"%s\": must be a rate such as 10Gbps, 1Gbps or "
                       "100Mbps",
                       bp, bw);
    return TRUE;
}

/* Decodes spec.cluster. */
static gboolean
ld_cluster(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {
        "nodes", "clusterCIDR", "serviceCIDR", "serviceNodePortRange", "network", NULL};
    if (!ld_check_fields(n, fields, "Scenario", path, error))
        return FALSE;
    g_autofree char *np = ld_path(path, "nodes"), *cp = ld_path(path, "clusterCIDR");
    g_autofree char *sp = ld_path(path, "serviceCIDR");
    g_autofree char *rp = ld_path(path, "serviceNodePortRange");
    g_autofree char *wp = ld_path(path, "network");
    const YtNode *nodes = yt_map_get(n, "nodes");
    if (nodes != NULL && nodes->type == YT_MAPPING) {
        if (!ld_cluster_node_count(ld, nodes, np, error))
            return FALSE;
    } else if (!yt_is_null(nodes)) {
        if (!ld_expect_seq(nodes, np, error))
            return FALSE;
        guint insert_at = 0;
        for (guint i = 0; i < nodes->items->len; i++) {
            g_autofree char *p = ld_path_index(np, i);
            if (!ld_cluster_node(ld, nodes->items->pdata[i], p, &insert_at, error))
                return FALSE;
        }
    }
    return ld_cidr(NULL, yt_map_get(n, "clusterCIDR"), cp, FALSE, &ld->sc->cluster_cidr, error) &&
           ld_service_cidrs(ld, yt_map_get(n, "serviceCIDR"), sp, error) &&
           ld_node_port_range(ld, yt_map_get(n, "serviceNodePortRange"), rp, error) &&
           ld_network(ld, yt_map_get(n, "network"), wp, error);
}

/* ---------------------------------------------------------------- Scenario: workload */

/* Finds a client by name, or NULL. */
static const ScenarioClient *
ld_find_client(const Scenario *sc, const char *name)
{
    for (guint i = 0; i < sc->clients->len; i++) {
        const ScenarioClient *c = sc->clients->pdata[i];
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

/* Decodes spec.clients [{name, address}]. */
static gboolean
ld_clients(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"name", "address", NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *np = ld_path(p, "name"), *ap = ld_path(p, "address");
        if (!ld_check_fields(item, fields, "Scenario", p, error))
            return FALSE;
        g_autofree char *name = NULL;
        SimAddr addr = {0};
        const YtNode *name_node = yt_map_get(item, "name");
        if (!ld_string(name_node, np, &name, error) ||
            !ld_ip(NULL, yt_map_get(item, "address"), ap, &addr, error))
            return FALSE;
        if (name == NULL)
            return ld_fail(error, item, "%s: Required value: a client needs a name", np);
        if (addr.family == SIM_AF_NONE)
            return ld_fail(error, item, "%s: Required value: a client needs an address", ap);
        if (ld_find_client(ld->sc, name) != NULL)
            return ld_fail(error, name_node, "%s: Duplicate value: \"%s\"", np, name);
        ScenarioClient *c = g_new0(ScenarioClient, 1);
        c->name = g_steal_pointer(&name);
        c->address = addr;
        c->pos = ld_pos(item);
        g_ptr_array_add(ld->sc->clients, c);
    }
    return TRUE;
}

/* Parses "50/s", "3000/m", "2/h" or a bare number (per second) into connections per second. */
static gboolean
ld_parse_rate(const char *text, double *out)
{
    char *end = NULL;
    double v = g_ascii_strtod(text, &end);
    if (end == text || !(v > 0) || v > 1e12)
        return FALSE;
    double per = 0;
    if (*end == '\0' || strcmp(end, "/s") == 0)
        per = 1;
    else if (strcmp(end, "/m") == 0 || strcmp(end, "/min") == 0)
        per = 60;
    else if (strcmp(end, "/h") == 0)
        per = 3600;
    if (per == 0)
        return FALSE;
    *out = v / per;
    return TRUE;
}

/* Decodes a traffic entry's to: one IP:PORT or a list of them (item positions a missing one). */
static gboolean
ld_traffic_targets(const YtNode *item, const char *path, GArray *to, GError **error)
{
    const YtNode *n = yt_map_get(item, "to");
    g_autoptr(GPtrArray) texts = NULL;
    if (!ld_string_list(n, path, TRUE, &texts, error))
        return FALSE;
    for (guint i = 0; texts != NULL && i < texts->len; i++) {
        const YtNode *at = n->type == YT_SEQUENCE ? n->items->pdata[i] : n;
        SimSockAddr sa;
        if (!sim_sockaddr_parse(texts->pdata[i], &sa, FALSE) || sa.port == 0)
            return ld_fail(error, at,
                           "%s[%u]: Invalid value: \"%s\": must be IP:PORT (e.g. "
                           "192.168.1.101:30080 or [2001:db8::1]:80)",
                           path, i, (const char *)texts->pdata[i]);
        g_array_append_val(to, sa);
    }
    if (to->len == 0)
        return ld_fail(error, n != NULL ? n : item,
                       "%s: Required value: at least one IP:PORT target", path);
    return TRUE;
}

/* Decodes request {bytes, response} of a traffic entry. */
static gboolean
ld_traffic_request(const YtNode *n, const char *path, ScenarioTraffic *t, GError **error)
{
    static const char *const fields[] = {"bytes", "response", NULL};
    gint64 bytes = t->request_bytes, response = t->response_bytes;
    if (!ld_check_fields(n, fields, "Scenario", path, error) ||
        !ld_get_int(n, "bytes", path, &bytes, error) ||
        !ld_get_int(n, "response", path, &response, error))
        return FALSE;
    if (bytes < 0 || bytes > G_MAXUINT32 || response < 0 || response > G_MAXUINT32)
        return ld_fail(error, n, "%s: byte counts must be between 0 and %u", path, G_MAXUINT32);
    t->request_bytes = (guint)bytes;
    t->response_bytes = (guint)response;
    return TRUE;
}

/* Decodes how a traffic entry's clients give up: connectTimeout and synRetries (TCP) and
 * responseTimeout (UDP). The defaults are set by ld_traffic(). */
static gboolean
ld_traffic_timeouts(const YtNode *item, const char *p, ScenarioTraffic *t, GError **error)
{
    g_autofree char *cp = ld_path(p, "connectTimeout"), *rp = ld_path(p, "responseTimeout");
    gint64 retries = t->syn_retries;
    if (!ld_duration(yt_map_get(item, "connectTimeout"), cp, &t->connect_timeout, error) ||
        !ld_duration(yt_map_get(item, "responseTimeout"), rp, &t->response_timeout, error) ||
        !ld_get_int(item, "synRetries", p, &retries, error))
        return FALSE;
    if (t->connect_timeout <= 0)
        return ld_fail(error, yt_map_get(item, "connectTimeout"),
                       "%s: Invalid value: must be positive", cp);
    if (t->response_timeout <= 0)
        return ld_fail(error, yt_map_get(item, "responseTimeout"),
                       "%s: Invalid value: must be positive", rp);
    if (retries < 0 || retries > 255)
        return ld_fail(error, yt_map_get(item, "synRetries"),
                       "%s.synRetries: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 0 and 255 (net.ipv4.tcp_syn_retries)",
                       p, retries);
    t->syn_retries = (guint)retries;
    return TRUE;
}

/* Decodes the scalar fields of one traffic entry into t. */
static gboolean
ld_traffic_fields(const YtNode *item, const char *p, ScenarioTraffic *t, GError **error)
{
    g_autofree char *fp = ld_path(p, "from"), *tp = ld_path(p, "to"), *rp = ld_path(p, "rate");
    g_autofree char *pp = ld_path(p, "protocol"), *qp = ld_path(p, "request");
    g_autofree char *sp = ld_path(p, "start"), *ep = ld_path(p, "stop");
    g_autofree char *rate = NULL;
    gint64 conns = 0;
    const YtNode *rate_node = yt_map_get(item, "rate");
    if (!ld_get_string(item, "name", p, &t->name, error) ||
        !ld_string(yt_map_get(item, "from"), fp, &t->from, error) ||
        !ld_traffic_targets(item, tp, t->to, error) ||
        !ld_protocol(NULL, yt_map_get(item, "protocol"), pp, &t->protocol, error) ||
        !ld_text(rate_node, rp, &rate, error) ||
        !ld_get_int(item, "connections", p, &conns, error) ||
        !ld_traffic_request(yt_map_get(item, "request"), qp, t, error) ||
        !ld_duration(yt_map_get(item, "start"), sp, &t->start, error) ||
        !ld_duration(yt_map_get(item, "stop"), ep, &t->stop, error))
        return FALSE;
    if (rate != NULL && !ld_parse_rate(rate, &t->rate))
        return ld_fail(error, rate_node,
                       "%s: Invalid value: \"%s\": must be a positive rate such as 50/s or 3000/m",
                       rp, rate);
    if (conns < 0 || conns > 10000000)
        return ld_fail(error, yt_map_get(item, "connections"),
                       "%s.connections: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 1 and 10000000",
                       p, conns);
    t->connections = (guint)conns;
    return ld_traffic_timeouts(item, p, t, error);
}

/* Checks a traffic entry's cross-field rules: a name, a known client, rate xor connections and
 * start before stop. */
static gboolean
ld_traffic_check(Loader *ld, const YtNode *item, const char *p, const ScenarioTraffic *t,
                 GError **error)
{
    if (t->name == NULL)
        return ld_fail(error, item, "%s.name: Required value: traffic needs a name", p);
    for (guint i = 0; i < ld->sc->traffic->len; i++)
        if (strcmp(((ScenarioTraffic *)ld->sc->traffic->pdata[i])->name, t->name) == 0)
            return ld_fail(error, yt_map_get(item, "name"), "%s.name: Duplicate value: \"%s\"", p,
                           t->name);
    const YtNode *from = yt_map_get(item, "from");
    if (t->from == NULL)
        return ld_fail(error, item, "%s.from: Required value: the client that sends", p);
    if (ld_find_client(ld->sc, t->from) == NULL) {
        g_autofree const char **names = g_new0(const char *, ld->sc->clients->len + 1);
        for (guint i = 0; i < ld->sc->clients->len; i++)
            names[i] = ((ScenarioClient *)ld->sc->clients->pdata[i])->name;
        const char *hint = yt_closest(t->from, names);
        g_autofree char *dym = hint != NULL ? g_strdup_printf("; did you mean '%s'?", hint) : NULL;
        return ld_fail(error, from, "%s.from: unknown client '%s' (declare it in spec.clients)%s",
                       p, t->from, dym != NULL ? dym : "");
    }
    if ((t->rate > 0) == (t->connections > 0))
        return ld_fail(error, item,
                       "%s: give exactly one of 'rate' (open loop, e.g. 50/s) and "
                       "'connections' (closed loop)",
                       p);
    if (t->start >= t->stop)
        return ld_fail(error, yt_map_get(item, "stop") != NULL ? yt_map_get(item, "stop") : item,
                       "%s: stop must come after start", p);
    return TRUE;
}

/* Frees a traffic entry being built (the scenario's own free function is private). */
static void
ld_traffic_free(ScenarioTraffic *t)
{
    g_free(t->name);
    g_free(t->from);
    g_array_unref(t->to);
    g_free(t);
}

/* Decodes spec.traffic. Defaults: protocol TCP, request 100 bytes, response 1000 bytes,
 * start 0, stop at the scenario's duration. */
static gboolean
ld_traffic(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {
        "name",  "from", "to",             "protocol",   "rate",           "connections", "request",
        "start", "stop", "connectTimeout", "synRetries", "responseTimeout", NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        if (!ld_check_fields(item, fields, "Scenario", p, error))
            return FALSE;
        ScenarioTraffic *t = g_new0(ScenarioTraffic, 1);
        t->to = g_array_new(FALSE, TRUE, sizeof(SimSockAddr));
        t->protocol = SIM_PROTO_TCP;
        t->request_bytes = 100;
        t->response_bytes = 1000;
        t->stop = ld->sc->duration;
        t->pos = ld_pos(item);
        t->connect_timeout = SCENARIO_CONNECT_TIMEOUT;
        t->syn_retries = SCENARIO_SYN_RETRIES;
        t->response_timeout = SCENARIO_RESPONSE_TIMEOUT;
        if (!ld_traffic_fields(item, p, t, error) || !ld_traffic_check(ld, item, p, t, error)) {
            ld_traffic_free(t);
            return FALSE;
        }
        g_ptr_array_add(ld->sc->traffic, t);
    }
    return TRUE;
}

/* Flattens a YAML value into "a.b[0].c" -> scalar text entries of fields. */
static void
ld_flatten(const YtNode *n, const char *prefix, GHashTable *fields)
{
    switch (n->type) {
    case YT_SCALAR:
        g_hash_table_insert(fields, g_strdup(prefix), g_strdup(yt_is_null(n) ? "" : n->text));
        return;
    case YT_SEQUENCE:
        for (guint i = 0; i < n->items->len; i++) {
            g_autofree char *p = ld_path_index(prefix, i);
            ld_flatten(n->items->pdata[i], p, fields);
        }
        return;
    case YT_MAPPING:
        for (guint i = 0; i < n->pairs->len; i++) {
            const YtPair *pair = &g_array_index(n->pairs, YtPair, i);
            g_autofree char *p = ld_path(prefix, pair->key->text);
            ld_flatten(pair->value, p, fields);
        }
        return;
    }
}

static const char *const ld_event_kinds[] = {"nodeDown", "nodeUp", "nodeDrain",    "podKill",
                                             "podCrash", "ready",  "scale",        "patch",
                                             "apply",    "delete", "proxyRestart", NULL};

/* Picks the one action key of an event, with did-you-mean for unknown keys. */
static gboolean
ld_event_kind(const YtNode *item, const char *path, const YtPair **action, GError **error)
{
    const char *known[G_N_ELEMENTS(ld_event_kinds) + 1];
    known[0] = "at";
    for (gsize i = 0; ld_event_kinds[i] != NULL; i++)
        known[i + 1] = ld_event_kinds[i];
    known[G_N_ELEMENTS(ld_event_kinds)] = NULL;
    if (!ld_check_fields(item, known, "Scenario", path, error))
        return FALSE;
    *action = NULL;
    for (guint i = 0; item != NULL && item->type == YT_MAPPING && i < item->pairs->len; i++) {
        const YtPair *p = &g_array_index(item->pairs, YtPair, i);
        if (strcmp(p->key->text, "at") == 0)
            continue;
        if (*action != NULL)
            return ld_fail(error, p->key,
                           "%s: an event holds one action, and '%s' follows '%s'; write two "
                           "events",
                           path, p->key->text, (*action)->key->text);
        *action = p;
    }
    if (*action == NULL)
        return ld_fail(error, item,
                       "%s: an event needs an action: nodeDown, nodeUp, nodeDrain, podKill, "
                       "podCrash, ready, scale, patch, apply, delete or proxyRestart",
                       path);
    return TRUE;
}

/* Builds a ScenarioItem with its fields flattened. (transfer full) */
static ScenarioItem *
ld_item_new(const char *kind, const YtNode *item, SimTime at)
{
    ScenarioItem *it = g_new0(ScenarioItem, 1);
    it->kind = g_strdup(kind);
    it->at = at;
    it->pos = ld_pos(item);
    it->fields = k8s_string_table_new();
    return it;
}

/* Decodes spec.events [{at, ACTION: ...}]. Node names of node actions are checked at the end. */
static gboolean
ld_events(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *atp = ld_path(p, "at");
        const YtPair *action = NULL;
        SimTime at = -1;
        if (!ld_event_kind(item, p, &action, error) ||
            !ld_duration(yt_map_get(item, "at"), atp, &at, error))
            return FALSE;
        if (at < 0)
            return ld_fail(error, item, "%s: Required value: when the event happens", atp);
        const char *kind = action->key->text;
        gboolean node_action = strcmp(kind, "nodeDown") == 0 || strcmp(kind, "nodeUp") == 0 ||
                               strcmp(kind, "nodeDrain") == 0 || strcmp(kind, "proxyRestart") == 0;
        if (node_action && action->value->type == YT_SCALAR && !yt_is_null(action->value)) {
            g_autofree char *kp = ld_path(p, kind);
            ld_add_node_ref(ld, action->value, kp);
        }
        ScenarioItem *it = ld_item_new(kind, item, at);
        ld_flatten(action->value, kind, it->fields);
        g_ptr_array_add(ld->sc->events, it);
    }
    return TRUE;
}

/* Decodes spec.expect: mappings with known keys, kept flattened for the run-time to judge. */
static gboolean
ld_expect(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const keys[] = {"traffic",    "pods",      "probe",     "succeeded",
                                       "maxShare",   "minShare",  "imbalance", "sourceIPSeenByPods",
                                       "verdict",    "endpoints", "blackHole", "drops",
                                       "node",       "from",      "to",        "protocol",
                                       "masquerade", "at",        NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *atp = ld_path(p, "at");
        SimTime at = 0;
        if (!ld_check_fields(item, keys, "Scenario", p, error) ||
            !ld_duration(yt_map_get(item, "at"), atp, &at, error))
            return FALSE;
        if (yt_is_null(item) || item->pairs->len == 0)
            return ld_fail(error, item, "%s: an expectation needs at least one key", p);
        ScenarioItem *it = ld_item_new("expect", item, at);
        ld_flatten(item, "", it->fields);
        g_ptr_array_add(ld->sc->expect, it);
    }
    return TRUE;
}

/* Checks spec.patches entries and keeps them to apply once every object is loaded. */
static gboolean
ld_patches(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"service", "deployment", "namespace", "spec", NULL};
    if (!ld_expect_seq(n, path, error))
        return FALSE;
    for (guint i = 0; n != NULL && n->type == YT_SEQUENCE && i < n->items->len; i++) {
        const YtNode *item = n->items->pdata[i];
        g_autofree char *p = ld_path_index(path, i);
        g_autofree char *sp = ld_path(p, "spec");
        g_autofree char *svc = NULL, *dep = NULL, *ns = NULL;
        if (!ld_check_fields(item, fields, "Scenario", p, error) ||
            !ld_get_string(item, "service", p, &svc, error) ||
            !ld_get_string(item, "deployment", p, &dep, error) ||
            !ld_get_string(item, "namespace", p, &ns, error))
            return FALSE;
        if (yt_is_null(item) || (svc == NULL) == (dep == NULL))
            return ld_fail(error, item,
                           "%s: a patch names exactly one 'service' or "
                           "'deployment'",
                           p);
        const YtNode *spec = yt_map_get(item, "spec");
        if (yt_is_null(spec))
            return ld_fail(error, item, "%s: Required value: the fields to change", sp);
        if (!ld_expect_map(spec, sp, error))
            return FALSE;
        g_ptr_array_add(ld->patches, (gpointer)item);
    }
    return TRUE;
}

/* Reads the files of spec.manifests, relative to the scenario file's directory. */
static gboolean
ld_manifests(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    g_autoptr(GPtrArray) entries = NULL;
    if (!ld_string_list(n, path, FALSE, &entries, error))
        return FALSE;
    for (guint i = 0; entries != NULL && i < entries->len; i++) {
        const YtNode *at = n->items->pdata[i];
        const char *entry = entries->pdata[i];
        g_autofree char *file = ld_resolve_manifest(at->file, entry);
        g_autofree char *text = NULL;
        gsize len = 0;
        int err_no = 0;
        if (!ld_read_file(file, &text, &len, &err_no))
            return ld_fail(error, at, "cannot read manifest '%s': %s", entry, g_strerror(err_no));
        gboolean was_scenario_file = ld->scenario_file;
        ld->scenario_file = FALSE;
        gboolean ok = ld_stream(ld, file, text, len, error);
        ld->scenario_file = was_scenario_file;
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- Scenario document */

/* Decodes the Scenario's metadata {name, description, labels, annotations}. */
static gboolean
ld_scenario_meta(Loader *ld, const YtNode *n, GError **error)
{
    static const char *const fields[] = {"name", "description", "labels", "annotations", NULL};
    GHashTable *ignored = NULL;
    gboolean ok = ld_check_fields(n, fields, "Scenario", "metadata", error) &&
                  ld_get_string(n, "name", "metadata", &ld->sc->name, error) &&
                  ld_get_string(n, "description", "metadata", &ld->sc->description, error) &&
                  ld_get_string_map(n, "labels", "metadata", &ignored, error) &&
                  ld_get_string_map(n, "annotations", "metadata", &ignored, error);
    if (ignored != NULL)
        g_hash_table_unref(ignored);
    return ok;
}

/* Decodes spec.seed: an unsigned 64-bit integer. */
static gboolean
ld_seed(Loader *ld, const YtNode *n, GError **error)
{
    if (yt_is_null(n))
        return TRUE;
    guint64 v;
    if (n->type != YT_SCALAR || yt_scalar_kind(n) != YT_VALUE_INT ||
        !g_ascii_string_to_unsigned(n->text, 10, 0, G_MAXUINT64, &v, NULL))
        return ld_fail(error, n, "spec.seed: expected an unsigned integer, got %s%s%s%s",
                       n->type == YT_SCALAR ? "'" : "", n->type == YT_SCALAR ? n->text : "",
                       n->type == YT_SCALAR ? "'" : "", n->type == YT_SCALAR ? "" : yt_describe(n));
    ld->sc->seed = v;
    return TRUE;
}

/* Decodes spec.pods {serviceTime, concurrency}: how every pod's server handles requests. */
static gboolean
ld_pods(Loader *ld, const YtNode *n, const char *path, GError **error)
{
    static const char *const fields[] = {"serviceTime", "concurrency", NULL};
    if (yt_is_null(n))
        return TRUE;
    g_autofree char *sp = ld_path(path, "serviceTime");
    gint64 concurrency = ld->sc->pod_concurrency;
    if (!ld_expect_map(n, path, error) || !ld_check_fields(n, fields, "Scenario", path, error) ||
        !ld_duration(yt_map_get(n, "serviceTime"), sp, &ld->sc->pod_service_time, error) ||
        !ld_get_int(n, "concurrency", path, &concurrency, error))
        return FALSE;
    if (concurrency < 1 || concurrency > 1000000)
        return ld_fail(error, yt_map_get(n, "concurrency"),
                       "%s.concurrency: Invalid value: %" G_GINT64_FORMAT
                       ": must be between 1 and 1000000",
                       path, concurrency);
    ld->sc->pod_concurrency = (guint)concurrency;
    return TRUE;
}

/* Decodes the Scenario's spec, in dependency order: duration before traffic, clients before
 * traffic; manifests are read as they are met. */
static gboolean
ld_scenario_spec(Loader *ld, const YtNode *spec, GError **error)
{
    static const char *const fields[] = {"seed",      "duration", "cluster", "proxy",
                                         "manifests", "clients",  "traffic", "events",
                                         "expect",    "patches",  "pods",    NULL};
    if (!ld_check_fields(spec, fields, "Scenario", "spec", error))
        return FALSE;
    const YtNode *proxy = yt_map_get(spec, "proxy");
    if (!ld_seed(ld, yt_map_get(spec, "seed"), error) ||
        !ld_duration(yt_map_get(spec, "duration"), "spec.duration", &ld->sc->duration, error) ||
        !ld_cluster(ld, yt_map_get(spec, "cluster"), "spec.cluster", error) ||
        !ld_expect_map(proxy, "spec.proxy", error) ||
        (!yt_is_null(proxy) && !ld_proxy_config(ld, proxy, "spec.proxy", FALSE, error)) ||
        !ld_pods(ld, yt_map_get(spec, "pods"), "spec.pods", error) ||
        !ld_clients(ld, yt_map_get(spec, "clients"), "spec.clients", error) ||
        !ld_traffic(ld, yt_map_get(spec, "traffic"), "spec.traffic", error) ||
        !ld_events(ld, yt_map_get(spec, "events"), "spec.events", error) ||
        !ld_expect(ld, yt_map_get(spec, "expect"), "spec.expect", error) ||
        !ld_patches(ld, yt_map_get(spec, "patches"), "spec.patches", error))
        return FALSE;
    if (ld->sc->duration <= 0)
        return ld_fail(error, yt_map_get(spec, "duration"), "spec.duration: must be positive");
    return ld_manifests(ld, yt_map_get(spec, "manifests"), "spec.manifests", error);
}

/* Decodes the kind: Scenario document (at most one, only in a scenario file). */
static gboolean
ld_scenario_doc(Loader *ld, const YtNode *root, GError **error)
{
    static const char *const fields[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    const YtNode *kind = yt_map_get(root, "kind");
    if (!ld->scenario_file)
        return ld_fail(error, kind,
                       "a kind: Scenario document belongs in a scenario file, not "
                       "in a manifest");
    if (ld->scenario != NULL)
        return ld_fail(error, kind,
                       "a scenario file holds one kind: Scenario document; the first is at "
                       "%s:%u:%u",
                       ld->scenario->file, ld->scenario->line, ld->scenario->column);
    ld->scenario = root;
    const YtNode *spec = yt_map_get(root, "spec");
    return ld_check_fields(root, fields, "Scenario", "", error) &&
           ld_expect_map(yt_map_get(root, "metadata"), "metadata", error) &&
           ld_scenario_meta(ld, yt_map_get(root, "metadata"), error) &&
           ld_expect_map(spec, "spec", error) && ld_scenario_spec(ld, spec, error);
}

/* ---------------------------------------------------------------- patches */

/* Finds a service or deployment by namespace and name in the scenario, or NULL. */
static gpointer
ld_find_object(const Scenario *sc, gboolean service, const char *ns, const char *name)
{
    GPtrArray *list = service ? sc->services : sc->deployments;
    for (guint i = 0; i < list->len; i++) {
        const K8sMeta *m = service ? &((K8sService *)list->pdata[i])->meta
                                   : &((K8sDeployment *)list->pdata[i])->meta;
        if (strcmp(m->namespace_, ns) == 0 && strcmp(m->name, name) == 0)
            return list->pdata[i];
    }
    return NULL;
}

/* Applies one spec.patches entry to the object it names. */
static gboolean
ld_apply_patch(Loader *ld, const YtNode *item, GError **error)
{
    const YtNode *svc = yt_map_get(item, "service");
    const YtNode *target = svc != NULL ? svc : yt_map_get(item, "deployment");
    const YtNode *ns_node = yt_map_get(item, "namespace");
    const char *ns = yt_is_null(ns_node) ? "default" : ns_node->text;
    gpointer obj = ld_find_object(ld->sc, svc != NULL, ns, target->text);
    if (obj == NULL) {
        GPtrArray *list = svc != NULL ? ld->sc->services : ld->sc->deployments;
        g_autofree const char **names = g_new0(const char *, list->len + 1);
        for (guint i = 0; i < list->len; i++)
            names[i] = svc != NULL ? ((K8sService *)list->pdata[i])->meta.name
                                   : ((K8sDeployment *)list->pdata[i])->meta.name;
        const char *hint = yt_closest(target->text, names);
        g_autofree char *dym = hint != NULL ? g_strdup_printf("; did you mean '%s'?", hint) : NULL;
        return ld_fail(error, target, "patch target %s \"%s\" not found in namespace \"%s\"%s",
                       svc != NULL ? "service" : "deployment", target->text, ns,
                       dym != NULL ? dym : "");
    }
    const YtNode *spec = yt_map_get(item, "spec");
    if (svc != NULL) {
        K8sService *s = obj;
        LdObject o = {ld, "Service", s->meta.name};
        return ld_service_spec(&o, spec, s, TRUE, error);
    }
    K8sDeployment *d = obj;
    LdObject o = {ld, "Deployment", d->meta.name};
    return ld_deployment_spec(&o, spec, d, TRUE, error);
}

/* ---------------------------------------------------------------- the end of a load */

/* Checks every recorded node name against the declared nodes. */
static gboolean
ld_check_node_refs(Loader *ld, GError **error)
{
    const Scenario *sc = ld->sc;
    for (guint i = 0; i < ld->node_refs->len; i++) {
        const LdNodeRef *r = ld->node_refs->pdata[i];
        if (scenario_find_node(sc, r->at->text) != NULL)
            continue;
        g_autofree const char **names = g_new0(const char *, sc->nodes->len + 1);
        for (guint j = 0; j < sc->nodes->len; j++)
            names[j] = ((K8sNode *)sc->nodes->pdata[j])->name;
        const char *hint = yt_closest(r->at->text, names);
        g_autofree char *dym = hint != NULL ? g_strdup_printf("; did you mean '%s'?", hint) : NULL;
        return ld_fail(error, r->at,
                       "%s: node '%s' is not declared in spec.cluster.nodes or by a kind: Node "
                       "document%s",
                       r->path, r->at->text, dym != NULL ? dym : "");
    }
    return TRUE;
}

/* Runs what needs the whole load: patches, cross-field validation of the new Services and
 * Deployments, node references, and kube-proxy's clusterCIDR default. */
static gboolean
ld_finish(Loader *ld, GError **error)
{
    Scenario *sc = ld->sc;
    for (guint i = 0; i < ld->patches->len; i++)
        if (!ld_apply_patch(ld, ld->patches->pdata[i], error))
            return FALSE;
    for (guint i = ld->first_service; i < sc->services->len; i++)
        if (!ld_service_validate(sc->services->pdata[i], error))
            return FALSE;
    for (guint i = ld->first_deployment; i < sc->deployments->len; i++)
        if (!ld_deployment_validate(sc->deployments->pdata[i], error))
            return FALSE;
    if (!ld_check_node_refs(ld, error))
        return FALSE;
    if (sc->proxy_cluster_cidr_from_cluster) {
        g_array_set_size(sc->proxy.cluster_cidrs, 0);
        g_array_append_val(sc->proxy.cluster_cidrs, sc->cluster_cidr);
    }
    return TRUE;
}

/* Records the names of objects already in sc, so duplicates across loads are caught. */
static void
ld_seed_names(Loader *ld)
{
    const Scenario *sc = ld->sc;
    struct {
        GPtrArray *list;
        const char *resource;
    } kinds[] = {{sc->services, "services"},
                 {sc->deployments, "deployments"},
                 {sc->pods, "pods"},
                 {sc->slices, "endpointslices"}};
    for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (guint i = 0; i < kinds[k].list->len; i++) {
            const K8sMeta *m = kinds[k].list->pdata[i]; /* meta is each object's first field */
            K8sPos *pos = g_new(K8sPos, 1);
            *pos = m->pos;
            g_hash_table_insert(
                ld->names, g_strdup_printf("%s/%s/%s", kinds[k].resource, m->namespace_, m->name),
                pos);
        }
    }
    for (guint i = 0; i < sc->nodes->len; i++) {
        const K8sNode *n = sc->nodes->pdata[i];
        K8sPos *pos = g_new(K8sPos, 1);
        *pos = n->pos;
        g_hash_table_insert(ld->names, g_strdup_printf("nodes//%s", n->name), pos);
    }
}

/* Prepares a load into sc. */
static void
ld_init(Loader *ld, Scenario *sc, gboolean scenario_file)
{
    memset(ld, 0, sizeof *ld);
    ld->sc = sc;
    ld->scenario_file = scenario_file;
    ld->docs = g_ptr_array_new_with_free_func((GDestroyNotify)yt_document_free);
    ld->patches = g_ptr_array_new();
    ld->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    ld->node_refs = g_ptr_array_new_with_free_func((GDestroyNotify)ld_node_ref_free);
    ld->first_service = sc->services->len;
    ld->first_deployment = sc->deployments->len;
    ld->first_pod = sc->pods->len;
    ld->first_slice = sc->slices->len;
    ld->first_node = sc->nodes->len;
    ld->first_warning = sc->warnings->len;
    ld_seed_names(ld);
}

/* Undoes a failed load's additions to sc (only needed when sc outlives the load). */
static void
ld_rollback(Loader *ld)
{
    Scenario *sc = ld->sc;
    g_ptr_array_set_size(sc->services, (gint)ld->first_service);
    g_ptr_array_set_size(sc->deployments, (gint)ld->first_deployment);
    g_ptr_array_set_size(sc->pods, (gint)ld->first_pod);
    g_ptr_array_set_size(sc->slices, (gint)ld->first_slice);
    g_ptr_array_set_size(sc->warnings, (gint)ld->first_warning);
    /* Manifests add Node documents at the end; scenario nodes never reach this path. */
    g_ptr_array_set_size(sc->nodes, (gint)ld->first_node);
    if (ld->proxy_saved) {
        kube_proxy_config_clear(&sc->proxy);
        sc->proxy = ld->proxy_backup;
        sc->proxy_cluster_cidr_from_cluster = ld->proxy_from_cluster_backup;
        ld->proxy_saved = FALSE;
    }
}

/* Releases the load state (not the scenario). */
static void
ld_clear(Loader *ld)
{
    if (ld->proxy_saved)
        kube_proxy_config_clear(&ld->proxy_backup);
    g_ptr_array_unref(ld->node_refs);
    g_hash_table_unref(ld->names);
    g_ptr_array_unref(ld->patches);
    g_ptr_array_unref(ld->docs);
}

/* ---------------------------------------------------------------- public */

/* See loader.h. A stream without a kind: Scenario document gets the default cluster's nodes
 * (when it declares none with kind: Node) and its client. */
Scenario *
loader_load_scenario_text(const char *name, const char *text, gsize len, GError **error)
{
    g_return_val_if_fail(name != NULL && (text != NULL || len == 0), NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    g_autoptr(Scenario) sc = scenario_new(name);
    Loader ld;
    ld_init(&ld, sc, TRUE);
    gboolean ok = ld_stream(&ld, name, text, len, error);
    if (ok && ld.scenario == NULL) {
        g_autoptr(Scenario) def = scenario_new_default();
        if (sc->nodes->len == 0)
            while (def->nodes->len > 0)
                g_ptr_array_add(sc->nodes, g_ptr_array_steal_index(def->nodes, 0));
        g_ptr_array_add(sc->clients, g_ptr_array_steal_index(def->clients, 0));
    }
    ok = ok && ld_finish(&ld, error);
    ld_clear(&ld);
    return ok ? g_steal_pointer(&sc) : NULL;
}

/* See loader.h. */
Scenario *
loader_load_scenario(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    int err_no = 0;
    if (!ld_read_file(path, &text, &len, &err_no)) {
        g_set_error(error, LOADER_ERROR, LOADER_ERROR_IO, "%s: error: cannot read scenario: %s",
                    path, g_strerror(err_no));
        return NULL;
    }
    return loader_load_scenario_text(path, text, len, error);
}

/* See loader.h. On error sc is left as it was. */
gboolean
loader_add_manifest_text(Scenario *sc, const char *name, const char *text, gsize len,
                         GError **error)
{
    g_return_val_if_fail(sc != NULL && name != NULL && (text != NULL || len == 0), FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    Loader ld;
    ld_init(&ld, sc, FALSE);
    gboolean ok = ld_stream(&ld, name, text, len, error) && ld_finish(&ld, error);
    if (!ok)
        ld_rollback(&ld);
    ld_clear(&ld);
    return ok;
}

/* See loader.h. */
gboolean
loader_add_manifest(Scenario *sc, const char *path, GError **error)
{
    g_return_val_if_fail(sc != NULL && path != NULL, FALSE);
    g_autofree char *text = NULL;
    gsize len = 0;
    int err_no = 0;
    if (!ld_read_file(path, &text, &len, &err_no)) {
        g_set_error(error, LOADER_ERROR, LOADER_ERROR_IO, "%s: error: cannot read manifest: %s",
                    path, g_strerror(err_no));
        return FALSE;
    }
    return loader_add_manifest_text(sc, path, text, len, error);
}

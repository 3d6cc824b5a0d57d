/* SPDX-License-Identifier: Apache-2.0 */
/* The loader's shared readers: error wording, field paths, structure checks, typed values and
 * object names, as declared in loader_private.h.
 *
 * Every decoder reads YAML through these, so errors are positioned at the offending key or
 * value and worded the way kubectl and the apiserver word them: "PATH: expected an integer,
 * got 'two'", unknown fields with a did-you-mean hint, "The Service \"web\" is invalid: ..." and
 * the apiserver's name rules (RFC 1123 subdomains and labels, RFC 1035 labels).
 */
#include "model/loader_private.h"

#include <string.h>

/* ---------------------------------------------------------------- errors */

/* See loader_private.h. */
void
ld_append_escaped(GString *out, const char *text, gboolean quotes)
{
    for (const char *c = text; *c != '\0'; c++) {
        guchar b = (guchar)*c;
        if (quotes && (b == '"' || b == '\\'))
            g_string_append_printf(out, "\\%c", b);
        else if (b == '\n')
            g_string_append(out, "\\n");
        else if (b == '\t')
            g_string_append(out, "\\t");
        else if (b == '\r')
            g_string_append(out, "\\r");
        else if (b < 0x20 || b == 0x7f)
            g_string_append_printf(out, "\\x%02x", b);
        else
            g_string_append_c(out, (char)b);
    }
}

/* text with control characters written as Go's %q writes them ("\n", "\t", "\x01"), so that
 * an error quoting a value read from the input stays one line. (transfer full) */
static char *
ld_escape_controls(const char *text)
{
    GString *out = g_string_sized_new(strlen(text));
    ld_append_escaped(out, text, FALSE);
    return g_string_free(out, FALSE);
}

/* Formats the one-line error at file:line:column. */
static void ld_set_error_va(GError **error, const char *file, guint line, guint column,
                            const char *prefix, const char *fmt, va_list ap) G_GNUC_PRINTF(6, 0);

static void
ld_set_error_va(GError **error, const char *file, guint line, guint column, const char *prefix,
                const char *fmt, va_list ap)
{
    g_autofree char *raw = g_strdup_vprintf(fmt, ap);
    g_autofree char *whole = g_strconcat(prefix, raw, NULL);
    g_autofree char *msg = ld_escape_controls(whole); /* the prefix quotes a name: escape it too */
    g_set_error(error, LOADER_ERROR, LOADER_ERROR_INVALID, "%s:%u:%u: error: %s",
                file != NULL ? file : "<unknown>", line, column, msg);
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
    /* *out may be shared (model/k8s.h): merge into a copy that replaces it. */
    g_autoptr(GHashTable) merged =
        *out != NULL ? k8s_string_table_copy(*out) : k8s_string_table_new();
    for (guint i = 0; i < n->pairs->len; i++) {
        const YtPair *pair = &g_array_index(n->pairs, YtPair, i);
        g_autofree char *p = ld_path(path, pair->key->text);
        char *value = NULL;
        if (!ld_string(pair->value, p, &value, error))
            return FALSE;
        g_hash_table_insert(merged, g_strdup(pair->key->text),
                            value != NULL ? value : g_strdup(""));
    }
    if (*out != NULL)
        g_hash_table_unref(*out);
    *out = g_steal_pointer(&merged);
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

/* A run of generated names (ld_register_name_range()): PREFIX then I for I in 1..count, each
 * also followed by "-K" for K in 2..max_k. Kept in Loader.names under "~RESOURCE/NS/PREFIX";
 * pos comes first, so the entry also reads as the K8sPos every names entry is. */
typedef struct {
    K8sPos pos;
    gint64 count;
    gint64 max_k;
} LdNameRange;

/* See loader_private.h. */
gboolean
ld_name_exists(GError **error, const YtNode *at, const char *resource, const char *ns,
               const char *name, const K8sPos *first)
{
    g_autofree char *in_ns =
        ns != NULL ? g_strdup_printf(" in namespace \"%s\"", ns) : g_strdup("");
    return ld_fail(error, at, "%s \"%s\" already exists%s (first defined at %s:%u:%u)", resource,
                   name, in_ns, first->file, first->line, first->column);
}

/* Reads a decimal number in 1..max without a leading zero at s into *out; returns the first
 * character after it, or NULL when s does not start with such a number. */
static const char *
ld_range_number(const char *s, gint64 max, gint64 *out)
{
    if (*s < '1' || *s > '9')
        return NULL;
    gint64 v = 0;
    for (; g_ascii_isdigit(*s); s++) {
        v = v * 10 + (*s - '0');
        if (v > max) /* max is small: v cannot overflow */
            return NULL;
    }
    *out = v;
    return s;
}

/* TRUE when rest, a name without its range's prefix, is "I" (K = 1) or "I-K" of the range r. */
static gboolean
ld_range_holds(const LdNameRange *r, const char *rest, gint64 *i, gint64 *k)
{
    const char *end = ld_range_number(rest, r->count, i);
    *k = 1;
    if (end == NULL || *end == '\0')
        return end != NULL;
    if (*end != '-')
        return FALSE;
    end = ld_range_number(end + 1, r->max_k, k);
    return end != NULL && *end == '\0' && *k >= 2;
}

/* The position of the registered range that holds name, or NULL. key holds "~RESOURCE/NS/"
 * followed by name; it is cut at each place a range's prefix could end (before a number that
 * ends the name, alone or followed by "-K") and looked up there. Cost: O(digits ending name). */
static const K8sPos *
ld_name_range_find(Loader *ld, GString *key, gsize head)
{
    const char *name = key->str + head;
    gsize len = key->len - head, digits = len, split = len;
    while (digits > 0 && g_ascii_isdigit(name[digits - 1]))
        digits--; /* name[digits..len) is the last number */
    if (digits > 0 && digits < len && name[digits - 1] == '-') {
        split = digits - 1;
        while (split > 0 && g_ascii_isdigit(name[split - 1]))
            split--; /* name[split..digits-1) is the number before "-K" */
    }
    for (gsize p = MIN(split, digits); p < len; p++) {
        if (name[p] < '1' || name[p] > '9')
            continue; /* the '-', or a leading zero: no number starts here */
        char cut = key->str[head + p];
        key->str[head + p] = '\0';
        const LdNameRange *r = g_hash_table_lookup(ld->names, key->str);
        key->str[head + p] = cut;
        gint64 i, k;
        if (r != NULL && ld_range_holds(r, name + p, &i, &k))
            return &r->pos;
    }
    return NULL;
}

/* See loader_private.h. */
gboolean
ld_register_name(Loader *ld, const char *resource, const char *ns, const char *name,
                 const YtNode *at, GError **error)
{
    char *key = g_strconcat(resource, "/", ns != NULL ? ns : "", "/", name, NULL); /* hot */
    const K8sPos *first = g_hash_table_lookup(ld->names, key);
    if (first == NULL && ld->name_ranges > 0) {
        g_autoptr(GString) range_key = g_string_new("~");
        g_string_append(range_key, key);
        first = ld_name_range_find(ld, range_key, range_key->len - strlen(name));
    }
    if (first != NULL) {
        g_free(key);
        return ld_name_exists(error, at, resource, ns, name, first);
    }
    K8sPos *pos = g_new(K8sPos, 1);
    *pos = ld_pos(at);
    g_hash_table_insert(ld->names, key, pos);
    return TRUE;
}

/* See loader_private.h. */
const K8sPos *
ld_name_range_taken(Loader *ld, const char *resource, const char *ns, const char *prefix,
                    gint64 count, gint64 max_k, gint64 *first_i, gint64 *first_k)
{
    g_autofree char *head = g_strconcat(resource, "/", ns != NULL ? ns : "", "/", prefix, NULL);
    gsize head_len = strlen(head);
    const LdNameRange range = {.count = count, .max_k = max_k};
    const K8sPos *found = NULL;
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, ld->names);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        gint64 i, k;
        if (strncmp(key, head, head_len) != 0 ||
            !ld_range_holds(&range, (const char *)key + head_len, &i, &k))
            continue;
        if (found == NULL || i < *first_i || (i == *first_i && k < *first_k)) {
            found = value;
            *first_i = i;
            *first_k = k;
        }
    }
    return found;
}

/* See loader_private.h. */
void
ld_register_name_range(Loader *ld, const char *resource, const char *ns, const char *prefix,
                       gint64 count, gint64 max_k, const YtNode *at)
{
    g_return_if_fail(count >= 1 && count <= LD_NAME_RANGE_MAX && max_k >= 1 &&
                     max_k <= LD_NAME_RANGE_MAX);
    LdNameRange *r = g_new(LdNameRange, 1);
    *r = (LdNameRange){.pos = ld_pos(at), .count = count, .max_k = max_k};
    g_hash_table_insert(
        ld->names, g_strconcat("~", resource, "/", ns != NULL ? ns : "", "/", prefix, NULL), r);
    ld->name_ranges++;
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
void
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

/* SPDX-License-Identifier: Apache-2.0 */
/* Reads YAML streams with libyaml's event parser into position-carrying node trees.
 *
 * Stands in for the YAML layer of sigs.k8s.io/yaml (go-yaml) under kubectl: scalars resolve by
 * YAML 1.1 rules, anchors/aliases and `<<` merge keys work, duplicate keys are errors worded as
 * go-yaml words them. Errors carry libyaml's problem text at its problem mark. Left out: complex
 * (non-scalar) keys, custom tags, and YAML 1.2 directives' effects on resolution.
 */
#include "model/yaml_tree.h"

#include <string.h>
#include <yaml.h>

G_DEFINE_QUARK(kpsim - yaml - tree - error - quark, yt_error)

/* One open collection while events stream in. */
typedef struct {
    YtNode *node;
    YtNode *pending_key; /* mappings: a key waiting for its value */
    char *anchor;        /* (nullable) registered when the collection is complete */
} YtFrame;

/* The state of one yt_parse() call. */
typedef struct {
    const char *file;
    const char *text;
    gsize len;
    GPtrArray *docs;      /* YtDocument* */
    YtDocument *doc;      /* the open document */
    GArray *frames;       /* YtFrame */
    GHashTable *anchors;  /* char* -> YtNode*, per document */
    GArray *continuation; /* guint pairs (first, last): lines inside multi-line scalars */
} YtBuilder;

/* ---------------------------------------------------------------- text positions */

/* Counts UTF-8 characters in the first n bytes of s (continuation bytes do not count). */
static guint
yt_count_chars(const char *s, gsize n)
{
    guint count = 0;
    for (gsize i = 0; i < n; i++)
        if (((guchar)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

/* Converts a byte offset into a 1-based line and character column. */
static void
yt_offset_to_position(const char *text, gsize len, gsize offset, guint *line, guint *column)
{
    guint l = 1;
    gsize line_start = 0;
    if (offset > len)
        offset = len;
    for (gsize i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    *column = yt_count_chars(text + line_start, offset - line_start) + 1;
}

/* The byte offset where 1-based line starts, or len when the text is shorter. */
static gsize
yt_line_offset(const char *text, gsize len, guint line)
{
    gsize i = 0;
    for (guint l = 1; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    return i;
}

/* The byte offset of 1-based line and character column, clamped to len. */
static gsize
yt_column_offset(const char *text, gsize len, guint line, guint column)
{
    gsize off = yt_line_offset(text, len, line);
    for (guint c = 1; c < column && off < len; c++) {
        off++;
        while (off < len && ((guchar)text[off] & 0xC0) == 0x80)
            off++;
    }
    return off;
}

/* Sets a YT_ERROR in the project's one-line format. */
static void G_GNUC_PRINTF(6, 7) yt_set_error(GError **error, YtError code, const char *file,
                                             guint line, guint column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, YT_ERROR, code, "%s:%u:%u: error: %s", file, line, column, msg);
}

/* ---------------------------------------------------------------- typography */

typedef enum {
    YT_TYPO_DASH,
    YT_TYPO_DQUOTE,
    YT_TYPO_SQUOTE,
    YT_TYPO_SPACE,
    YT_TYPO_HASH,
    YT_TYPO_FENCE,
} YtTypoClass;

typedef struct {
    gunichar c;
    const char *name;
    YtTypoClass cls;
} YtTypoChar;

/* Characters that web pages and word processors substitute for YAML syntax. */
static const YtTypoChar yt_typo_chars[] = {
    {0x2010, "HYPHEN", YT_TYPO_DASH},
    {0x2011, "NON-BREAKING HYPHEN", YT_TYPO_DASH},
    {0x2012, "FIGURE DASH", YT_TYPO_DASH},
    {0x2013, "EN DASH", YT_TYPO_DASH},
    {0x2014, "EM DASH", YT_TYPO_DASH},
    {0x2015, "HORIZONTAL BAR", YT_TYPO_DASH},
    {0x2022, "BULLET", YT_TYPO_DASH},
    {0x2212, "MINUS SIGN", YT_TYPO_DASH},
    {0x30FB, "KATAKANA MIDDLE DOT", YT_TYPO_DASH},
    {0xFF0D, "FULLWIDTH HYPHEN-MINUS", YT_TYPO_DASH},
    {0x201C, "LEFT DOUBLE QUOTATION MARK", YT_TYPO_DQUOTE},
    {0x201D, "RIGHT DOUBLE QUOTATION MARK", YT_TYPO_DQUOTE},
    {0x201E, "DOUBLE LOW-9 QUOTATION MARK", YT_TYPO_DQUOTE},
    {0xFF02, "FULLWIDTH QUOTATION MARK", YT_TYPO_DQUOTE},
    {0x2018, "LEFT SINGLE QUOTATION MARK", YT_TYPO_SQUOTE},
    {0x2019, "RIGHT SINGLE QUOTATION MARK", YT_TYPO_SQUOTE},
    {0xFF07, "FULLWIDTH APOSTROPHE", YT_TYPO_SQUOTE},
    {0x00A0, "NO-BREAK SPACE", YT_TYPO_SPACE},
    {0x3000, "IDEOGRAPHIC SPACE", YT_TYPO_SPACE},
    {0xFF03, "FULLWIDTH NUMBER SIGN", YT_TYPO_HASH},
};

/* Classifies the first non-space character of text; returns the table entry or NULL. Sets
 * *fence when the character is a quote followed by a backtick (a mangled Markdown fence). */
static const YtTypoChar *
yt_typo_lookup(const char *text, const char **at, gboolean *fence)
{
    while (*text == ' ')
        text++;
    *at = text;
    *fence = FALSE;
    gunichar c = g_utf8_get_char_validated(text, -1);
    if (c == (gunichar)-1 || c == (gunichar)-2)
        return NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(yt_typo_chars); i++) {
        if (yt_typo_chars[i].c != c)
            continue;
        const char *next = g_utf8_next_char(text);
        *fence =
            (yt_typo_chars[i].cls == YT_TYPO_DQUOTE || yt_typo_chars[i].cls == YT_TYPO_SQUOTE) &&
            *next == '`';
        return &yt_typo_chars[i];
    }
    return NULL;
}

/* Words what a typographic character was probably meant to be. (transfer full) */
static char *
yt_typo_message(const YtTypoChar *t, gboolean fence)
{
    char utf8[8] = {0};
    g_unichar_to_utf8(t->c, utf8);
    if (fence)
        return g_strdup_printf("'%s`' is a Markdown code fence whose backquote became '%s' "
                               "(U+%04X %s) when copied from a web page; delete this line",
                               utf8, utf8, t->c, t->name);
    switch (t->cls) {
    case YT_TYPO_DASH:
        return g_strdup_printf("'%s' (U+%04X %s) is not a YAML list marker; did you mean '-'?",
                               utf8, t->c, t->name);
    case YT_TYPO_DQUOTE:
        return g_strdup_printf("'%s' (U+%04X %s) is not a YAML quote; did you mean '\"'?", utf8,
                               t->c, t->name);
    case YT_TYPO_SQUOTE:
        return g_strdup_printf("'%s' (U+%04X %s) is not a YAML quote; did you mean \"'\"?", utf8,
                               t->c, t->name);
    case YT_TYPO_SPACE:
        return g_strdup_printf("'%s' (U+%04X %s) is not a space YAML indents with; did you mean "
                               "' '?",
                               utf8, t->c, t->name);
    case YT_TYPO_HASH:
        return g_strdup_printf("'%s' (U+%04X %s) does not start a YAML comment; did you mean "
                               "'#'?",
                               utf8, t->c, t->name);
    case YT_TYPO_FENCE:
        break;
    }
    return g_strdup("typographic character where YAML syntax was expected");
}

/* See yaml_tree.h. */
char *
yt_typography_hint(const char *text)
{
    const char *at;
    gboolean fence;
    g_return_val_if_fail(text != NULL, NULL);
    if (g_str_has_prefix(text, "```"))
        return g_strdup("'```' is a Markdown code fence, not YAML; delete this line");
    const YtTypoChar *t = yt_typo_lookup(text, &at, &fence);
    return t != NULL ? yt_typo_message(t, fence) : NULL;
}

/* TRUE when a plain scalar value (not a key) is typography that broke the structure: a list
 * marker followed by a space, or a code fence. Prose values with curly quotes are fine. */
static gboolean
yt_value_is_typo(const char *text)
{
    const char *at;
    gboolean fence;
    if (g_str_has_prefix(text, "```"))
        return TRUE;
    const YtTypoChar *t = yt_typo_lookup(text, &at, &fence);
    if (t == NULL)
        return FALSE;
    return fence || (t->cls == YT_TYPO_DASH && *g_utf8_next_char(at) == ' ');
}

/* TRUE when 1-based line lies inside a multi-line quoted or block scalar (not on its first
 * line). */
static gboolean
yt_line_is_continuation(const YtBuilder *b, guint line)
{
    for (guint i = 0; i + 1 < b->continuation->len; i += 2) {
        guint first = g_array_index(b->continuation, guint, i);
        guint last = g_array_index(b->continuation, guint, i + 1);
        if (line > first && line <= last)
            return TRUE;
    }
    return FALSE;
}

/* After a syntax error at 1-based line upto: looks for the first line before it that starts
 * with a typographic stand-in for YAML syntax (outside multi-line scalars and comments) and
 * reports that instead, since it is almost certainly the cause. Returns TRUE if it did. */
static gboolean
yt_explain_by_typography(YtBuilder *b, guint upto, GError **error)
{
    gsize off = 0;
    for (guint line = 1; line <= upto && off < b->len; line++) {
        const char *start = b->text + off;
        const char *nl = memchr(start, '\n', b->len - off);
        gsize n = nl != NULL ? (gsize)(nl - start) : b->len - off;
        g_autofree char *copy = g_strndup(start, n);
        if (line == 1 && g_str_has_prefix(copy, "\xEF\xBB\xBF"))
            memset(copy, ' ', 3);
        g_autofree char *hint = NULL;
        if (copy[strspn(copy, " ")] != '#' && !yt_line_is_continuation(b, line))
            hint = yt_typography_hint(copy);
        if (hint != NULL) {
            gsize lead = strspn(copy, " ");
            yt_set_error(error, YT_ERROR_TYPOGRAPHY, b->file, line, yt_count_chars(copy, lead) + 1,
                         "%s", hint);
            return TRUE;
        }
        off += n + 1;
    }
    return FALSE;
}

/* Turns libyaml's error state into a GError, explaining tabs, code fences and typography. */
static void
yt_syntax_error(YtBuilder *b, const yaml_parser_t *p, GError **error)
{
    guint line, column;
    if (p->error == YAML_READER_ERROR) {
        yt_offset_to_position(b->text, b->len, p->problem_offset, &line, &column);
        yt_set_error(error, YT_ERROR_SYNTAX, b->file, line, column, "%s (the file must be UTF-8)",
                     p->problem != NULL ? p->problem : "invalid text");
        return;
    }
    line = (guint)p->problem_mark.line + 1;
    column = (guint)p->problem_mark.column + 1;
    if (yt_explain_by_typography(b, line, error))
        return;
    gsize off = yt_column_offset(b->text, b->len, line, column);
    const char *at = b->text + off;
    const char *problem = p->problem != NULL ? p->problem : "invalid YAML";
    guint cline = (guint)p->context_mark.line + 1, ccol = (guint)p->context_mark.column + 1;
    if (at < b->text + b->len && *at == '\t') {
        yt_set_error(error, YT_ERROR_SYNTAX, b->file, line, column,
                     "found a tab character where YAML expects spaces (indent with spaces)");
    } else if (p->context != NULL && strcmp(p->context, "while scanning a simple key") == 0) {
        /* The key that lacks its ':' is the offending spot, not where scanning gave up. */
        yt_set_error(error, YT_ERROR_SYNTAX, b->file, cline, ccol,
                     "%s after this key (scanning stopped at %u:%u)", problem, line, column);
    } else if (p->context != NULL && (cline != line || ccol != column)) {
        yt_set_error(error, YT_ERROR_SYNTAX, b->file, line, column, "%s (%s that started at %u:%u)",
                     problem, p->context, cline, ccol);
    } else {
        yt_set_error(error, YT_ERROR_SYNTAX, b->file, line, column, "%s", problem);
    }
}

/* ---------------------------------------------------------------- nodes */

/* Frees one node's own storage (children are separate entries of the document). */
static void
yt_node_free(YtNode *n)
{
    g_free(n->tag);
    g_free(n->text);
    if (n->items != NULL)
        g_ptr_array_unref(n->items);
    if (n->pairs != NULL)
        g_array_unref(n->pairs);
    g_free(n);
}

/* See yaml_tree.h. */
void
yt_document_free(YtDocument *doc)
{
    if (doc == NULL)
        return;
    g_ptr_array_unref(doc->nodes);
    g_free(doc);
}

/* Allocates a node owned by the open document at libyaml mark m. */
static YtNode *
yt_node_new(YtBuilder *b, YtNodeType type, const yaml_mark_t *m, const yaml_char_t *tag)
{
    YtNode *n = g_new0(YtNode, 1);
    n->type = type;
    n->file = b->file;
    n->line = (guint)m->line + 1;
    n->column = (guint)m->column + 1;
    n->tag = g_strdup((const char *)tag);
    n->weight = 1;
    if (type == YT_SEQUENCE)
        n->items = g_ptr_array_new();
    if (type == YT_MAPPING)
        n->pairs = g_array_new(FALSE, FALSE, sizeof(YtPair));
    g_ptr_array_add(b->doc->nodes, n);
    return n;
}

/* Saturating addition for node weights. */
static guint64
yt_weight_add(guint64 a, guint64 b)
{
    return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

/* TRUE when a tag is one of YAML's standard scalar/collection tags or the non-specific "!". */
static gboolean
yt_tag_supported(const char *tag)
{
    static const char *const known[] = {"str", "int", "bool",  "float",     "null",
                                        "map", "seq", "merge", "timestamp", "binary"};
    if (tag == NULL || strcmp(tag, "!") == 0)
        return TRUE;
    if (!g_str_has_prefix(tag, "tag:yaml.org,2002:"))
        return FALSE;
    const char *name = tag + strlen("tag:yaml.org,2002:");
    for (gsize i = 0; i < G_N_ELEMENTS(known); i++)
        if (strcmp(name, known[i]) == 0)
            return TRUE;
    return FALSE;
}

/* Checks a finished scalar for typography that broke the structure: any typographic start of
 * a key, or a list marker/code fence as a plain value. */
static gboolean
yt_check_scalar_typography(const YtNode *n, gboolean is_key, GError **error)
{
    if (n->style != YT_STYLE_PLAIN)
        return TRUE;
    if (!is_key && !yt_value_is_typo(n->text))
        return TRUE;
    g_autofree char *hint = yt_typography_hint(n->text);
    if (hint == NULL)
        return TRUE;
    yt_set_error(error, YT_ERROR_TYPOGRAPHY, n->file, n->line, n->column, "%s", hint);
    return FALSE;
}

/* Attaches a finished node to the open collection (or makes it the document root). */
static gboolean
yt_attach(YtBuilder *b, YtNode *n, GError **error)
{
    if (b->frames->len == 0) {
        b->doc->root = n;
        return TRUE;
    }
    YtFrame *f = &g_array_index(b->frames, YtFrame, b->frames->len - 1);
    YtNode *parent = f->node;
    parent->weight = yt_weight_add(parent->weight, n->weight);
    if (parent->type == YT_SEQUENCE) {
        g_ptr_array_add(parent->items, n);
        return n->type != YT_SCALAR || yt_check_scalar_typography(n, FALSE, error);
    }
    if (f->pending_key == NULL) {
        if (n->type != YT_SCALAR) {
            yt_set_error(error, YT_ERROR_STRUCTURE, n->file, n->line, n->column,
                         "mapping keys must be scalars, not %s", yt_describe(n));
            return FALSE;
        }
        f->pending_key = n;
        return yt_check_scalar_typography(n, TRUE, error);
    }
    YtPair pair = {f->pending_key, n};
    g_array_append_val(parent->pairs, pair);
    f->pending_key = NULL;
    return n->type != YT_SCALAR || yt_check_scalar_typography(n, FALSE, error);
}

/* Opens a collection: checks the depth limit and pushes a frame. */
static gboolean
yt_open(YtBuilder *b, YtNode *n, const yaml_char_t *anchor, GError **error)
{
    if (b->frames->len >= YT_MAX_DEPTH) {
        yt_set_error(error, YT_ERROR_LIMIT, n->file, n->line, n->column,
                     "nesting is deeper than %d levels", YT_MAX_DEPTH);
        return FALSE;
    }
    YtFrame f = {n, NULL, g_strdup((const char *)anchor)};
    g_array_append_val(b->frames, f);
    return TRUE;
}

/* Registers an anchor for a finished node (anchors are visible only once complete, so an
 * alias can never form a cycle). */
static void
yt_register_anchor(YtBuilder *b, const yaml_char_t *anchor, YtNode *n)
{
    if (anchor != NULL)
        g_hash_table_insert(b->anchors, g_strdup((const char *)anchor), n);
}

/* TRUE when a mapping key is the merge key "<<". */
static gboolean
yt_is_merge_key(const YtNode *k)
{
    if (k->style != YT_STYLE_PLAIN || strcmp(k->text, "<<") != 0)
        return FALSE;
    return k->tag == NULL || strcmp(k->tag, "tag:yaml.org,2002:merge") == 0;
}

/* Finds the index of a scalar key in pairs[0..upto), or -1. */
static gint
yt_find_key(GArray *pairs, guint upto, const char *key)
{
    for (guint i = 0; i < upto; i++) {
        const YtPair *p = &g_array_index(pairs, YtPair, i);
        if (strcmp(p->key->text, key) == 0)
            return (gint)i;
    }
    return -1;
}

/* Reports the first duplicate key of a mapping, as go-yaml does. Cost: O(n) with a hash. */
static gboolean
yt_check_duplicates(YtNode *map, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < map->pairs->len; i++) {
        const YtPair *p = &g_array_index(map->pairs, YtPair, i);
        if (yt_is_merge_key(p->key))
            continue;
        const YtNode *first = g_hash_table_lookup(seen, p->key->text);
        if (first != NULL) {
            yt_set_error(error, YT_ERROR_STRUCTURE, p->key->file, p->key->line, p->key->column,
                         "mapping key \"%s\" already defined at line %u", p->key->text,
                         first->line);
            return FALSE;
        }
        g_hash_table_insert(seen, p->key->text, p->key);
    }
    return TRUE;
}

/* Appends the pairs of source whose keys map does not have yet (explicit keys win). */
static gboolean
yt_merge_from(YtNode *map, const YtNode *source, const YtNode *key, GError **error)
{
    if (source->type != YT_MAPPING) {
        yt_set_error(error, YT_ERROR_STRUCTURE, key->file, key->line, key->column,
                     "'<<' merges mappings, got %s", yt_describe(source));
        return FALSE;
    }
    for (guint j = 0; j < source->pairs->len; j++) {
        YtPair sp = g_array_index(source->pairs, YtPair, j);
        if (yt_find_key(map->pairs, map->pairs->len, sp.key->text) >= 0)
            continue;
        g_array_append_val(map->pairs, sp);
        map->weight = yt_weight_add(map->weight, yt_weight_add(sp.key->weight, sp.value->weight));
    }
    return TRUE;
}

/* Expands `<<` merge keys of a finished mapping: explicit keys first, then merged ones, earlier
 * merge sources taking precedence. */
static gboolean
yt_expand_merges(YtNode *map, GError **error)
{
    g_autoptr(GArray) merges = g_array_new(FALSE, FALSE, sizeof(YtPair));
    GArray *kept = g_array_new(FALSE, FALSE, sizeof(YtPair));
    for (guint i = 0; i < map->pairs->len; i++) {
        YtPair p = g_array_index(map->pairs, YtPair, i);
        g_array_append_val(yt_is_merge_key(p.key) ? merges : kept, p);
    }
    g_array_unref(map->pairs);
    map->pairs = kept;
    for (guint i = 0; i < merges->len; i++) {
        const YtPair *m = &g_array_index(merges, YtPair, i);
        if (m->value->type != YT_SEQUENCE) {
            if (!yt_merge_from(map, m->value, m->key, error))
                return FALSE;
            continue;
        }
        for (guint j = 0; j < m->value->items->len; j++)
            if (!yt_merge_from(map, m->value->items->pdata[j], m->key, error))
                return FALSE;
    }
    return TRUE;
}

/* Closes the innermost collection: mapping checks, the size limit, anchor, attach to parent. */
static gboolean
yt_close(YtBuilder *b, GError **error)
{
    YtFrame f = g_array_index(b->frames, YtFrame, b->frames->len - 1);
    g_array_set_size(b->frames, b->frames->len - 1);
    g_autofree char *anchor = f.anchor;
    YtNode *n = f.node;
    if (n->type == YT_MAPPING) {
        if (!yt_check_duplicates(n, error))
            return FALSE;
        if (!yt_expand_merges(n, error))
            return FALSE;
    }
    if (n->weight > YT_MAX_NODES) {
        yt_set_error(error, YT_ERROR_LIMIT, n->file, n->line, n->column,
                     "document is too large: more than %u nodes after expanding aliases",
                     YT_MAX_NODES);
        return FALSE;
    }
    yt_register_anchor(b, (const yaml_char_t *)anchor, n);
    return yt_attach(b, n, error);
}

/* ---------------------------------------------------------------- events */

/* Stores a scalar event as a node. */
static gboolean
yt_on_scalar(YtBuilder *b, const yaml_event_t *ev, GError **error)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    YtNode *n = yt_node_new(b, YT_SCALAR, &ev->start_mark, ev->data.scalar.tag);
    n->text = g_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        n->style = YT_STYLE_SINGLE_QUOTED;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        n->style = YT_STYLE_DOUBLE_QUOTED;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        n->style = YT_STYLE_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        n->style = YT_STYLE_FOLDED;
        break;
    case YAML_ANY_SCALAR_STYLE:
    case YAML_PLAIN_SCALAR_STYLE:
        n->style = YT_STYLE_PLAIN;
        break;
    }
    if (!yt_tag_supported(tag)) {
        yt_set_error(error, YT_ERROR_STRUCTURE, n->file, n->line, n->column,
                     "unsupported YAML tag '%s'", tag);
        return FALSE;
    }
    /* Lines inside quoted and block scalars are text; plain ones stay suspect because a
     * broken structure often turns several lines into one plain scalar. */
    guint first = n->line, last = (guint)ev->end_mark.line + 1;
    if (last > first && n->style != YT_STYLE_PLAIN) {
        g_array_append_val(b->continuation, first);
        g_array_append_val(b->continuation, last);
    }
    yt_register_anchor(b, ev->data.scalar.anchor, n);
    return yt_attach(b, n, error);
}

/* Resolves an alias to its anchored node and attaches it (shared, not copied). */
static gboolean
yt_on_alias(YtBuilder *b, const yaml_event_t *ev, GError **error)
{
    const char *name = (const char *)ev->data.alias.anchor;
    YtNode *target = g_hash_table_lookup(b->anchors, name);
    if (target == NULL) {
        yt_set_error(error, YT_ERROR_STRUCTURE, b->file, (guint)ev->start_mark.line + 1,
                     (guint)ev->start_mark.column + 1,
                     "unknown anchor '%s' referenced (an alias must follow its complete anchor)",
                     name);
        return FALSE;
    }
    return yt_attach(b, target, error);
}

/* Starts a document. */
static void
yt_on_document_start(YtBuilder *b)
{
    b->doc = g_new0(YtDocument, 1);
    b->doc->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)yt_node_free);
    g_hash_table_remove_all(b->anchors);
}

/* Ends a document: an empty one gets a null root; a scalar root is checked for typography. */
static gboolean
yt_on_document_end(YtBuilder *b, const yaml_event_t *ev, GError **error)
{
    if (b->doc->root == NULL) {
        b->doc->root = yt_node_new(b, YT_SCALAR, &ev->start_mark, NULL);
        b->doc->root->text = g_strdup("");
    }
    YtDocument *doc = g_steal_pointer(&b->doc);
    g_ptr_array_add(b->docs, doc);
    if (doc->root->type != YT_SCALAR || doc->root->style != YT_STYLE_PLAIN)
        return TRUE;
    g_autofree char *hint = yt_typography_hint(doc->root->text);
    if (hint == NULL)
        return TRUE;
    yt_set_error(error, YT_ERROR_TYPOGRAPHY, doc->root->file, doc->root->line, doc->root->column,
                 "%s", hint);
    return FALSE;
}

/* Dispatches one parser event. Returns FALSE with error set on a structural problem. */
static gboolean
yt_on_event(YtBuilder *b, const yaml_event_t *ev, GError **error)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        yt_on_document_start(b);
        return TRUE;
    case YAML_DOCUMENT_END_EVENT:
        return yt_on_document_end(b, ev, error);
    case YAML_SCALAR_EVENT:
        return yt_on_scalar(b, ev, error);
    case YAML_ALIAS_EVENT:
        return yt_on_alias(b, ev, error);
    case YAML_SEQUENCE_START_EVENT: {
        YtNode *n = yt_node_new(b, YT_SEQUENCE, &ev->start_mark, ev->data.sequence_start.tag);
        return yt_open(b, n, ev->data.sequence_start.anchor, error);
    }
    case YAML_MAPPING_START_EVENT: {
        YtNode *n = yt_node_new(b, YT_MAPPING, &ev->start_mark, ev->data.mapping_start.tag);
        return yt_open(b, n, ev->data.mapping_start.anchor, error);
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return yt_close(b, error);
    case YAML_NO_EVENT:
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
        return TRUE;
    }
    return TRUE;
}

/* Releases the builder's working state (not the documents it returns). */
static void
yt_builder_clear(YtBuilder *b)
{
    for (guint i = 0; i < b->frames->len; i++)
        g_free(g_array_index(b->frames, YtFrame, i).anchor);
    yt_document_free(b->doc);
    g_array_unref(b->frames);
    g_hash_table_unref(b->anchors);
    g_array_unref(b->continuation);
}

/* See yaml_tree.h. */
GPtrArray *
yt_parse(const char *file, const char *text, gsize len, GError **error)
{
    g_return_val_if_fail(file != NULL && (text != NULL || len == 0), NULL);
    file = g_intern_string(file);
    if (len > YT_MAX_INPUT_BYTES) {
        yt_set_error(error, YT_ERROR_LIMIT, file, 1, 1, "the file is larger than %u MiB",
                     YT_MAX_INPUT_BYTES / (1024u * 1024u));
        return NULL;
    }
    YtBuilder b = {.file = file, .text = text != NULL ? text : "", .len = len};
    b.docs = g_ptr_array_new_with_free_func((GDestroyNotify)yt_document_free);
    b.frames = g_array_new(FALSE, FALSE, sizeof(YtFrame));
    b.anchors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b.continuation = g_array_new(FALSE, FALSE, sizeof(guint));
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)b.text, len);
    gboolean ok = TRUE, done = FALSE;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            yt_syntax_error(&b, &parser, error);
            ok = FALSE;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        ok = yt_on_event(&b, &ev, error);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    yt_builder_clear(&b);
    if (!ok)
        g_clear_pointer(&b.docs, g_ptr_array_unref);
    return b.docs;
}

/* ---------------------------------------------------------------- queries */

/* TRUE when s is a YAML 1.1 integer: decimal, 0x hex, 0o/0 octal, 0b binary, optional sign
 * and underscores. */
static gboolean
yt_looks_int(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    const char *digits = "0123456789_";
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        digits = "0123456789abcdefABCDEF_", s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'b'))
        digits = s[1] == 'o' ? "01234567_" : "01_", s += 2;
    return *s != '\0' && *s != '_' && strspn(s, digits) == strlen(s);
}

/* TRUE when s is a YAML float: [-+](digits[.digits]|.digits)[e[-+]digits], .inf, .nan. */
static gboolean
yt_looks_float(const char *s)
{
    static const char *const special[] = {".inf",  ".Inf",  ".INF", "+.inf", "-.inf",
                                          "+.Inf", "-.Inf", ".nan", ".NaN",  ".NAN"};
    for (gsize i = 0; i < G_N_ELEMENTS(special); i++)
        if (strcmp(s, special[i]) == 0)
            return TRUE;
    if (*s == '+' || *s == '-')
        s++;
    gsize int_digits = strspn(s, "0123456789_");
    s += int_digits;
    if (*s != '.')
        return FALSE;
    s++;
    gsize frac_digits = strspn(s, "0123456789_");
    s += frac_digits;
    if (int_digits + frac_digits == 0)
        return FALSE;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (strspn(s, "0123456789") == 0)
            return FALSE;
        s += strspn(s, "0123456789");
    }
    return *s == '\0';
}

/* TRUE when s is one of the given words. */
static gboolean
yt_word_in(const char *s, const char *const *words, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return TRUE;
    return FALSE;
}

/* See yaml_tree.h. */
YtValueKind
yt_scalar_kind(const YtNode *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE",
                                        "yes",  "Yes",  "YES",  "no",    "No",    "NO",
                                        "on",   "On",   "ON",   "off",   "Off",   "OFF"};
    g_return_val_if_fail(n != NULL && n->type == YT_SCALAR, YT_VALUE_STRING);
    if (n->tag != NULL) {
        if (g_str_has_suffix(n->tag, ":int"))
            return YT_VALUE_INT;
        if (g_str_has_suffix(n->tag, ":bool"))
            return YT_VALUE_BOOL;
        if (g_str_has_suffix(n->tag, ":float"))
            return YT_VALUE_FLOAT;
        if (g_str_has_suffix(n->tag, ":null"))
            return YT_VALUE_NULL;
        return YT_VALUE_STRING;
    }
    if (n->style != YT_STYLE_PLAIN)
        return YT_VALUE_STRING;
    if (yt_word_in(n->text, nulls, G_N_ELEMENTS(nulls)))
        return YT_VALUE_NULL;
    if (yt_word_in(n->text, bools, G_N_ELEMENTS(bools)))
        return YT_VALUE_BOOL;
    if (yt_looks_int(n->text))
        return YT_VALUE_INT;
    if (yt_looks_float(n->text))
        return YT_VALUE_FLOAT;
    return YT_VALUE_STRING;
}

/* See yaml_tree.h. */
gboolean
yt_is_null(const YtNode *n)
{
    return n == NULL || (n->type == YT_SCALAR && yt_scalar_kind(n) == YT_VALUE_NULL);
}

/* See yaml_tree.h. Cost: O(pairs). */
const YtPair *
yt_map_get_pair(const YtNode *n, const char *key)
{
    if (n == NULL || n->type != YT_MAPPING)
        return NULL;
    gint i = yt_find_key(n->pairs, n->pairs->len, key);
    return i < 0 ? NULL : &g_array_index(n->pairs, YtPair, (guint)i);
}

/* See yaml_tree.h. */
const YtNode *
yt_map_get(const YtNode *n, const char *key)
{
    const YtPair *p = yt_map_get_pair(n, key);
    return p != NULL ? p->value : NULL;
}

/* See yaml_tree.h. */
const char *
yt_describe(const YtNode *n)
{
    if (n == NULL)
        return "nothing";
    switch (n->type) {
    case YT_MAPPING:
        return "a mapping";
    case YT_SEQUENCE:
        return "a sequence";
    case YT_SCALAR:
        break;
    }
    switch (yt_scalar_kind(n)) {
    case YT_VALUE_NULL:
        return "null";
    case YT_VALUE_BOOL:
        return "a boolean";
    case YT_VALUE_INT:
        return "an integer";
    case YT_VALUE_FLOAT:
        return "a number";
    case YT_VALUE_STRING:
        break;
    }
    return "a string";
}

/* ---------------------------------------------------------------- did you mean */

/* See yaml_tree.h. Optimal string alignment distance (Levenshtein plus adjacent transposition)
 * over Unicode characters. Cost: O(|a| * |b|). */
guint
yt_edit_distance(const char *a, const char *b, gboolean ignore_case)
{
    glong la = 0, lb = 0;
    g_autofree gunichar *ua = g_utf8_to_ucs4_fast(a, -1, &la);
    g_autofree gunichar *ub = g_utf8_to_ucs4_fast(b, -1, &lb);
    for (glong i = 0; ignore_case && i < la; i++)
        ua[i] = g_unichar_tolower(ua[i]);
    for (glong j = 0; ignore_case && j < lb; j++)
        ub[j] = g_unichar_tolower(ub[j]);
    glong w = lb + 1;
    g_autofree guint *d = g_new(guint, (gsize)((la + 1) * w));
    for (glong i = 0; i <= la; i++)
        d[i * w] = (guint)i;
    for (glong j = 0; j <= lb; j++)
        d[j] = (guint)j;
    for (glong i = 1; i <= la; i++) {
        for (glong j = 1; j <= lb; j++) {
            guint cost = ua[i - 1] == ub[j - 1] ? 0 : 1;
            guint best = MIN(d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1);
            best = MIN(best, d[(i - 1) * w + j - 1] + cost);
            if (i > 1 && j > 1 && ua[i - 1] == ub[j - 2] && ua[i - 2] == ub[j - 1])
                best = MIN(best, d[(i - 2) * w + j - 2] + 1);
            d[i * w + j] = best;
        }
    }
    return d[la * w + lb];
}

/* See yaml_tree.h. */
const char *
yt_closest(const char *word, const char *const *candidates)
{
    g_return_val_if_fail(word != NULL && candidates != NULL, NULL);
    glong len = g_utf8_strlen(word, -1);
    guint limit = len < 5 ? 1 : MAX(2, (guint)len / 3);
    const char *best = NULL;
    guint best_ci = G_MAXUINT, best_cs = G_MAXUINT;
    gboolean tie = FALSE;
    for (const char *const *c = candidates; *c != NULL; c++) {
        guint ci = yt_edit_distance(word, *c, TRUE);
        guint cs = yt_edit_distance(word, *c, FALSE);
        if (ci < best_ci || (ci == best_ci && cs < best_cs)) {
            best = *c;
            best_ci = ci;
            best_cs = cs;
            tie = FALSE;
        } else if (ci == best_ci && cs == best_cs && strcmp(*c, best) != 0) {
            tie = TRUE;
        }
    }
    /* Two equally close candidates (node1/node2 for node5) make a guess, not a hint. */
    return best_ci <= limit && best_cs > 0 && !tie ? best : NULL;
}

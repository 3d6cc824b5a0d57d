/* SPDX-License-Identifier: Apache-2.0 */
/* A YAML stream read with libyaml into trees of nodes that remember where they were written.
 *
 * Plays the part of the YAML front end of sigs.k8s.io/yaml that kubectl uses: a stream of
 * documents, each a tree of scalars, sequences and mappings. Every node keeps its file, line and
 * column (1-based, in characters), its scalar style (so a plain 80 is an integer and a quoted
 * "80" a string) and its tag. Anchors and aliases are resolved by sharing nodes, `<<` merge keys
 * are expanded, duplicate keys are errors. Limits keep hostile input cheap: nesting depth, input
 * size and the node count after alias expansion are capped. Text pasted from web pages
 * (en dashes as list markers, curly quotes, mangled code fences) is recognised and reported as
 * what it most likely was meant to be.
 */
#ifndef KPSIM_YAML_TREE_H
#define KPSIM_YAML_TREE_H

#include <glib.h>

#define YT_ERROR (yt_error_quark())
GQuark yt_error_quark(void);
typedef enum {
    YT_ERROR_SYNTAX,     /* libyaml rejected the text */
    YT_ERROR_LIMIT,      /* too deep, too large */
    YT_ERROR_STRUCTURE,  /* duplicate keys, bad aliases, unsupported tags */
    YT_ERROR_TYPOGRAPHY, /* typographic characters where YAML syntax was meant */
} YtError;

#define YT_MAX_DEPTH 64
#define YT_MAX_INPUT_BYTES (64u * 1024u * 1024u)
#define YT_MAX_NODES 1000000u /* per document, counting every alias expansion */

typedef enum {
    YT_SCALAR,
    YT_SEQUENCE,
    YT_MAPPING,
} YtNodeType;

typedef enum {
    YT_STYLE_PLAIN,
    YT_STYLE_SINGLE_QUOTED,
    YT_STYLE_DOUBLE_QUOTED,
    YT_STYLE_LITERAL,
    YT_STYLE_FOLDED,
} YtStyle;

/* What a scalar resolves to under the YAML 1.1 rules sigs.k8s.io/yaml applies. */
typedef enum {
    YT_VALUE_NULL,
    YT_VALUE_BOOL,
    YT_VALUE_INT,
    YT_VALUE_FLOAT,
    YT_VALUE_STRING,
} YtValueKind;

typedef struct YtNode YtNode;

typedef struct {
    YtNode *key;
    YtNode *value;
} YtPair;

struct YtNode {
    YtNodeType type;
    const char *file; /* interned */
    guint line;       /* 1-based */
    guint column;     /* 1-based, in characters */
    char *tag;        /* (nullable) resolved tag, e.g. "tag:yaml.org,2002:str" */
    char *text;       /* scalars: the value ("" for an empty scalar) */
    YtStyle style;    /* scalars */
    GPtrArray *items; /* sequences: YtNode* (transfer none: owned by the document) */
    GArray *pairs;    /* mappings: YtPair, in document order after merge-key expansion */
    guint64 weight;   /* nodes in this subtree, aliases expanded (saturating) */
};

typedef struct {
    YtNode *root;     /* never NULL; an empty document is a null scalar */
    GPtrArray *nodes; /* every node of the document, owned */
} YtDocument;

/* Parses a YAML stream into documents. file (interned here) is used in positions and error
 * messages; errors are "FILE:LINE:COLUMN: error: MESSAGE" in YT_ERROR. Returns an array of
 * YtDocument* that frees them, or NULL on error. Cost: linear in the text and the nodes.
 * (transfer full) */
GPtrArray *yt_parse(const char *file, const char *text, gsize len, GError **error);
void yt_document_free(YtDocument *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(YtDocument, yt_document_free)

/* How a scalar resolves: its tag if it has one, quoted and block styles are strings, plain text
 * by the YAML 1.1 resolution rules. */
YtValueKind yt_scalar_kind(const YtNode *n);
/* TRUE for NULL, and for scalars resolving to null ("", "~", "null"). */
gboolean yt_is_null(const YtNode *n);
/* The value of key in a mapping, or NULL when absent or n is not a mapping. (transfer none) */
const YtNode *yt_map_get(const YtNode *n, const char *key);
/* The whole key/value pair, or NULL. (transfer none) */
const YtPair *yt_map_get_pair(const YtNode *n, const char *key);
/* "a mapping", "a sequence", "a string", "an integer", "a boolean", "a number", "null". */
const char *yt_describe(const YtNode *n);

/* Levenshtein distance between two strings, counting characters; case differences cost 0 when
 * ignore_case is TRUE. */
guint yt_edit_distance(const char *a, const char *b, gboolean ignore_case);
/* The candidate most like word, or NULL when none is close enough to be a plausible typo
 * (distance at most 1 for words under 5 characters, else max(2, len/3); case-insensitive
 * distance first, then exact) or when two candidates are equally close. candidates is
 * NULL-terminated. (transfer none) */
const char *yt_closest(const char *word, const char *const *candidates);

/* When text starts (after spaces) with a typographic character that stands in for YAML syntax
 * (U+2013 for '-', U+201C for '"', ...), returns a one-line explanation of what was meant;
 * otherwise NULL. (transfer full) */
char *yt_typography_hint(const char *text);

#endif

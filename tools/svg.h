/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny writer of SVG and HTML text into a GString: escaping, start tags with attributes,
 * closing tags, and numbers with a fixed number of decimals.
 *
 * It stands in for what a browser-side charting library would draw, so kpsim's report.html is
 * one self-contained file. Output is a pure function of the calls: numbers are formatted with
 * g_ascii_formatd (the C locale, whatever LC_NUMERIC says) with one decimal, so the same report
 * gives the same bytes on every machine. Every element it writes is well-formed XML, so an
 * inline <svg> also parses as a standalone SVG document. It checks nothing about the
 * vocabulary: names are the caller's. An inline <svg> needs no xmlns in HTML, and none is
 * written, so the page holds no URL at all.
 */
#ifndef KPSIM_TOOLS_SVG_H
#define KPSIM_TOOLS_SVG_H

#include <glib.h>

/* Bytes a formatted number needs (svg_format_num). */
#define SVG_NUM_STRLEN G_ASCII_DTOSTR_BUF_SIZE

/* Appends text with &, <, >, " and ' replaced by character references (safe in element
 * content and in double-quoted attributes). NULL appends nothing. */
void svg_escape(GString *out, const char *text);
/* Formats v with exactly one decimal in the C locale ("12.5", "0.0"; -0.0 prints as "0.0").
 * Writes into buf (SVG_NUM_STRLEN bytes) and returns it. */
const char *svg_format_num(double v, char *buf);

/* Appends "<name". Follow with svg_attr*() and svg_tag_end(). */
void svg_tag_begin(GString *out, const char *name);
/* Appends ` key="value"` with value escaped; a NULL value appends nothing. */
void svg_attr(GString *out, const char *key, const char *value);
/* Appends ` key="N"` with N as svg_format_num() writes it. */
void svg_attr_num(GString *out, const char *key, double value);
/* Appends ` key="..."` with the printf-formatted value escaped. */
void svg_attr_printf(GString *out, const char *key, const char *format, ...) G_GNUC_PRINTF(3, 4);
/* Ends a start tag: "/>" when empty (no content follows), else ">". */
void svg_tag_end(GString *out, gboolean empty);
/* Appends "</name>". */
void svg_close(GString *out, const char *name);
/* Appends <name>text</name> with text escaped. */
void svg_element_text(GString *out, const char *name, const char *text);
/* Appends <name class="cls">text</name> with text escaped (cls may be NULL). */
void svg_element_class_text(GString *out, const char *name, const char *cls, const char *text);

/* Appends <text x y class text-anchor>text</text>; cls and anchor may be NULL. */
void svg_text(GString *out, double x, double y, const char *cls, const char *anchor,
              const char *text);
/* Appends <rect x y width height class/> (negative sizes are clamped to 0). */
void svg_rect(GString *out, double x, double y, double w, double h, const char *cls);
/* Appends <line x1 y1 x2 y2 class/>. */
void svg_line(GString *out, double x1, double y1, double x2, double y2, const char *cls);
/* Opens an <svg> element with its viewBox, width, role="img", aria-labelledby pointing at its
 * <title> and <desc>, and writes both (ids id-title and id-desc). Close with svg_close(out,
 * "svg"). */
void svg_begin(GString *out, const char *id, double width, double height, const char *title,
               const char *desc);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny writer of SVG and HTML text (see svg.h): escaping, tags, attributes and fixed-decimal
 * numbers in the C locale, so report.html is byte-identical on every machine.
 */
#include <stdarg.h>

#include "tools/svg.h"

/* Appends text with the five XML special characters replaced. */
void
svg_escape(GString *out, const char *text)
{
    for (const char *p = text; p != NULL && *p != '\0'; p++) {
        switch (*p) {
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        case '\'':
            g_string_append(out, "&#39;");
            break;
        default:
            g_string_append_c(out, *p);
        }
    }
}

/* Formats v with one decimal in the C locale; a negative zero prints as "0.0". */
const char *
svg_format_num(double v, char *buf)
{
    g_ascii_formatd(buf, SVG_NUM_STRLEN, "%.1f", v);
    if (g_str_equal(buf, "-0.0"))
        g_strlcpy(buf, "0.0", SVG_NUM_STRLEN);
    return buf;
}

/* Appends "<name". */
void
svg_tag_begin(GString *out, const char *name)
{
    g_string_append_c(out, '<');
    g_string_append(out, name);
}

/* Appends an escaped attribute; NULL values are left out. */
void
svg_attr(GString *out, const char *key, const char *value)
{
    if (value == NULL)
        return;
    g_string_append_printf(out, " %s=\"", key);
    svg_escape(out, value);
    g_string_append_c(out, '"');
}

/* Appends a numeric attribute with one decimal. */
void
svg_attr_num(GString *out, const char *key, double value)
{
    char buf[SVG_NUM_STRLEN];
    g_string_append_printf(out, " %s=\"%s\"", key, svg_format_num(value, buf));
}

/* Appends an attribute whose value is printf-formatted, then escaped. */
void
svg_attr_printf(GString *out, const char *key, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *value = g_strdup_vprintf(format, ap);
    va_end(ap);
    svg_attr(out, key, value);
}

/* Ends a start tag, self-closing when empty. */
void
svg_tag_end(GString *out, gboolean empty)
{
    g_string_append(out, empty ? "/>" : ">");
}

/* Appends a closing tag. */
void
svg_close(GString *out, const char *name)
{
    g_string_append_printf(out, "</%s>", name);
}

/* Appends an element holding escaped text. */
void
svg_element_text(GString *out, const char *name, const char *text)
{
    svg_element_class_text(out, name, NULL, text);
}

/* Appends an element with an optional class holding escaped text. */
void
svg_element_class_text(GString *out, const char *name, const char *cls, const char *text)
{
    svg_tag_begin(out, name);
    svg_attr(out, "class", cls);
    svg_tag_end(out, FALSE);
    svg_escape(out, text);
    svg_close(out, name);
}

/* Appends a <text> element at (x, y). */
void
svg_text(GString *out, double x, double y, const char *cls, const char *anchor, const char *text)
{
    svg_tag_begin(out, "text");
    svg_attr_num(out, "x", x);
    svg_attr_num(out, "y", y);
    svg_attr(out, "class", cls);
    svg_attr(out, "text-anchor", anchor);
    svg_tag_end(out, FALSE);
    svg_escape(out, text);
    svg_close(out, "text");
    g_string_append_c(out, '\n');
}

/* Appends a <rect>, clamping negative sizes to 0. */
void
svg_rect(GString *out, double x, double y, double w, double h, const char *cls)
{
    svg_tag_begin(out, "rect");
    svg_attr_num(out, "x", x);
    svg_attr_num(out, "y", y);
    svg_attr_num(out, "width", MAX(w, 0));
    svg_attr_num(out, "height", MAX(h, 0));
    svg_attr(out, "class", cls);
    svg_tag_end(out, TRUE);
    g_string_append_c(out, '\n');
}

/* Appends a <line>. */
void
svg_line(GString *out, double x1, double y1, double x2, double y2, const char *cls)
{
    svg_tag_begin(out, "line");
    svg_attr_num(out, "x1", x1);
    svg_attr_num(out, "y1", y1);
    svg_attr_num(out, "x2", x2);
    svg_attr_num(out, "y2", y2);
    svg_attr(out, "class", cls);
    svg_tag_end(out, TRUE);
    g_string_append_c(out, '\n');
}

/* Opens an accessible <svg> with its <title> and <desc>. */
void
svg_begin(GString *out, const char *id, double width, double height, const char *title,
          const char *desc)
{
    char w[SVG_NUM_STRLEN], h[SVG_NUM_STRLEN];
    svg_tag_begin(out, "svg");
    svg_attr(out, "id", id);
    svg_attr_printf(out, "viewBox", "0 0 %s %s", svg_format_num(width, w),
                    svg_format_num(height, h));
    svg_attr(out, "width", w);
    svg_attr(out, "role", "img");
    svg_attr_printf(out, "aria-labelledby", "%s-title %s-desc", id, id);
    svg_tag_end(out, FALSE);
    g_string_append_c(out, '\n');
    svg_tag_begin(out, "title");
    svg_attr_printf(out, "id", "%s-title", id);
    svg_tag_end(out, FALSE);
    svg_escape(out, title);
    svg_close(out, "title");
    svg_tag_begin(out, "desc");
    svg_attr_printf(out, "id", "%s-desc", id);
    svg_tag_end(out, FALSE);
    svg_escape(out, desc);
    svg_close(out, "desc");
    g_string_append_c(out, '\n');
}

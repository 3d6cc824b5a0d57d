/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated time: parsing and printing durations in int64 nanoseconds.
 *
 * Models nothing from the kernel. The text forms follow Go's time.ParseDuration, which is what
 * Kubernetes objects and kube-proxy flags use ("60s", "1.5s", "2m30s", "200us"), plus a bare
 * number meaning seconds as scenario files allow. Arithmetic is exact integer arithmetic: a
 * fraction that is not a whole number of nanoseconds is rejected instead of rounded.
 */
#include "sim/sim_time.h"

#include <string.h>

/* clang-format off */
G_DEFINE_QUARK(sim-time-error-quark, sim_time_error)
/* clang-format on */

/* A unit suffix and its length in nanoseconds, longest suffixes first so "ms" wins over "m". */
static const struct {
    const char *suffix;
    guint64 ns;
} time_units[] = {
    {"ns", 1},           {"us", 1000},      {"\xc2\xb5s", 1000}, /* U+00B5 MICRO SIGN, as Go writes
                                                                    it */
    {"\xce\xbcs", 1000},                                         /* U+03BC GREEK SMALL LETTER MU */
    {"ms", 1000000},     {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000},
};

/* Greatest common divisor of two positive numbers. */
static guint64
gcd64(guint64 a, guint64 b)
{
    while (b != 0) {
        guint64 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* One "NUMBER[.FRACTION]" as integer part and fraction digits (trailing zeros dropped). */
typedef struct {
    guint64 whole;
    guint64 frac; /* the fraction digits as an integer */
    guint frac_digits;
} TimeNumber;

/* Reads a decimal number at *p and advances *p past it. Fails on no digits or overflow. */
static gboolean
time_number_read(const char **p, TimeNumber *n, const char **why)
{
    const char *s = *p;
    gboolean any = FALSE;
    *n = (TimeNumber){0};
    for (; g_ascii_isdigit(*s); s++, any = TRUE) {
        guint d = (guint)(*s - '0');
        if (n->whole > (G_MAXUINT64 - d) / 10) {
            *why = "value out of range";
            return FALSE;
        }
        n->whole = n->whole * 10 + d;
    }
    if (*s == '.') {
        s++;
        guint pending_zeros = 0;
        for (; g_ascii_isdigit(*s); s++, any = TRUE) {
            if (*s == '0') {
                pending_zeros++;
                continue;
            }
            for (guint i = 0; i <= pending_zeros; i++, n->frac_digits++) {
                if (n->frac_digits >= 18) {
                    *why = "more precise than a nanosecond";
                    return FALSE;
                }
                n->frac *= 10;
            }
            n->frac += (guint64)(*s - '0');
            pending_zeros = 0;
        }
    }
    if (!any) {
        *why = "expected a number";
        return FALSE;
    }
    *p = s;
    return TRUE;
}

/* Converts n units of unit_ns nanoseconds to nanoseconds, exactly, adding to *total. */
static gboolean
time_number_to_ns(const TimeNumber *n, guint64 unit_ns, guint64 *total, const char **why)
{
    if (n->whole > (guint64)G_MAXINT64 / unit_ns) {
        *why = "value out of range";
        return FALSE;
    }
    guint64 ns = n->whole * unit_ns;
    if (n->frac_digits > 0) {
        guint64 denom = 1;
        for (guint i = 0; i < n->frac_digits; i++)
            denom *= 10;
        guint64 g = gcd64(unit_ns, denom);
        if (n->frac % (denom / g) != 0) {
            *why = "more precise than a nanosecond";
            return FALSE;
        }
        /* frac / denom < 1, so this product is below unit_ns and cannot overflow. */
        ns += n->frac / (denom / g) * (unit_ns / g);
    }
    if (ns > (guint64)G_MAXINT64 - *total) {
        *why = "value out of range";
        return FALSE;
    }
    *total += ns;
    return TRUE;
}

/* Reads a unit suffix at *p, advancing past it; returns its length in ns, or 0 if none. */
static guint64
time_unit_read(const char **p)
{
    for (gsize i = 0; i < G_N_ELEMENTS(time_units); i++) {
        gsize len = strlen(time_units[i].suffix);
        if (strncmp(*p, time_units[i].suffix, len) == 0) {
            *p += len;
            return time_units[i].ns;
        }
    }
    return 0;
}

/* Parses the body of a duration (sign already checked); sets *why on failure. */
static gboolean
time_parse_body(const char *text, guint64 *total, const char **why)
{
    const char *p = text;
    *total = 0;
    TimeNumber n;
    if (!time_number_read(&p, &n, why))
        return FALSE;
    if (*p == '\0') /* a bare number means seconds */
        return time_number_to_ns(&n, (guint64)SIM_SEC, total, why);
    for (;;) {
        guint64 unit = time_unit_read(&p);
        if (unit == 0) {
            *why = "unknown unit (use ns, us, ms, s, m or h)";
            return FALSE;
        }
        if (!time_number_to_ns(&n, unit, total, why))
            return FALSE;
        if (*p == '\0')
            return TRUE;
        if (!time_number_read(&p, &n, why))
            return FALSE;
    }
}

gboolean
sim_time_parse(const char *text, SimTime *out, GError **error)
{
    g_return_val_if_fail(text != NULL && out != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    const char *why = NULL;
    guint64 total = 0;
    if (text[0] == '-')
        why = "negative durations are not allowed";
    else if (text[0] == '\0')
        why = "empty duration";
    else
        time_parse_body(text[0] == '+' ? text + 1 : text, &total, &why);
    if (why != NULL) {
        g_set_error(error, SIM_TIME_ERROR, 0, "invalid duration \"%s\": %s", text, why);
        return FALSE;
    }
    *out = (SimTime)total;
    return TRUE;
}

/* Appends "W[.F]SUFFIX" for v / unit with trailing fraction zeros dropped. */
static void
format_fraction(GString *s, guint64 v, guint64 unit, const char *suffix)
{
    g_string_append_printf(s, "%" G_GUINT64_FORMAT, v / unit);
    guint64 rest = v % unit;
    if (rest != 0) {
        guint digits = 0;
        for (guint64 u = unit; u > 1; u /= 10)
            digits++;
        char frac[24];
        g_snprintf(frac, sizeof frac, "%0*" G_GUINT64_FORMAT, (int)digits, rest);
        for (gsize len = strlen(frac); len > 0 && frac[len - 1] == '0'; len--)
            frac[len - 1] = '\0';
        g_string_append_printf(s, ".%s", frac);
    }
    g_string_append(s, suffix);
}

const char *
sim_time_format(SimTime t, char *buf)
{
    g_return_val_if_fail(buf != NULL, NULL);
    if (t == SIM_TIME_NEVER) {
        g_strlcpy(buf, "never", SIM_TIME_STRLEN);
        return buf;
    }
    g_autoptr(GString) s = g_string_sized_new(SIM_TIME_STRLEN);
    guint64 v = t < 0 ? (guint64)0 - (guint64)t : (guint64)t;
    if (t < 0)
        g_string_append_c(s, '-');
    if (v == 0) {
        g_string_append(s, "0s");
    } else if (v < (guint64)SIM_USEC) {
        format_fraction(s, v, 1, "ns");
    } else if (v < (guint64)SIM_MSEC) {
        format_fraction(s, v, (guint64)SIM_USEC, "us");
    } else if (v < (guint64)SIM_SEC) {
        format_fraction(s, v, (guint64)SIM_MSEC, "ms");
    } else {
        guint64 hours = v / (3600 * (guint64)SIM_SEC);
        guint64 minutes = v / (60 * (guint64)SIM_SEC) % 60;
        guint64 rest = v % (60 * (guint64)SIM_SEC);
        if (hours > 0)
            g_string_append_printf(s, "%" G_GUINT64_FORMAT "h", hours);
        if (minutes > 0)
            g_string_append_printf(s, "%" G_GUINT64_FORMAT "m", minutes);
        if (rest > 0)
            format_fraction(s, rest, (guint64)SIM_SEC, "s");
    }
    g_strlcpy(buf, s->str, SIM_TIME_STRLEN);
    return buf;
}

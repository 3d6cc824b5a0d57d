/* SPDX-License-Identifier: Apache-2.0 */
/* The JUnit XML writer for `kpsim check --junit FILE`: evaluated expectations as test cases.
 *
 * JUnit's XML is what CI systems (Jenkins, GitLab, GitHub Actions test reporters) read to show
 * which checks passed: a <testsuites> root holding one <testsuite name="kpsim">, one <testcase>
 * per expectation, and a <failure> with the expected and observed values for each one that did
 * not hold. Times are not recorded (a simulation's cost is not the expectation's); everything
 * taken from the scenario is escaped, and control characters XML 1.0 forbids become '?'.
 */
#include <string.h>

#include "tools/report.h"

/* Appends text escaped for XML character data and attribute values. */
static void
junit_escape(GString *out, const char *text)
{
    g_autofree char *clean = g_strdup(text != NULL ? text : "");
    for (char *p = clean; *p; p++)
        if ((guchar)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            *p = '?';
    g_autofree char *escaped = g_markup_escape_text(clean, -1);
    g_string_append(out, escaped);
}

/* Appends one <testcase>. */
static void
junit_testcase(GString *out, const ExpectResult *r, const char *scenario)
{
    g_string_append(out, "    <testcase classname=\"");
    junit_escape(out, scenario);
    g_string_append(out, "\" name=\"");
    junit_escape(out, r->text);
    g_string_append(out, "\"");
    if (r->pos.file != NULL) {
        g_string_append(out, " file=\"");
        junit_escape(out, r->pos.file);
        g_string_append_printf(out, "\" line=\"%u\"", r->pos.line);
    }
    if (r->ok) {
        g_string_append(out, "/>\n");
        return;
    }
    g_autofree char *message = g_strdup_printf("expected %s; observed %s", r->text, r->observed);
    g_string_append(out, ">\n      <failure type=\"expectation\" message=\"");
    junit_escape(out, message);
    g_string_append(out, "\">expected: ");
    junit_escape(out, r->text);
    g_string_append(out, "\nobserved: ");
    junit_escape(out, r->observed);
    if (r->pos.file != NULL) {
        g_autofree char *where =
            g_strdup_printf("\nat: %s:%u:%u", r->pos.file, r->pos.line, r->pos.column);
        junit_escape(out, where);
    }
    g_string_append(out, "</failure>\n    </testcase>\n");
}

/* See tools/report.h. */
void
report_junit_write(const GPtrArray *results, const char *scenario, GString *out)
{
    g_return_if_fail(results != NULL && out != NULL);
    guint failed = expect_count_failed(results);
    g_string_append(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    g_string_append_printf(out, "<testsuites name=\"kpsim\" tests=\"%u\" failures=\"%u\">\n",
                           results->len, failed);
    g_string_append_printf(out,
                           "  <testsuite name=\"kpsim\" tests=\"%u\" failures=\"%u\" "
                           "errors=\"0\" skipped=\"0\">\n",
                           results->len, failed);
    for (guint i = 0; i < results->len; i++)
        junit_testcase(out, results->pdata[i], scenario != NULL ? scenario : "kpsim");
    g_string_append(out, "  </testsuite>\n</testsuites>\n");
}

/* See tools/report.h. g_file_set_contents writes a temporary file and renames it. */
gboolean
report_junit_write_file(const char *path, const GPtrArray *results, const char *scenario,
                        GError **error)
{
    g_return_val_if_fail(path != NULL && results != NULL, FALSE);
    g_autoptr(GString) xml = g_string_new(NULL);
    report_junit_write(results, scenario, xml);
    return g_file_set_contents(path, xml->str, (gssize)xml->len, error);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Writers for a run's report (model/report.h): the text a person reads on a terminal and the
 * JSON a CI pipeline reads (docs/design.md, "run report JSON").
 *
 * Both are pure functions of the report: the same report gives the same bytes, so golden files
 * and `diff` work. Neither reads a clock; wall_seconds is whatever the caller stored (0 with
 * `--no-wall-clock`, and the text report then leaves its line out).
 */
#ifndef KPSIM_TOOLS_REPORT_H
#define KPSIM_TOOLS_REPORT_H

#include <glib.h>
#include "model/expect.h"
#include "model/cluster.h"
#include "model/report.h"

/* Appends the text report: a header, the sentences, then aligned tables of traffic, targets,
 * pods, nodes and Services, a timeline (about a dozen rows whatever the duration), notes and
 * expectations. */
void report_text_write(const RunReport *r, GString *out);

/* Appends the JSON report, pretty-printed with a stable member order and numbers in their
 * shortest exact form (1.203, not 1.2030000000000001), ending with a newline. */
void report_json_write(const RunReport *r, GString *out);

/* Appends a JUnit XML document for evaluated expectations (ExpectResult*): one testsuite
 * "kpsim" with one testcase per expectation (classname = scenario, name = its sentence) and a
 * <failure> holding what was expected and what was observed. Every text is XML-escaped. */
void report_junit_write(const GPtrArray *results, const char *scenario, GString *out);
/* Writes that document to path atomically (a temporary file renamed into place). */
gboolean report_junit_write_file(const char *path, const GPtrArray *results,
                                 const char *scenario, GError **error);

/* Appends report.html (tools/report_html.c): one self-contained page - topology with the paths
 * taken, SNAT, cross-node hops and drops as inline SVG, load per pod and node, a timeline per
 * traffic, one packet's journey through a node's rules (probe_run on c) and each node's
 * iptables-save. No clock and no wall_seconds: the same report gives the same bytes. c is the
 * cluster the run simulated. */
void report_html_write(const RunReport *r, const Cluster *c, GString *out);

#endif

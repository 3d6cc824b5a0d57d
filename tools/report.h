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
#include "model/report.h"

/* Appends the text report: a header, the sentences, then aligned tables of traffic, targets,
 * pods, nodes and Services, a timeline (about a dozen rows whatever the duration), notes and
 * expectations. */
void report_text_write(const RunReport *r, GString *out);

/* Appends the JSON report, pretty-printed with a stable member order and numbers in their
 * shortest exact form (1.203, not 1.2030000000000001), ending with a newline. */
void report_json_write(const RunReport *r, GString *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated time: int64 nanoseconds since the scenario began.
 *
 * Models nothing from the kernel; it is the clock every other sim/ module uses. Time is never a
 * double, so equal inputs give equal results on every machine.
 */
#ifndef KPSIM_SIM_TIME_H
#define KPSIM_SIM_TIME_H

#include <glib.h>

typedef gint64 SimTime;

#define SIM_NSEC ((SimTime)1)
#define SIM_USEC ((SimTime)1000)
#define SIM_MSEC ((SimTime)1000000)
#define SIM_SEC ((SimTime)1000000000)
#define SIM_TIME_NEVER G_MAXINT64

#define SIM_TIME_ERROR (sim_time_error_quark())
GQuark sim_time_error_quark(void);

/* Parses a duration such as "60s", "200us", "1.5s", "2m", "1h", "0" (units ns, us, ms, s, m, h;
 * a bare integer means seconds). Fails with SIM_TIME_ERROR on anything else, on negative values
 * and on overflow. */
gboolean sim_time_parse(const char *text, SimTime *out, GError **error);

/* Formats a time the short way kubectl and the report use ("0s", "1.5s", "200us", "2m30s").
 * Writes into buf (at least SIM_TIME_STRLEN bytes) and returns it. */
#define SIM_TIME_STRLEN 32
const char *sim_time_format(SimTime t, char *buf);

#endif

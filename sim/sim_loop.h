/* SPDX-License-Identifier: Apache-2.0 */
/* The discrete-event loop: one clock and one queue of timed callbacks.
 *
 * Models nothing from the kernel; it is the engine every simulated component runs on, in the
 * style of redis' ae.c time events and libuv's timers. All state lives in one SimLoop, there
 * are no globals. Events fire in (time, sequence) order: two events due at the same instant
 * run in the order they were scheduled, so a scenario and seed give the same run everywhere.
 *
 * A callback returns what happens to its event next: a delay >= 0 runs it again that much
 * later (same id, so periodic jobs need no second API), SIM_LOOP_NOMORE ends it. There is no
 * I/O, no wall clock and no threads: time only moves when the next event is taken.
 *
 * Cost: the queue is a 4-ary min-heap of 24-byte (time, sequence, slot) records beside a slot
 * table holding callbacks; slots and heap grow by doubling and are reused through a free list,
 * so scheduling allocates nothing once the peak is reached. Schedule, pop and cancel are
 * O(log n); cancellation is eager (the event leaves the heap at once, so `pending` is exact and
 * memory follows the events really pending - a lazy cancel would keep cancelled TCP timers in
 * the heap until their time). The loop does not own callback data.
 */
#ifndef KPSIM_SIM_LOOP_H
#define KPSIM_SIM_LOOP_H

#include "sim/sim_time.h"

typedef struct SimLoop SimLoop;

/* Names one scheduled event for as long as it is pending (and while its callback runs). Ids
 * are never 0 and a stale id never matches a later event. */
typedef guint64 SimEventId;
#define SIM_EVENT_ID_NONE ((SimEventId)0)

/* Returned by a callback to end its event. Any other negative value is a programming error;
 * it is reported with g_critical() and also ends the event. */
#define SIM_LOOP_NOMORE ((SimTime)-1)

/* An event's callback. It runs with sim_loop_now() equal to the event's time, may schedule
 * and cancel any event (its own id included: cancelling itself makes the return value moot),
 * and returns the delay after which it runs again, or SIM_LOOP_NOMORE. It must not free the
 * loop or call sim_loop_run*(). */
typedef SimTime (*SimEventFunc)(SimLoop *loop, SimEventId id, gpointer data);

typedef struct {
    guint64 events_processed; /* callbacks run, reruns included */
    guint64 scheduled;        /* successful sim_loop_schedule_*() calls */
    guint64 cancelled;        /* successful sim_loop_cancel() calls */
    guint64 pending;          /* events waiting in the queue now */
    guint64 peak_pending;     /* most events ever waiting at once */
} SimLoopStats;

/* A loop at time 0 with no events. (transfer full) */
SimLoop *sim_loop_new(void);
/* Releases the loop. Pending events are dropped without running; their data is the callers'
 * to release (the loop never owns it). Must not be called from a callback. */
void sim_loop_free(SimLoop *loop);

/* The current simulated time: the time of the running event, or where the last run stopped. */
SimTime sim_loop_now(const SimLoop *loop);

/* Schedules func(loop, id, data) at absolute time when. Returns the event's id, or
 * SIM_EVENT_ID_NONE when when is in the past (< now) or is not a real time (>= SIM_TIME_NEVER);
 * a call that fails never runs its callback. O(log pending); no allocation once warm. */
SimEventId sim_loop_schedule_at(SimLoop *loop, SimTime when, SimEventFunc func, gpointer data);
/* Schedules func delay nanoseconds after now. Fails (SIM_EVENT_ID_NONE) when delay < 0 or
 * now + delay would reach SIM_TIME_NEVER. */
SimEventId sim_loop_schedule_after(SimLoop *loop, SimTime delay, SimEventFunc func, gpointer data);
/* Cancels a pending event so its callback never runs (again). Called on the running event it
 * stops the rerun its return value would ask for. Returns FALSE, doing nothing, when id is not
 * pending (already ran to the end, cancelled, or never existed). O(log pending). */
gboolean sim_loop_cancel(SimLoop *loop, SimEventId id);
/* TRUE while id is waiting in the queue or its callback is running. O(1). */
gboolean sim_loop_is_pending(const SimLoop *loop, SimEventId id);
/* The time id is due, or SIM_TIME_NEVER when it is not waiting in the queue. O(1). */
SimTime sim_loop_event_time(const SimLoop *loop, SimEventId id);
/* The time of the earliest pending event, or SIM_TIME_NEVER when there is none. O(1). */
SimTime sim_loop_next_time(const SimLoop *loop);

/* Runs every event due at or before until, in order, including events those events schedule
 * within the window, then sets the clock to until (unless until is SIM_TIME_NEVER). Returns
 * early, clock at the last event run, when a callback calls sim_loop_stop(). Returns the
 * number of callbacks run. */
guint64 sim_loop_run_until(SimLoop *loop, SimTime until);
/* Runs until no event is pending or a callback calls sim_loop_stop(); the clock stays at the
 * last event run. Returns the number of callbacks run. */
guint64 sim_loop_run(SimLoop *loop);
/* Asks the running sim_loop_run*() to return once the current callback returns. Events stay
 * pending; a later run continues with them. Outside a run it has no effect. */
void sim_loop_stop(SimLoop *loop);

/* Copies the loop's counters into out. */
void sim_loop_get_stats(const SimLoop *loop, SimLoopStats *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimLoop, sim_loop_free)

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The event loop: ordering, reruns, cancellation, run boundaries, and a randomised comparison
 * against a plain reference model. Speed is measured outside the tests.
 */
#include <check.h>

#include "sim/sim_loop.h"
#include "sim/sim_rng.h"

/* Records which events fired, in order, and at what time. */
typedef struct {
    GArray *tags;  /* of guint */
    GArray *times; /* of SimTime */
} Log;

static void
log_init(Log *log)
{
    log->tags = g_array_new(FALSE, FALSE, sizeof(guint));
    log->times = g_array_new(FALSE, FALSE, sizeof(SimTime));
}

static void
log_clear(Log *log)
{
    g_array_unref(log->tags);
    g_array_unref(log->times);
}

/* An event that logs its tag and asks to run `reruns` more times, `period` apart. */
typedef struct {
    Log *log;
    guint tag;
    guint reruns;
    SimTime period;
    SimLoop *loop;
    SimEventId cancel_target; /* cancelled when this event runs, if not NONE */
    gboolean stop_loop;
} Probe;

static SimTime
probe_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    Probe *p = data;
    g_array_append_val(p->log->tags, p->tag);
    SimTime now = sim_loop_now(loop);
    g_array_append_val(p->log->times, now);
    if (p->cancel_target != SIM_EVENT_ID_NONE)
        ck_assert(sim_loop_cancel(loop, p->cancel_target));
    if (p->stop_loop)
        sim_loop_stop(loop);
    if (p->reruns == 0)
        return SIM_LOOP_NOMORE;
    p->reruns--;
    return p->period;
}

static guint
tag_at(const Log *log, guint i)
{
    return g_array_index(log->tags, guint, i);
}

static SimTime
time_at(const Log *log, guint i)
{
    return g_array_index(log->times, SimTime, i);
}

START_TEST(equal_times_fire_in_scheduling_order)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe p[6] = {{0}};
    for (guint i = 0; i < 6; i++)
        p[i] = (Probe){.log = &log, .tag = i};
    /* 0..4 all at t=10, scheduled in order; 5 at t=5 scheduled last. */
    for (guint i = 0; i < 5; i++)
        ck_assert(sim_loop_schedule_at(loop, 10, probe_fire, &p[i]) != SIM_EVENT_ID_NONE);
    ck_assert(sim_loop_schedule_at(loop, 5, probe_fire, &p[5]) != SIM_EVENT_ID_NONE);
    ck_assert_uint_eq(sim_loop_run(loop), 6);
    ck_assert_uint_eq(log.tags->len, 6);
    ck_assert_uint_eq(tag_at(&log, 0), 5);
    for (guint i = 1; i < 6; i++) {
        ck_assert_uint_eq(tag_at(&log, i), i - 1);
        ck_assert_int_eq(time_at(&log, i), 10);
    }
    ck_assert_int_eq(sim_loop_now(loop), 10);
    log_clear(&log);
}
END_TEST

/* Schedules a probe at the current time from inside a callback. */
static SimTime
schedule_now_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    Probe *p = data;
    g_array_append_val(p->log->tags, p->tag);
    SimTime now = sim_loop_now(loop);
    g_array_append_val(p->log->times, now);
    ck_assert(sim_loop_schedule_after(loop, 0, probe_fire, p + 1) != SIM_EVENT_ID_NONE);
    return SIM_LOOP_NOMORE;
}

START_TEST(event_scheduled_now_runs_after_those_already_due)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe p[3] = {{.log = &log, .tag = 0}, {.log = &log, .tag = 2}, {.log = &log, .tag = 1}};
    sim_loop_schedule_at(loop, 7, schedule_now_fire, &p[0]); /* schedules p[1] at t=7 */
    sim_loop_schedule_at(loop, 7, probe_fire, &p[2]);
    sim_loop_run(loop);
    ck_assert_uint_eq(log.tags->len, 3);
    for (guint i = 0; i < 3; i++)
        ck_assert_uint_eq(tag_at(&log, i), i);
    ck_assert_int_eq(time_at(&log, 2), 7);
    log_clear(&log);
}
END_TEST

START_TEST(return_value_reschedules_with_same_id)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe p = {.log = &log, .tag = 1, .reruns = 3, .period = 100};
    SimEventId id = sim_loop_schedule_after(loop, 50, probe_fire, &p);
    ck_assert(id != SIM_EVENT_ID_NONE);
    ck_assert_uint_eq(sim_loop_run_until(loop, 150), 2);
    ck_assert(sim_loop_is_pending(loop, id));
    ck_assert_int_eq(sim_loop_event_time(loop, id), 250);
    ck_assert_uint_eq(sim_loop_run(loop), 2);
    ck_assert_uint_eq(log.times->len, 4);
    for (guint i = 0; i < 4; i++)
        ck_assert_int_eq(time_at(&log, i), 50 + 100 * (SimTime)i);
    ck_assert(!sim_loop_is_pending(loop, id));
    SimLoopStats st;
    sim_loop_get_stats(loop, &st);
    ck_assert_uint_eq(st.events_processed, 4);
    ck_assert_uint_eq(st.scheduled, 1);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_uint_eq(st.peak_pending, 1);
    log_clear(&log);
}
END_TEST

START_TEST(zero_delay_rerun_runs_after_other_events_at_that_time)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe a = {.log = &log, .tag = 1, .reruns = 1, .period = 0};
    Probe b = {.log = &log, .tag = 2};
    sim_loop_schedule_at(loop, 3, probe_fire, &a);
    sim_loop_schedule_at(loop, 3, probe_fire, &b);
    sim_loop_run(loop);
    ck_assert_uint_eq(log.tags->len, 3);
    ck_assert_uint_eq(tag_at(&log, 0), 1);
    ck_assert_uint_eq(tag_at(&log, 1), 2);
    ck_assert_uint_eq(tag_at(&log, 2), 1);
    ck_assert_int_eq(time_at(&log, 2), 3);
    log_clear(&log);
}
END_TEST

START_TEST(cancelled_event_never_runs)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe p[3] = {{.log = &log, .tag = 0}, {.log = &log, .tag = 1}, {.log = &log, .tag = 2}};
    SimEventId ids[3];
    for (guint i = 0; i < 3; i++)
        ids[i] = sim_loop_schedule_at(loop, 10 * (i + 1), probe_fire, &p[i]);
    ck_assert(sim_loop_cancel(loop, ids[1]));
    ck_assert(!sim_loop_cancel(loop, ids[1])); /* twice: nothing left to cancel */
    ck_assert(!sim_loop_is_pending(loop, ids[1]));
    ck_assert_int_eq(sim_loop_event_time(loop, ids[1]), SIM_TIME_NEVER);
    ck_assert(!sim_loop_cancel(loop, SIM_EVENT_ID_NONE));
    ck_assert(!sim_loop_cancel(loop, ids[2] + 1000)); /* never existed */
    sim_loop_run(loop);
    ck_assert_uint_eq(log.tags->len, 2);
    ck_assert_uint_eq(tag_at(&log, 0), 0);
    ck_assert_uint_eq(tag_at(&log, 1), 2);
    ck_assert(!sim_loop_cancel(loop, ids[0])); /* already ran */
    SimLoopStats st;
    sim_loop_get_stats(loop, &st);
    ck_assert_uint_eq(st.cancelled, 1);
    ck_assert_uint_eq(st.events_processed, 2);
    log_clear(&log);
}
END_TEST

START_TEST(stale_id_does_not_cancel_event_reusing_its_slot)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe a = {.log = &log, .tag = 1};
    Probe b = {.log = &log, .tag = 2};
    SimEventId old = sim_loop_schedule_at(loop, 1, probe_fire, &a);
    ck_assert(sim_loop_cancel(loop, old));
    SimEventId fresh = sim_loop_schedule_at(loop, 2, probe_fire, &b); /* reuses the slot */
    ck_assert(fresh != old);
    ck_assert(!sim_loop_cancel(loop, old));
    ck_assert(sim_loop_is_pending(loop, fresh));
    sim_loop_run(loop);
    ck_assert_uint_eq(log.tags->len, 1);
    ck_assert_uint_eq(tag_at(&log, 0), 2);
    log_clear(&log);
}
END_TEST

START_TEST(event_cancels_another_due_at_the_same_time)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe victim = {.log = &log, .tag = 2};
    Probe later = {.log = &log, .tag = 3};
    Probe killer = {.log = &log, .tag = 1};
    sim_loop_schedule_at(loop, 5, probe_fire, &killer);
    killer.cancel_target = sim_loop_schedule_at(loop, 5, probe_fire, &victim);
    sim_loop_schedule_at(loop, 5, probe_fire, &later);
    ck_assert_uint_eq(sim_loop_run(loop), 2);
    ck_assert_uint_eq(log.tags->len, 2);
    ck_assert_uint_eq(tag_at(&log, 0), 1);
    ck_assert_uint_eq(tag_at(&log, 1), 3);
    log_clear(&log);
}
END_TEST

/* Cancels its own id and still asks to run again; the cancel must win. */
static SimTime
self_cancel_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    guint *runs = data;
    (*runs)++;
    ck_assert(sim_loop_is_pending(loop, id));
    ck_assert(sim_loop_cancel(loop, id));
    ck_assert(!sim_loop_is_pending(loop, id));
    ck_assert(!sim_loop_cancel(loop, id));
    return 10;
}

START_TEST(event_cancelling_itself_is_not_rerun)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    guint runs = 0;
    SimEventId id = sim_loop_schedule_at(loop, 1, self_cancel_fire, &runs);
    sim_loop_run(loop);
    ck_assert_uint_eq(runs, 1);
    ck_assert(!sim_loop_is_pending(loop, id));
    SimLoopStats st;
    sim_loop_get_stats(loop, &st);
    ck_assert_uint_eq(st.pending, 0);
}
END_TEST

/* Returns a negative delay that is not SIM_LOOP_NOMORE. */
static SimTime
bad_delay_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    guint *runs = data;
    (*runs)++;
    return -5;
}

/* Counts log messages instead of printing them. */
static void
count_messages(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    guint *n = data;
    if (level & G_LOG_LEVEL_CRITICAL)
        (*n)++;
}

START_TEST(negative_delay_is_reported_and_ends_the_event)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    guint runs = 0, criticals = 0;
    GLogFunc old = g_log_set_default_handler(count_messages, &criticals);
    sim_loop_schedule_at(loop, 1, bad_delay_fire, &runs);
    sim_loop_run(loop);
    g_log_set_default_handler(old, NULL);
    ck_assert_uint_eq(runs, 1);
    ck_assert_uint_eq(criticals, 1);
    SimLoopStats st;
    sim_loop_get_stats(loop, &st);
    ck_assert_uint_eq(st.pending, 0);
}
END_TEST

START_TEST(run_until_includes_events_at_the_boundary)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe p[3] = {{.log = &log, .tag = 10}, {.log = &log, .tag = 20}, {.log = &log, .tag = 30}};
    for (guint i = 0; i < 3; i++)
        sim_loop_schedule_at(loop, p[i].tag, probe_fire, &p[i]);
    ck_assert_uint_eq(sim_loop_run_until(loop, 19), 1);
    ck_assert_int_eq(sim_loop_now(loop), 19);
    ck_assert_uint_eq(sim_loop_run_until(loop, 20), 1);
    ck_assert_int_eq(sim_loop_now(loop), 20);
    ck_assert_uint_eq(log.tags->len, 2);
    ck_assert_uint_eq(tag_at(&log, 1), 20);
    ck_assert_uint_eq(sim_loop_run_until(loop, 25), 0);
    ck_assert_int_eq(sim_loop_now(loop), 25);
    ck_assert_int_eq(sim_loop_next_time(loop), 30);
    /* The clock moved to 25: relative scheduling counts from there. */
    Probe q = {.log = &log, .tag = 31};
    ck_assert_int_eq(sim_loop_event_time(loop, sim_loop_schedule_after(loop, 6, probe_fire, &q)),
                     31);
    ck_assert_uint_eq(sim_loop_run_until(loop, SIM_TIME_NEVER), 2);
    ck_assert_int_eq(sim_loop_now(loop), 31);
    ck_assert_int_eq(sim_loop_next_time(loop), SIM_TIME_NEVER);
    log_clear(&log);
}
END_TEST

START_TEST(run_until_runs_events_scheduled_inside_the_window)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe p = {.log = &log, .tag = 1, .reruns = 100, .period = 10};
    SimEventId id = sim_loop_schedule_at(loop, 0, probe_fire, &p);
    ck_assert_uint_eq(sim_loop_run_until(loop, 45), 5); /* 0, 10, 20, 30, 40 */
    ck_assert_int_eq(sim_loop_event_time(loop, id), 50);
    log_clear(&log);
}
END_TEST

START_TEST(failed_schedule_never_runs_its_callback)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe p = {.log = &log, .tag = 1};
    sim_loop_run_until(loop, 100);
    ck_assert(sim_loop_schedule_at(loop, 99, probe_fire, &p) == SIM_EVENT_ID_NONE);
    ck_assert(sim_loop_schedule_at(loop, SIM_TIME_NEVER, probe_fire, &p) == SIM_EVENT_ID_NONE);
    ck_assert(sim_loop_schedule_after(loop, -1, probe_fire, &p) == SIM_EVENT_ID_NONE);
    ck_assert(sim_loop_schedule_after(loop, SIM_TIME_NEVER - 100, probe_fire, &p) ==
              SIM_EVENT_ID_NONE);
    ck_assert(sim_loop_schedule_at(loop, 100, probe_fire, &p) != SIM_EVENT_ID_NONE);
    sim_loop_run(loop);
    ck_assert_uint_eq(log.tags->len, 1);
    SimLoopStats st;
    sim_loop_get_stats(loop, &st);
    ck_assert_uint_eq(st.scheduled, 1);
    log_clear(&log);
}
END_TEST

START_TEST(stop_returns_early_and_keeps_events)
{
    g_autoptr(SimLoop) loop = sim_loop_new();
    Log log;
    log_init(&log);
    Probe a = {.log = &log, .tag = 1, .stop_loop = TRUE};
    Probe b = {.log = &log, .tag = 2};
    Probe c = {.log = &log, .tag = 3};
    sim_loop_schedule_at(loop, 10, probe_fire, &a);
    sim_loop_schedule_at(loop, 10, probe_fire, &b);
    sim_loop_schedule_at(loop, 20, probe_fire, &c);
    sim_loop_stop(loop); /* outside a run: no effect */
    ck_assert_uint_eq(sim_loop_run_until(loop, 100), 1);
    ck_assert_int_eq(sim_loop_now(loop), 10); /* a stop leaves the clock at the last event */
    ck_assert_int_eq(sim_loop_next_time(loop), 10);
    ck_assert_uint_eq(sim_loop_run(loop), 2);
    ck_assert_uint_eq(log.tags->len, 3);
    ck_assert_uint_eq(tag_at(&log, 1), 2);
    ck_assert_uint_eq(tag_at(&log, 2), 3);
    log_clear(&log);
}
END_TEST

/* ---------------------------------------------------------------- randomised vs a reference */

#define STRESS_EVENTS 6000

typedef struct Stress Stress;

/* The reference model's view of one event. */
typedef struct {
    Stress *st;
    SimTime time;
    guint64 seq;
    SimEventId id;
    guint reruns;
    gboolean live;
} RefEvent;

struct Stress {
    SimLoop *loop;
    RefEvent *ev; /* STRESS_EVENTS, never moved */
    guint n_ev;
    guint64 seq; /* mirrors the loop's scheduling counter */
    SimRng rng;
    guint64 fired;
};

/* The live reference event that must fire next: least (time, seq). O(n). */
static RefEvent *
ref_min(Stress *st)
{
    RefEvent *best = NULL;
    for (guint i = 0; i < st->n_ev; i++) {
        RefEvent *e = &st->ev[i];
        if (e->live &&
            (best == NULL || e->time < best->time || (e->time == best->time && e->seq < best->seq)))
            best = e;
    }
    return best;
}

/* A random live event, or NULL. */
static RefEvent *
ref_pick_live(Stress *st)
{
    if (st->n_ev == 0)
        return NULL;
    guint start = (guint)sim_rng_below(&st->rng, st->n_ev);
    for (guint k = 0; k < st->n_ev; k++) {
        RefEvent *e = &st->ev[(start + k) % st->n_ev];
        if (e->live)
            return e;
    }
    return NULL;
}

static SimTime stress_fire(SimLoop *loop, SimEventId id, gpointer data);

/* Schedules a new event in both the loop and the reference, at now + [0, spread). */
static void
stress_schedule(Stress *st, SimTime spread)
{
    if (st->n_ev == STRESS_EVENTS)
        return;
    RefEvent *e = &st->ev[st->n_ev++];
    /* Few distinct times, so many events share one. */
    SimTime when = sim_loop_now(st->loop) + (SimTime)sim_rng_below(&st->rng, (guint64)spread);
    *e = (RefEvent){.st = st,
                    .time = when,
                    .seq = st->seq++,
                    .live = TRUE,
                    .reruns =
                        sim_rng_below(&st->rng, 4) == 0 ? (guint)sim_rng_below(&st->rng, 4) : 0};
    e->id = sim_loop_schedule_at(st->loop, when, stress_fire, e);
    ck_assert(e->id != SIM_EVENT_ID_NONE);
}

/* Cancels a random live event (possibly the running one) in both models. */
static void
stress_cancel(Stress *st)
{
    RefEvent *e = ref_pick_live(st);
    if (e == NULL)
        return;
    ck_assert(sim_loop_cancel(st->loop, e->id));
    e->live = FALSE;
}

static SimTime
stress_fire(SimLoop *loop, SimEventId id, gpointer data)
{
    RefEvent *e = data;
    Stress *st = e->st;
    ck_assert_ptr_eq(ref_min(st), e);
    ck_assert_uint_eq(e->id, id);
    ck_assert_int_eq(sim_loop_now(loop), e->time);
    st->fired++;
    guint64 r = sim_rng_below(&st->rng, 8);
    if (r < 3)
        stress_schedule(st, 1 + (SimTime)r * 20);
    else if (r == 3)
        stress_cancel(st); /* may be this very event */
    if (!e->live)
        return 7; /* cancelled itself: the loop must ignore this */
    if (e->reruns == 0) {
        e->live = FALSE;
        return SIM_LOOP_NOMORE;
    }
    e->reruns--;
    SimTime delay = (SimTime)sim_rng_below(&st->rng, 30);
    e->time += delay;
    e->seq = st->seq++; /* requeued after everything the callback scheduled */
    return delay;
}

START_TEST(random_schedule_and_cancel_match_reference_model)
{
    Stress st = {.loop = sim_loop_new(), .ev = g_new0(RefEvent, STRESS_EVENTS)};
    sim_rng_init(&st.rng, 42, "test-sim-loop-stress");
    guint64 max_live = 0;
    while (st.n_ev < STRESS_EVENTS - 100) {
        guint batch = (guint)sim_rng_below(&st.rng, 60);
        for (guint i = 0; i < batch; i++)
            stress_schedule(&st, 200);
        for (guint i = 0, n = (guint)sim_rng_below(&st.rng, 12); i < n; i++)
            stress_cancel(&st);
        guint64 live = 0;
        for (guint i = 0; i < st.n_ev; i++) {
            if (st.ev[i].live) {
                live++;
                ck_assert_int_eq(sim_loop_event_time(st.loop, st.ev[i].id), st.ev[i].time);
            }
        }
        SimLoopStats s;
        sim_loop_get_stats(st.loop, &s);
        ck_assert_uint_eq(s.pending, live);
        max_live = MAX(max_live, live);
        RefEvent *next = ref_min(&st);
        ck_assert_int_eq(sim_loop_next_time(st.loop), next ? next->time : SIM_TIME_NEVER);
        sim_loop_run_until(st.loop, sim_loop_now(st.loop) + (SimTime)sim_rng_below(&st.rng, 80));
    }
    sim_loop_run(st.loop);
    ck_assert_ptr_null(ref_min(&st));
    SimLoopStats s;
    sim_loop_get_stats(st.loop, &s);
    ck_assert_uint_eq(s.pending, 0);
    ck_assert_uint_eq(s.events_processed, st.fired);
    ck_assert_uint_eq(s.scheduled, st.n_ev);
    ck_assert_uint_ge(s.peak_pending, max_live);
    ck_assert_uint_gt(st.fired, STRESS_EVENTS / 2);
    sim_loop_free(st.loop);
    g_free(st.ev);
}
END_TEST

static Suite *
sim_loop_suite(void)
{
    Suite *s = suite_create("sim_loop");
    TCase *order = tcase_create("order");
    tcase_add_test(order, equal_times_fire_in_scheduling_order);
    tcase_add_test(order, event_scheduled_now_runs_after_those_already_due);
    tcase_add_test(order, return_value_reschedules_with_same_id);
    tcase_add_test(order, zero_delay_rerun_runs_after_other_events_at_that_time);
    tcase_add_test(order, negative_delay_is_reported_and_ends_the_event);
    suite_add_tcase(s, order);
    TCase *cancel = tcase_create("cancel");
    tcase_add_test(cancel, cancelled_event_never_runs);
    tcase_add_test(cancel, stale_id_does_not_cancel_event_reusing_its_slot);
    tcase_add_test(cancel, event_cancels_another_due_at_the_same_time);
    tcase_add_test(cancel, event_cancelling_itself_is_not_rerun);
    suite_add_tcase(s, cancel);
    TCase *run = tcase_create("run");
    tcase_add_test(run, run_until_includes_events_at_the_boundary);
    tcase_add_test(run, run_until_runs_events_scheduled_inside_the_window);
    tcase_add_test(run, failed_schedule_never_runs_its_callback);
    tcase_add_test(run, stop_returns_early_and_keeps_events);
    suite_add_tcase(s, run);
    TCase *stress = tcase_create("stress");
    tcase_add_test(stress, random_schedule_and_cancel_match_reference_model);
    tcase_set_timeout(stress, 60);
    suite_add_tcase(s, stress);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(sim_loop_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

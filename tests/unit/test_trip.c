/* test_trip.c: a 429 trip's window, counts and estimate, alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "cxone/flow/trip.h"

#define T0 1000000

static void assert_near(double got, double want, double tol)
{
        if (fabs(got - want) > tol)
                fail_msg("got %f, want %f (+-%f)", got, want, tol);
}

static cxw_trip_t *new_trip(void)
{
        cxw_trip_t *t = malloc(sizeof(*t));

        assert_non_null(t);
        cxw_trip_init(t);
        return t;
}

/* The class turns busy at from and sends n requests evenly over ms, each
 * accepted 50 ms after it went out. */
static void busy_run(cxw_trip_t *t, int64_t from, int64_t ms, int n)
{
        cxw_trip_busy(t, from);
        for (int i = 0; i < n; i++) {
                int64_t at = from + ms * i / n;
                cxw_trip_sent(t, at);
                cxw_trip_accepted(t, at, at + 50);
        }
}

/* A request sent at sent_ms at rate gets a 429 pausing the class 1 s; the
 * pause ends and the trip settles. */
static void trip_and_settle(cxw_trip_t *t, int64_t sent_ms, double rate)
{
        assert_int_equal(cxw_trip_begin(t, sent_ms, rate, 1000), 1);
        cxw_trip_resume_at(t, sent_ms + 1005);
        cxw_trip_settle(t, sent_ms + 1005);
}

static void test_the_plain_cut_is_0_7(void **state)
{
        (void)state;
        assert_near(cxw_trip_cut(100), 70, 1e-12);
}

static void test_only_a_request_sent_after_the_last_pause_begins_a_trip(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();

        assert_false(cxw_trip_pending(t));
        assert_int_equal(cxw_trip_begin(t, T0, 100, 1000), 1);
        assert_true(cxw_trip_pending(t));
        cxw_trip_resume_at(t, T0 + 1000);
        /* Pending: another 429 is the same trip. */
        assert_int_equal(cxw_trip_begin(t, T0 + 2000, 100, 1000), 0);
        cxw_trip_settle(t, T0 + 1000);
        assert_false(cxw_trip_pending(t));
        /* Sent before the pause ended: it was in flight. */
        assert_int_equal(cxw_trip_begin(t, T0 + 999, 70, 1000), 0);
        assert_int_equal(cxw_trip_begin(t, T0 + 1000, 70, 1000), 1);
        free(t);
}

static void test_the_window_starts_at_the_first_send_after_the_anchor(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();

        busy_run(t, T0, 100, 40);
        assert_true(cxw_trip_anchor(t) == T0);
        assert_int_equal(cxw_trip_begin(t, T0 + 100, 400, 1000), 1);
        assert_true(t->win.sent_ms == T0 + 100 && t->win.from_ms == T0 &&
                    t->win.anchored);
        assert_true(t->pause_ms == 1000 && t->rate == 400);
        /* A busy start, not a resume. */
        assert_false(t->resume);
        free(t);
}

static void test_the_window_is_at_most_4s(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();

        busy_run(t, T0, 10000, 100);
        assert_int_equal(cxw_trip_begin(t, T0 + 10000, 400, 1000), 1);
        assert_true(t->win.from_ms == T0 + 6000 && !t->win.anchored);
        free(t);
}

static void test_a_window_from_a_resume_is_marked(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();

        busy_run(t, T0, 100, 40);
        trip_and_settle(t, T0 + 100, 400);
        /* Resumed at T0 + 1105: the next send anchors the window. */
        cxw_trip_sent(t, T0 + 1110);
        assert_int_equal(cxw_trip_begin(t, T0 + 1300, 280, 1000), 1);
        assert_true(t->win.from_ms == T0 + 1110 && t->win.anchored && t->resume);
        assert_true(t->after_ms == T0 + 1105);
        free(t);
}

static void test_settle_counts_what_was_accepted_in_the_window(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();

        busy_run(t, T0, 100, 40);
        cxw_trip_accepted(t, T0 + 100, T0 + 150);  /* the ms of the 429 counts */
        cxw_trip_accepted(t, T0 + 101, T0 + 1000); /* after it: not */
        trip_and_settle(t, T0 + 100, 400);
        assert_int_equal(t->mine.accepted, 41);
        assert_true(t->mine.first_ms == T0);
        assert_true(t->settled_ms == T0 + 1105);
        free(t);
}

static void test_the_estimate_is_what_the_server_accepted_above_its_burst(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_result_t r;

        /* 40 accepted in 100 ms with a burst of 20: (20 + 0.5) / 0.1 s. */
        busy_run(t, T0, 100, 40);
        trip_and_settle(t, T0 + 100, 400);
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_near(r.estimate, 205, 1e-9);
        assert_near(r.rate, 205 * 0.99, 1e-9);
        assert_true(r.measures && !r.by_group && r.accepted == 40 && r.window_ms == 100);
        assert_near(r.burst, 20, 1e-12);
        assert_near(r.tripped, 400, 1e-12);
        assert_true(r.pause_ms == 1000 && r.settled_ms == T0 + 1105 && !r.same);
        free(t);
}

static void test_the_estimate_is_bounded_by_the_rate_that_tripped(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_result_t r;

        /* 100 in 100 ms: more than 400/s could send; at most 0.95 x. */
        busy_run(t, T0, 100, 100);
        trip_and_settle(t, T0 + 100, 400);
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_near(r.rate, 380, 1e-9);
        free(t);
        /* 21 in 1 s: at least 0.3 x. */
        t = new_trip();
        busy_run(t, T0, 1000, 21);
        trip_and_settle(t, T0 + 1000, 400);
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_near(r.rate, 120, 1e-9);
        free(t);
}

static void test_a_short_window_or_nothing_above_the_burst_is_the_plain_cut(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_result_t r;

        busy_run(t, T0, 30, 12);
        trip_and_settle(t, T0 + 30, 400);
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_true(r.estimate == 0 && r.measures);
        assert_near(r.rate, 280, 1e-9);
        free(t);
        t = new_trip();
        busy_run(t, T0, 200, 20);
        trip_and_settle(t, T0 + 200, 400);
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_true(r.estimate == 0);
        assert_near(r.rate, 280, 1e-9);
        free(t);
}

static void test_a_share_below_1_measures_only_with_the_group(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_result_t r;

        /* Half the group, from a busy start: its count says nothing alone,
         * trips shared or not. */
        busy_run(t, T0, 100, 20);
        trip_and_settle(t, T0 + 100, 200);
        cxw_trip_estimate(t, 20, 0.5, 0, &r);
        assert_true(!r.measures && r.estimate == 0);
        assert_near(r.rate, 140, 1e-9);
        cxw_trip_estimate(t, 20, 0.5, 1, &r);
        assert_true(!r.measures);
        /* With the other half's count: (40 - 20 + 0.5) / 0.1 s for the
         * group, half of it here. */
        assert_int_equal(cxw_trip_add_count(t, T0 + 100, 20, T0 + 1, T0 + 1200), 1);
        cxw_trip_estimate(t, 20, 0.5, 1, &r);
        assert_true(r.measures && r.by_group && r.accepted == 40);
        assert_near(r.burst, 20, 1e-12);
        assert_near(r.estimate, 205, 1e-9);
        assert_near(r.rate, 205 * 0.5 * 0.99, 1e-9);
        free(t);
}

static void test_with_shared_trips_a_window_from_a_resume_measures(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_result_t r;
        int64_t at = T0 + 1110;

        busy_run(t, T0, 100, 20);
        trip_and_settle(t, T0 + 100, 200);
        /* All resumed together: 30 of its own in 200 ms, half the burst:
         * (30 - 10 + 0.5) / 0.2 s = 102.5/s here, 205/s for the group. */
        for (int i = 0; i < 30; i++) {
                int64_t s = at + 200 * i / 30;
                cxw_trip_sent(t, s);
                cxw_trip_accepted(t, s, s + 50);
        }
        trip_and_settle(t, at + 200, 140);
        cxw_trip_estimate(t, 20, 0.5, 1, &r);
        assert_true(r.measures);
        assert_near(r.estimate, 205, 1e-9);
        assert_near(r.rate, 102.5 * 0.99, 1e-9);
        free(t);
}

static void test_the_same_limit_twice_is_averaged_by_window(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_result_t r;
        int64_t at;

        /* 400/s trips over 4 s with 820 accepted: 200/s. */
        busy_run(t, T0, 4000, 820);
        trip_and_settle(t, T0 + 4000, 400);
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_near(r.estimate, 200.125, 1e-9);
        /* At 390/s (within 10 %): 100 ms with 40 accepted, 205/s: averaged
         * over 4.1 s. */
        at = T0 + 6000;
        busy_run(t, at, 100, 40);
        trip_and_settle(t, at + 100, 390);
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_true(r.same);
        assert_near(r.estimate, (205.0 * 100 + 200.125 * 4000) / 4100, 1e-9);
        assert_near(t->window_ms, 4100, 1e-9);
        /* Estimated again (a count came in): the same average. */
        cxw_trip_estimate(t, 20, 1.0, 0, &r);
        assert_near(r.estimate, (205.0 * 100 + 200.125 * 4000) / 4100, 1e-9);
        free(t);
}

static void test_the_group_measures_the_earliest_trip(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_window_t peer = {T0 + 90, T0 + 5, 1};
        cxw_trip_window_t later = {T0 + 95, T0, 1};
        cxw_trip_window_t old = {T0 + 50, T0, 1};

        busy_run(t, T0, 100, 20);
        /* Its own trip at T0 + 100, then a peer's that came earlier. */
        assert_int_equal(cxw_trip_begin(t, T0 + 100, 200, 1000), 1);
        assert_int_equal(cxw_trip_join(t, &peer, 0), 1);
        /* ... counted from this replica's first send, which is earlier. */
        assert_true(t->win.sent_ms == T0 + 90 && t->win.from_ms == T0 && t->win.anchored);
        assert_int_equal(cxw_trip_join(t, &later, 0), 0);
        cxw_trip_resume_at(t, T0 + 1100);
        cxw_trip_settle(t, T0 + 1100);
        /* Settled: nothing more to join. */
        assert_int_equal(cxw_trip_join(t, &old, 0), 0);
        free(t);
}

static void test_a_peer_trip_begun_here_takes_its_window(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();
        cxw_trip_window_t peer = {T0 + 100, T0 + 20, 0};

        /* This replica idle: the peer's window as it is. */
        assert_int_equal(cxw_trip_begin(t, T0 + 100, 200, 1000), 1);
        assert_int_equal(cxw_trip_join(t, &peer, 1), 1);
        assert_true(t->win.sent_ms == T0 + 100 && t->win.from_ms == T0 + 20 &&
                    !t->win.anchored);
        free(t);
}

static void test_counts_that_do_not_belong_are_not_added(void **state)
{
        (void)state;
        cxw_trip_t *t = new_trip();

        /* Before any trip. */
        assert_int_equal(cxw_trip_add_count(t, T0, 5, -1, T0), 0);
        busy_run(t, T0, 100, 20);
        assert_int_equal(cxw_trip_begin(t, T0 + 100, 200, 1000), 1);
        /* Pending: counted if it names this trip, within 2 ms. */
        assert_int_equal(cxw_trip_add_count(t, T0 + 97, 5, -1, T0 + 200), 0);
        assert_int_equal(cxw_trip_add_count(t, T0 + 102, 5, T0 + 3, T0 + 200), 1);
        assert_int_equal(cxw_trip_add_count(t, T0 + 100, 7, T0 + 1, T0 + 200), 1);
        assert_true(t->peers.n == 2 && t->peers.accepted == 12 &&
                    t->peers.first_ms == T0 + 1);
        cxw_trip_resume_at(t, T0 + 1100);
        cxw_trip_settle(t, T0 + 1100);
        /* Settled: for a second more. */
        assert_int_equal(cxw_trip_add_count(t, T0 + 100, 1, -1, T0 + 2100), 1);
        assert_int_equal(cxw_trip_add_count(t, T0 + 100, 1, -1, T0 + 2101), 0);
        free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_the_plain_cut_is_0_7),
            cmocka_unit_test(test_only_a_request_sent_after_the_last_pause_begins_a_trip),
            cmocka_unit_test(test_the_window_starts_at_the_first_send_after_the_anchor),
            cmocka_unit_test(test_the_window_is_at_most_4s),
            cmocka_unit_test(test_a_window_from_a_resume_is_marked),
            cmocka_unit_test(test_settle_counts_what_was_accepted_in_the_window),
            cmocka_unit_test(
                test_the_estimate_is_what_the_server_accepted_above_its_burst),
            cmocka_unit_test(test_the_estimate_is_bounded_by_the_rate_that_tripped),
            cmocka_unit_test(
                test_a_short_window_or_nothing_above_the_burst_is_the_plain_cut),
            cmocka_unit_test(test_a_share_below_1_measures_only_with_the_group),
            cmocka_unit_test(test_with_shared_trips_a_window_from_a_resume_measures),
            cmocka_unit_test(test_the_same_limit_twice_is_averaged_by_window),
            cmocka_unit_test(test_the_group_measures_the_earliest_trip),
            cmocka_unit_test(test_a_peer_trip_begun_here_takes_its_window),
            cmocka_unit_test(test_counts_that_do_not_belong_are_not_added),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

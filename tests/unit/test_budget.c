/* test_budget.c: token buckets, share and AIMD, driven by a hand-held clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cxone/flow/budget.h"
#include "cxone/base/log.h"

#define T0 1000000
/* A second after creation: a new budget starts with one token and has
 * filled its burst by then. */
#define T1 (T0 + 1000)

static cxw_budget_conf_t conf_total(double rps, int burst)
{
        cxw_budget_conf_t c;

        memset(&c, 0, sizeof(c));
        c.total_rps = rps;
        c.total_burst = burst;
        return c;
}

static cxw_budget_t *new_budget(const cxw_budget_conf_t *c)
{
        cxw_budget_t *b = cxw_budget_new(c, T0);
        assert_non_null(b);
        return b;
}

/* Takes from class c as fast as allowed from *now until end (exclusive),
 * advancing the clock by each wait. @returns the number of tokens taken. */
static long drain(cxw_budget_t *b, cxw_budget_class_t c, int64_t *now, int64_t end)
{
        long taken = 0;

        for (long guard = 0; *now < end && guard < 10000000; guard++) {
                int64_t w = cxw_budget_take(b, c, *now);
                assert_true(w >= 0);
                if (w == 0)
                        taken++;
                else
                        *now += w;
        }
        return taken;
}

/* Runs class c saturated from *now for 2.1 s (its rate is then confirmed,
 * see cxw_budget_take()), then idles 1 s: the bucket is full again. */
static void confirm(cxw_budget_t *b, cxw_budget_class_t c, int64_t *now)
{
        int64_t end = *now + 2100;

        drain(b, c, now, end);
        *now = end + 1000;
}

static void assert_near(double got, double want, double tol)
{
        if (fabs(got - want) > tol)
                fail_msg("got %f, want %f (+-%f)", got, want, tol);
}

static void test_unlimited_config_never_waits(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(0, 0);
        cxw_budget_t *b = new_budget(&c);

        for (int i = 0; i < 100000; i++)
                assert_int_equal(cxw_budget_take(b, (cxw_budget_class_t)(i % 3), T0), 0);
        assert_true(cxw_budget_rate(b, CXW_CLASS_CONTACTS) == 0);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 5000, T0 + 5000);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 5000), 0);
        cxw_budget_destroy(b);
}

static void test_unlimited_class_still_honours_a_429_pause(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(0, 0);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, -1, T0, T0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 100);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 100), 0);
        cxw_budget_destroy(b);
}

static void test_full_bucket_paces_until_confirmed_then_grants_burst(void **state)
{
        (void)state;
        /* burst 10: the bucket holds 9 (DEPTH_FACTOR). */
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T1;

        /* The rate is not confirmed yet: one token, then one per 10 ms. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 10);
        /* Shorter than 2 s busy, then idle: still paced. */
        drain(b, CXW_CLASS_CONTACTS, &now, T1 + 1500);
        now += 1000;
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 10);
        /* 2 s busy without a 429 confirm it: a full bucket bursts. */
        confirm(b, CXW_CLASS_CONTACTS, &now);
        for (int i = 0; i < 9; i++)
                assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 10);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now + 9), 1);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now + 10), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now + 10), 10);
        cxw_budget_destroy(b);
}

static void test_a_trip_unconfirms_the_rate(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T1;

        confirm(b, CXW_CLASS_CONTACTS, &now);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, now, now);
        now += 3000; /* the pause is over and the bucket full */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 0);
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, now) > 0);
        cxw_budget_destroy(b);
}

static void test_ten_seconds_grant_rate_times_time_plus_burst(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T1;
        long n = drain(b, CXW_CLASS_CONTACTS, &now, T1 + 10000);

        /* Unconfirmed: paced from one token. */
        if (n < 100 * 10 + 1 - 1 || n > 100 * 10 + 1 + 1)
                fail_msg("granted %ld in 10 s, want 1001 +-1", n);
        /* Confirmed: the burst after an idle spell. */
        now = T1 + 11000;
        n = drain(b, CXW_CLASS_CONTACTS, &now, T1 + 21000);
        if (n < 100 * 10 + 9 - 1 || n > 100 * 10 + 9 + 1)
                fail_msg("granted %ld in 10 s, want 1009 +-1", n);
        cxw_budget_destroy(b);
}

static void test_odd_rate_neither_leaks_nor_over_grants(void **state)
{
        (void)state;
        /* 1000/7 ms per token does not fall on the ms grid. */
        cxw_budget_conf_t c = conf_total(7, 1);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T0;
        long n = drain(b, CXW_CLASS_POLLS, &now, T0 + 100000);

        if (n < 700 || n > 702)
                fail_msg("granted %ld in 100 s at 7/s, want 701 +-1", n);
        cxw_budget_destroy(b);
}

static void test_half_share_halves_rate(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T1;
        long n;

        cxw_budget_set_share(b, 0.5, T0);
        assert_near(cxw_budget_share(b), 0.5, 1e-12);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 50, 1e-9);
        n = drain(b, CXW_CLASS_CONTACTS, &now, T1 + 10000);
        if (n < 500 + 1 - 1 || n > 500 + 1 + 1)
                fail_msg("granted %ld in 10 s at share 0.5, want 501 +-1", n);
        cxw_budget_destroy(b);
}

static void test_four_replicas_at_quarter_share_stay_within_group_rate(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *r[4];
        long sum = 0;

        for (int i = 0; i < 4; i++) {
                r[i] = new_budget(&c);
                cxw_budget_set_share(r[i], 0.25, T0);
        }
        for (int i = 0; i < 4; i++) {
                int64_t now = T0;
                sum += drain(r[i], CXW_CLASS_CONTACTS, &now, T0 + 10000);
        }
        /* Each bucket holds max(1, 10 * 0.25) = 2.5. */
        if (sum > 100 * 10 + 10 + 4 || sum < 100 * 10 - 4)
                fail_msg("4 replicas granted %ld in 10 s, want <= 1010", sum);
        for (int i = 0; i < 4; i++)
                cxw_budget_destroy(r[i]);
}

static void test_zero_share_takes_nothing(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_set_share(b, 0, T0);
        for (int64_t t = T0; t < T0 + 5000; t += 100)
                assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, t) >= 1);
        /* Back to a share: the rate returns, the bucket starts empty. */
        cxw_budget_set_share(b, 1.0, T0 + 5000);
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 5000) >= 1);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 5010), 0);
        cxw_budget_destroy(b);
}

static void test_small_share_keeps_a_burst_of_one(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_set_share(b, 0.01, T0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 1000);
        cxw_budget_destroy(b);
}

static void test_class_rate_below_total_is_honoured(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b;
        int64_t now = T0;
        long n;

        c.rps[CXW_CLASS_POLLS] = 5;
        c.burst[CXW_CLASS_POLLS] = 1;
        b = new_budget(&c);
        assert_near(cxw_budget_rate(b, CXW_CLASS_POLLS), 5, 1e-9);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 100, 1e-9);
        n = drain(b, CXW_CLASS_POLLS, &now, T0 + 10000);
        if (n < 50 || n > 52)
                fail_msg("polls granted %ld in 10 s at 5/s, want 51 +-1", n);
        cxw_budget_destroy(b);
}

static void test_class_rate_above_total_is_capped_by_total(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b;

        c.rps[CXW_CLASS_CONTACTS] = 500;
        b = new_budget(&c);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 100, 1e-9);
        cxw_budget_destroy(b);
}

static void test_total_caps_the_sum_of_classes(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b;
        long per[CXW_CLASS__CNT] = {0}, sum = 0;
        int64_t now = T0;

        c.rps[CXW_CLASS_CONTACTS] = 80;
        c.rps[CXW_CLASS_SCHEDULES] = 80;
        c.rps[CXW_CLASS_POLLS] = 80;
        b = new_budget(&c);
        /* All three classes compete as fast as allowed for 10 s. */
        for (long guard = 0; now < T0 + 10000 && guard < 1000000; guard++) {
                int64_t wmin = INT64_MAX;
                for (int k = 0; k < CXW_CLASS__CNT; k++) {
                        int64_t w = cxw_budget_take(b, (cxw_budget_class_t)k, now);
                        if (w == 0)
                                per[k]++;
                        else if (w < wmin)
                                wmin = w;
                }
                if (wmin != INT64_MAX && wmin > 0)
                        now += wmin;
        }
        for (int k = 0; k < CXW_CLASS__CNT; k++) {
                sum += per[k];
                assert_true(per[k] <= 80 * 10 + 10 + 1);
        }
        if (sum < 1000 || sum > 100 * 10 + 10 + 1)
                fail_msg("classes granted %ld together in 10 s, want <= 1011", sum);
        cxw_budget_destroy(b);
}

static void test_429_pauses_only_its_class_for_retry_after(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 2000, T0, T0);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T0), T0 + 2000);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 2000);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 1500), 500);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 1999), 1);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_SCHEDULES, T0), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_SCHEDULES, T0 + 10), 0);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T0 + 2000), 0);
        /* The bucket restarts empty at the pause end, so no burst goes out
         * at once: one token per interval of the cut rate (70/s: 15 ms). */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 2000), 15);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 2015), 0);
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 2015) > 0);
        cxw_budget_destroy(b);
}

static void test_429_without_retry_after_pauses_one_interval_at_least_100ms(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, -1, T0, T0);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T0), T0 + 100);
        cxw_budget_destroy(b);

        c = conf_total(2, 1);
        b = new_budget(&c);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, -1, T0, T0);
        /* 2/s cut to 1.4/s: one interval of the rate before the cut, 500 ms. */
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T0), T0 + 500);
        cxw_budget_destroy(b);
}

static void test_429_empties_the_class_bucket(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, T0, T0);
        /* 70/s after the cut: the first token after ~15 ms. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 15);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 15), 0);
        cxw_budget_destroy(b);
}

static void test_429_cuts_rate_once_per_trip_to_a_floor(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T0;

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, now - 50, now);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        /* The requests that were in flight (sent before the pause ended)
         * answer 429 too: no further cut, even after the pause. */
        for (int i = 0; i < 20; i++)
                cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, now - 40 + i,
                                  now + 10 * i);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, now), now + 1190);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, now + 1189, now + 1300);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        /* A request sent after the pause ended is a new trip. */
        now += 2400;
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, now - 10, now);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 49, 1e-9);
        /* Other classes keep their rate. */
        assert_near(cxw_budget_rate(b, CXW_CLASS_SCHEDULES), 100, 1e-9);
        for (int i = 1; i < 40; i++)
                cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, now + 1000 * i - 10,
                                  now + 1000 * i);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 1, 1e-9);
        cxw_budget_destroy(b);
}

/* n accepted answers to requests sent evenly over [from, from + ms), each
 * answered 50 ms after it went out. */
static void accept_run(cxw_budget_t *b, int64_t from, int64_t ms, int n)
{
        for (int i = 0; i < n; i++) {
                int64_t at = from + ms * i / n;
                cxw_budget_on_success(b, CXW_CLASS_CONTACTS, at, at + 50);
        }
}

/* The class starts sending at 'from' (one take from a full bucket) and the
 * server accepts n requests in 'ms'; then a request sent at from + ms gets a
 * 429 5 ms later with Retry-After 1 s. */
static void busy_then_trip(cxw_budget_t *b, int64_t from, int64_t ms, int n)
{
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, from), 0);
        accept_run(b, from, ms, n);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, from + ms, from + ms + 5);
}

static void test_after_the_pause_the_rate_is_what_the_server_accepted(void **state)
{
        (void)state;
        /* Configured 400/s against a server taking 200/s with a burst of
         * 20: in the 100 ms before the first 429 it accepted 20 + 20. */
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);

        busy_then_trip(b, T1, 100, 40);
        /* Paused: the provisional cut. */
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 280, 1e-9);
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1104) > 0);
        /* Resumed: (40 - 20 + half a token: the window starts at the
         * first request of a busy spell) / 100 ms = 205/s, x0.99. */
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1105) >= 0);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 205 * 0.99, 1e-6);
        cxw_budget_destroy(b);
}

static void test_a_slow_first_answer_starts_the_window_later(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);

        /* As in the test above, but the first request's answer took 5 ms
         * longer than the others': the server saw it 5 ms late, and the
         * window is 95 ms: (40 - 20 + 0.5) / 95 ms, x0.99. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1), 0);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T1, T1 + 55);
        for (int i = 1; i < 40; i++) {
                int64_t at = T1 + 100 * i / 40;
                cxw_budget_on_success(b, CXW_CLASS_CONTACTS, at, at + 50);
        }
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, T1 + 100, T1 + 105);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1200);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 20.5 / 0.095 * 0.99, 1e-6);
        cxw_budget_destroy(b);
}

static void test_estimate_window_is_at_most_4s_and_starts_when_busy(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);

        /* Busy for 10 s; only the last 4 s count: (820 - 20) / 4 s. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1), 0);
        accept_run(b, T1, 6000, 3000); /* would say 500/s */
        accept_run(b, T1 + 6000, 4000, 820);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, T1 + 10000, T1 + 10005);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 11100);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 200 * 0.99, 1e-6);
        cxw_budget_destroy(b);
}

static void test_estimate_is_bounded_by_the_rate_that_tripped(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);

        /* More accepted than we could have sent: still a cut, to 0.95x. */
        busy_then_trip(b, T1, 100, 100);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1200);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 380, 1e-6);
        cxw_budget_destroy(b);

        /* A window under 50 ms: nothing measured, the plain x0.7 cut. */
        b = new_budget(&c);
        busy_then_trip(b, T1, 30, 12);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1200);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 280, 1e-6);
        cxw_budget_destroy(b);

        /* No more accepted than the burst: the plain cut too. */
        b = new_budget(&c);
        busy_then_trip(b, T1, 200, 20);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1300);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 280, 1e-6);
        cxw_budget_destroy(b);

        /* Very little above the burst: the cut goes no lower than x0.3. */
        b = new_budget(&c);
        busy_then_trip(b, T1, 1000, 21);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 2100);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 120, 1e-6);
        cxw_budget_destroy(b);
}

static void test_success_holds_then_regrows_additively_to_ceiling_not_past(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(50, 5);
        cxw_budget_t *b = new_budget(&c);
        double r, prev, held;

        /* 50/s tripped; 25 accepted in 500 ms with a burst of 5: (20 +
         * 0.5) / 0.5 s = 41/s, x0.99. */
        busy_then_trip(b, T1, 500, 25);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 35, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T1 + 1505, T1 + 1505);
        held = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
        assert_near(held, 41 * 0.99, 1e-6);
        /* Held for 20 pauses of 1 s after the pause. */
        for (int64_t t = T1 + 1600; t < T1 + 21505; t += 100)
                cxw_budget_on_success(b, CXW_CLASS_CONTACTS, t - 10, t);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), held, 1e-9);
        /* Then +0.5% of the held rate per second. */
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T1 + 23505, T1 + 23505);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), held * (1 + 0.005 * 2), 1e-6);
        /* The step doubles every 10 s and the rate climbs to the ceiling,
         * never past it, never by more than 5% of it per second. */
        prev = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
        for (int64_t t = T1 + 24505; t <= T1 + 200000; t += 1000) {
                cxw_budget_on_success(b, CXW_CLASS_CONTACTS, t, t);
                r = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
                assert_true(r >= prev);
                assert_true(r - prev <= 50 * 0.05 + 1e-9);
                assert_true(r <= 50 + 1e-9);
                prev = r;
        }
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 50, 1e-9);
        cxw_budget_destroy(b);
}

static void test_a_replica_sharing_the_budget_does_not_estimate(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(800, 40);
        cxw_budget_t *b = new_budget(&c);

        /* Half of 800/s; what it got through is confounded by the others. */
        cxw_budget_set_share(b, 0.5, T0);
        busy_then_trip(b, T1, 100, 40);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1200);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 280, 1e-6);
        cxw_budget_destroy(b);
}

/* What the budget's count callback reported last. */
typedef struct counted_s {
        int n;
        cxw_budget_class_t c;
        int64_t trip;
        long accepted;
        int64_t first;
} counted_t;

static void on_count(void *opaque, cxw_budget_class_t c, int64_t trip, long accepted,
                     int64_t first)
{
        counted_t *k = opaque;

        k->n++;
        k->c = c;
        k->trip = trip;
        k->accepted = accepted;
        k->first = first;
}

/* accept_run() for any budget: n accepted over [from, from + ms). */
static void accept_on(cxw_budget_t *b, int64_t from, int64_t ms, int n)
{
        for (int i = 0; i < n; i++) {
                int64_t at = from + ms * i / n;
                cxw_budget_on_success(b, CXW_CLASS_CONTACTS, at, at + 50);
        }
}

static void test_shared_trip_two_replicas_measure_one_window(void **state)
{
        (void)state;
        /* Two replicas at half of 400/s against a server taking 200/s
         * with a burst of 20: in the 100 ms before the first 429 the server
         * took 20 + 20, 20 from each. */
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *a = new_budget(&c), *b = new_budget(&c);
        counted_t ka = {0}, kb = {0};
        int64_t sent, from, until;
        int anchored;

        cxw_budget_set_share(a, 0.5, T0);
        cxw_budget_set_share(b, 0.5, T0);
        cxw_budget_set_shared_trips(a, 1, on_count, &ka);
        cxw_budget_set_shared_trips(b, 1, on_count, &kb);
        assert_int_equal(cxw_budget_take(a, CXW_CLASS_CONTACTS, T1), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1), 0);
        accept_on(a, T1, 100, 20);
        accept_on(b, T1 + 1, 99, 20);
        /* a trips; b hears of it 20 ms later and pauses until the same end. */
        assert_int_equal(cxw_budget_trip(a, CXW_CLASS_CONTACTS, &sent, &from, &anchored),
                         0);
        assert_int_equal(
            cxw_budget_on_429(a, CXW_CLASS_CONTACTS, 1000, T1 + 100, T1 + 105), 1);
        assert_int_equal(cxw_budget_trip(a, CXW_CLASS_CONTACTS, &sent, &from, &anchored),
                         1);
        assert_true(sent == T1 + 100 && from == T1 && anchored == 1);
        until = cxw_budget_paused_until(a, CXW_CLASS_CONTACTS, T1 + 105);
        assert_true(until == T1 + 1105);
        assert_int_equal(cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, sent, from,
                                                 anchored, until, T1 + 125),
                         1);
        assert_true(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T1 + 125) == until);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 140, 1e-9);
        /* A count can come in before this replica's own pause ends. */
        assert_true(cxw_budget_take(a, CXW_CLASS_CONTACTS, until) >= 0);
        assert_int_equal(ka.n, 1);
        assert_true(ka.c == CXW_CLASS_CONTACTS && ka.trip == sent && ka.accepted == 20 &&
                    ka.first == T1);
        /* Alone, a replica at half the group does not measure: the cut. */
        assert_near(cxw_budget_rate(a, CXW_CLASS_CONTACTS), 140, 1e-9);
        assert_int_equal(cxw_budget_on_peer_count(b, CXW_CLASS_CONTACTS, ka.trip,
                                                  ka.accepted, ka.first, until),
                         1);
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, until + 1) >= 0);
        assert_int_equal(kb.n, 1);
        assert_true(kb.trip == sent && kb.accepted == 20 && kb.first == T1 + 1);
        assert_int_equal(cxw_budget_on_peer_count(a, CXW_CLASS_CONTACTS, kb.trip,
                                                  kb.accepted, kb.first, until + 20),
                         1);
        /* Both: (40 - 20 + 0.5) / 100 ms = 205/s for the group, half each,
         * x0.99. */
        assert_near(cxw_budget_rate(a, CXW_CLASS_CONTACTS), 205 * 0.5 * 0.99, 1e-6);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 205 * 0.5 * 0.99, 1e-6);
        /* The same count again after the grace second is not taken. */
        assert_int_equal(cxw_budget_on_peer_count(a, CXW_CLASS_CONTACTS, kb.trip,
                                                  kb.accepted, kb.first, until + 1200),
                         0);
        cxw_budget_destroy(a);
        cxw_budget_destroy(b);
}

static void test_peer_trips_and_counts_that_do_not_belong_are_ignored(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);
        int64_t sent, from;
        int anchored;

        cxw_budget_set_share(b, 0.5, T0);
        cxw_budget_set_shared_trips(b, 1, NULL, NULL);
        /* A trip whose pause is already over. */
        assert_int_equal(
            cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, T1 - 100, T1 - 200, 1, T1, T1),
            0);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T1), 0);
        assert_int_equal(
            cxw_budget_on_peer_trip(b, CXW_CLASS__CNT, T1, T1, 1, T1 + 9, T1), 0);
        /* A count without a trip, and one for another trip. */
        assert_int_equal(cxw_budget_on_peer_count(b, CXW_CLASS_CONTACTS, T1, 5, -1, T1),
                         0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1), 0);
        accept_on(b, T1, 100, 20);
        assert_int_equal(
            cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, T1 + 100, T1 + 105), 1);
        assert_int_equal(
            cxw_budget_on_peer_count(b, CXW_CLASS_CONTACTS, T1 + 90, 5, -1, T1 + 110), 0);
        assert_int_equal(
            cxw_budget_on_peer_count(b, CXW_CLASS_CONTACTS, T1 + 101, -1, -1, T1 + 110),
            0);
        /* A peer's trip of before this replica's last pause only extends it. */
        assert_int_equal(cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, T1 + 50, T1, 1,
                                                 T1 + 1500, T1 + 120),
                         0);
        assert_int_equal(cxw_budget_trip(b, CXW_CLASS_CONTACTS, &sent, &from, &anchored),
                         1);
        assert_true(sent == T1 + 50); /* ... the earlier trip of the group is measured */
        assert_true(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T1 + 120) ==
                    T1 + 1500);
        /* After that pause, a peer trip of a request sent before it ended is old news. */
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1 + 1500) >= 0);
        assert_int_equal(cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, T1 + 1400,
                                                 T1 + 1300, 1, T1 + 2600, T1 + 1510),
                         0);
        assert_int_equal(cxw_budget_trip(b, CXW_CLASS_CONTACTS, &sent, &from, &anchored),
                         0);
        cxw_budget_destroy(b);
}

/* Without a group key: an hour-long peer trip pauses at most the longest
 * Retry-After seen here, or max_pause_ms before any. */
static void test_unsigned_peer_trip_pauses_at_most_the_bound(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);
        const int64_t hour = 3600 * 1000;
        int64_t now = T1;

        cxw_budget_set_shared_trips(b, 1, NULL, NULL);
        cxw_budget_set_peer_bounds(b, 1, 30000);
        assert_int_equal(cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, now - 10,
                                                 now - 500, 1, now + hour, now),
                         1);
        assert_true(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, now) == now + 30000);
        /* ... re-sent within its window: no longer pause. */
        now += 29000;
        cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, now - 10, now - 500, 1, now + hour,
                                now);
        assert_true(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, now) == T1 + 30000);

        /* Once a Retry-After of 2 s was seen here, that is the bound. */
        now = T1 + 200000;
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, now) >= 0);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 2000, now, now + 5);
        now += 5000;
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, now) >= 0);
        cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, now - 10, now - 500, 1, now + hour,
                                now);
        assert_true(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, now) == now + 2000);

        /* With a key (bounds off) a peer's trip is believed up to the hour. */
        cxw_budget_set_peer_bounds(b, 0, 30000);
        now += 100000;
        assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, now) >= 0);
        cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, now - 10, now - 500, 1, now + hour,
                                now);
        assert_true(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, now) == now + hour);
        cxw_budget_destroy(b);
}

/* Without a group key: ten peer trips in one window, each after the last
 * pause ended, cut the rate once. */
static void test_unsigned_peer_trips_cut_once_per_window(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);
        double before = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
        int64_t now = T1;
        int began = 0;

        cxw_budget_set_shared_trips(b, 1, NULL, NULL);
        cxw_budget_set_peer_bounds(b, 1, 30000);
        for (int i = 0; i < 10; i++) {
                began += cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, now - 1, now - 2,
                                                 1, now + 100, now);
                now += 200; /* the pause is over: the next trip is a new one */
                assert_true(cxw_budget_take(b, CXW_CLASS_CONTACTS, now) >= 0);
        }
        assert_int_equal(began, 1);
        assert_true(cxw_budget_rate(b, CXW_CLASS_CONTACTS) >= 0.7 * before - 1e-6);
        /* The next window (2 x the 30 s bound) may cut again. */
        now = T1 + 60000;
        assert_int_equal(cxw_budget_on_peer_trip(b, CXW_CLASS_CONTACTS, now - 1, now - 2,
                                                 1, now + 100, now),
                         1);
        cxw_budget_destroy(b);
}

static void test_with_shared_trips_a_half_share_measures_after_a_resume(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);
        int64_t now;

        cxw_budget_set_share(b, 0.5, T0);
        cxw_budget_set_shared_trips(b, 1, NULL, NULL);
        busy_then_trip(b, T1, 100, 20); /* from a busy start: not measured */
        now = T1 + 1105;
        /* It resumes empty at the cut rate: the first token after 1/140 s. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 8);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 140, 1e-9);
        now += 8;
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 0);
        /* All resumed together: 30 of its accepted in 200 ms, with its half
         * of the burst: (30 - 10 + 0.5) / 0.2 s = 102.5/s, 205/s for the
         * group; its half x0.99. */
        accept_on(b, now, 200, 30);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, now + 200, now + 205);
        cxw_budget_take(b, CXW_CLASS_CONTACTS, now + 1300);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 102.5 * 0.99, 1e-6);
        cxw_budget_destroy(b);
}

static void test_the_hold_is_twenty_pauses_long(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);
        int64_t end = T1 + 100 + 5000;
        double r;

        /* Retry-After 5 s: held 100 s, not 10. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T1), 0);
        accept_run(b, T1, 100, 40);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 5000, T1 + 100, T1 + 100);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, end, end);
        r = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
        assert_near(r, 205 * 0.99, 1e-6);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, end + 99000, end + 99000);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), r, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, end + 102000, end + 102000);
        assert_true(cxw_budget_rate(b, CXW_CLASS_CONTACTS) > r);
        cxw_budget_destroy(b);
}

static void test_a_blind_cut_regrows_without_a_hold(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        /* Nothing measured: x0.7, then +5% of 100/s per second. */
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, T0 - 10, T0);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0, T0);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 500, T0 + 500);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 1000, T0 + 1000);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 75, 1e-9);
        cxw_budget_destroy(b);
}

static void test_repeated_trips_at_one_rate_double_the_hold(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(400, 20);
        cxw_budget_t *b = new_budget(&c);
        int64_t now;
        double r;

        /* 400/s tripped: (40 - 20 + 0.5) / 100 ms x0.99, held 20 s. */
        busy_then_trip(b, T1, 100, 40);
        now = T1 + 1200;
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, now, now);
        r = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
        assert_near(r, 205 * 0.99, 1e-6);
        /* It trips at that rate (a new level: not the 400 of before), the
         * server having taken 190/s over 4 s: held 20 s. */
        accept_run(b, now, 4000, 780);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, now + 4000, now + 4005);
        now += 5100;
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, now, now);
        r = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
        /* (780 + the answer that ended the pause - 20) / 4 s, x0.99 */
        assert_near(r, 761.0 / 4 * 0.99, 1e-6);
        /* And again at about that rate, the server having taken 200/s over
         * 4 s: the estimates are averaged by window to 195/s (at most 0.95
         * of the rate that tripped), and the hold doubles to 40 s. */
        accept_run(b, now, 4000, 820);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 1000, now + 4000, now + 4005);
        now += 5100;
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, now, now);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), r * 0.95, 1e-6);
        r = cxw_budget_rate(b, CXW_CLASS_CONTACTS);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, now + 25000, now + 25000);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), r, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, now + 39999, now + 39999);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), r, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, now + 42000, now + 42000);
        assert_true(cxw_budget_rate(b, CXW_CLASS_CONTACTS) > r);
        cxw_budget_destroy(b);
}

static void test_starts_with_one_token_not_a_burst(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 10);
        cxw_budget_destroy(b);
}

static void test_time_before_a_cut_is_not_credited_after_it(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 100000, T0 + 100000);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, T0 + 200000, T0 + 200000);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 200001, T0 + 200001);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        cxw_budget_destroy(b);
}

static void test_set_share_caps_tokens_at_new_depth(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T1;

        confirm(b, CXW_CLASS_CONTACTS, &now); /* full: 9 tokens */
        cxw_budget_set_share(b, 0.5, now);
        for (int i = 0; i < 4; i++)
                assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 0);
        /* Depth 4.5 at 50/s: the next half token 10 ms later. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 10);
        cxw_budget_destroy(b);
}

static void test_set_share_caps_class_tokens_without_a_total(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(0, 0);
        cxw_budget_t *b;
        int64_t now = T1;

        c.rps[CXW_CLASS_CONTACTS] = 100;
        c.burst[CXW_CLASS_CONTACTS] = 10;
        b = new_budget(&c);
        confirm(b, CXW_CLASS_CONTACTS, &now);
        cxw_budget_set_share(b, 0.5, now);
        for (int i = 0; i < 4; i++)
                assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, now), 10);
        /* The other classes stay unlimited. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_POLLS, T0), 0);
        cxw_budget_destroy(b);
}

static void test_polling_every_ms_neither_leaks_nor_over_grants(void **state)
{
        (void)state;
        /* A loop waking every ms adds 0.1 token a time: rounding must not
         * make ten of them fall short of one token. */
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        long n = 0;

        for (int64_t t = T1; t < T1 + 10000; t++) {
                while (cxw_budget_take(b, CXW_CLASS_CONTACTS, t) == 0 && n < 100000) {
                        n++;
                        /* Paced from one token: one every 10 ms, on time. */
                        if (n > 1 && n <= 11)
                                assert_int_equal(t, T1 + 10 * (n - 1));
                }
        }
        if (n < 100 * 10 + 1 - 1 || n > 100 * 10 + 1 + 1)
                fail_msg("granted %ld in 10 s polling every ms, want 1001 +-1", n);
        cxw_budget_destroy(b);
}

static void test_paused_until_and_names(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_POLLS, T0), 0);
        cxw_budget_on_429(b, CXW_CLASS_POLLS, 3000, T0, T0);
        /* A shorter Retry-After later does not shorten the pause. */
        cxw_budget_on_429(b, CXW_CLASS_POLLS, 100, T0 + 10, T0 + 10);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_POLLS, T0 + 10), T0 + 3000);
        assert_string_equal(cxw_budget_class_str(CXW_CLASS_CONTACTS), "contacts");
        assert_string_equal(cxw_budget_class_str(CXW_CLASS_SCHEDULES), "schedules");
        assert_string_equal(cxw_budget_class_str(CXW_CLASS_POLLS), "polls");
        assert_string_equal(cxw_budget_class_str(CXW_CLASS__CNT), "unknown");
        cxw_budget_destroy(b);
}

static void test_bad_input_never_crashes(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(-5, -1);
        cxw_budget_t *b;

        c.rps[CXW_CLASS_POLLS] = NAN;
        b = new_budget(&c);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_POLLS, T0), 0);
        assert_true(cxw_budget_take(b, CXW_CLASS__CNT, T0) >= 1);
        cxw_budget_set_share(b, NAN, T0);
        assert_near(cxw_budget_share(b), 0, 0);
        cxw_budget_set_share(b, 7, T0);
        assert_near(cxw_budget_share(b), 1, 0);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, INT64_MAX, T0, T0);
        assert_true(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T0) > T0);
        cxw_budget_destroy(b);
        cxw_budget_destroy(NULL);
        assert_null(cxw_budget_new(NULL, T0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_unlimited_config_never_waits),
            cmocka_unit_test(test_unlimited_class_still_honours_a_429_pause),
            cmocka_unit_test(test_full_bucket_paces_until_confirmed_then_grants_burst),
            cmocka_unit_test(test_a_trip_unconfirms_the_rate),
            cmocka_unit_test(test_ten_seconds_grant_rate_times_time_plus_burst),
            cmocka_unit_test(test_odd_rate_neither_leaks_nor_over_grants),
            cmocka_unit_test(test_half_share_halves_rate),
            cmocka_unit_test(test_four_replicas_at_quarter_share_stay_within_group_rate),
            cmocka_unit_test(test_zero_share_takes_nothing),
            cmocka_unit_test(test_small_share_keeps_a_burst_of_one),
            cmocka_unit_test(test_class_rate_below_total_is_honoured),
            cmocka_unit_test(test_class_rate_above_total_is_capped_by_total),
            cmocka_unit_test(test_total_caps_the_sum_of_classes),
            cmocka_unit_test(test_429_pauses_only_its_class_for_retry_after),
            cmocka_unit_test(
                test_429_without_retry_after_pauses_one_interval_at_least_100ms),
            cmocka_unit_test(test_429_empties_the_class_bucket),
            cmocka_unit_test(test_429_cuts_rate_once_per_trip_to_a_floor),
            cmocka_unit_test(test_after_the_pause_the_rate_is_what_the_server_accepted),
            cmocka_unit_test(test_a_slow_first_answer_starts_the_window_later),
            cmocka_unit_test(test_estimate_window_is_at_most_4s_and_starts_when_busy),
            cmocka_unit_test(test_estimate_is_bounded_by_the_rate_that_tripped),
            cmocka_unit_test(
                test_success_holds_then_regrows_additively_to_ceiling_not_past),
            cmocka_unit_test(test_a_replica_sharing_the_budget_does_not_estimate),
            cmocka_unit_test(test_shared_trip_two_replicas_measure_one_window),
            cmocka_unit_test(test_peer_trips_and_counts_that_do_not_belong_are_ignored),
            cmocka_unit_test(test_with_shared_trips_a_half_share_measures_after_a_resume),
            cmocka_unit_test(test_unsigned_peer_trip_pauses_at_most_the_bound),
            cmocka_unit_test(test_unsigned_peer_trips_cut_once_per_window),
            cmocka_unit_test(test_the_hold_is_twenty_pauses_long),
            cmocka_unit_test(test_a_blind_cut_regrows_without_a_hold),
            cmocka_unit_test(test_repeated_trips_at_one_rate_double_the_hold),
            cmocka_unit_test(test_starts_with_one_token_not_a_burst),
            cmocka_unit_test(test_time_before_a_cut_is_not_credited_after_it),
            cmocka_unit_test(test_set_share_caps_tokens_at_new_depth),
            cmocka_unit_test(test_set_share_caps_class_tokens_without_a_total),
            cmocka_unit_test(test_polling_every_ms_neither_leaks_nor_over_grants),
            cmocka_unit_test(test_paused_until_and_names),
            cmocka_unit_test(test_bad_input_never_crashes),
        };

        cxw_log_threshold = CXW_LOG_ERROR;
        return cmocka_run_group_tests(tests, NULL, NULL);
}

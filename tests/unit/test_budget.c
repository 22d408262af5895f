/* test_budget.c: token buckets, share and AIMD, driven by a hand-held clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cxone/budget.h"
#include "cxone/log.h"

#define T0 1000000

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
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 5000);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 5000), 0);
        cxw_budget_destroy(b);
}

static void test_unlimited_class_still_honours_a_429_pause(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(0, 0);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, -1, T0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 100);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 100), 0);
        cxw_budget_destroy(b);
}

static void test_full_bucket_grants_burst_then_waits_one_interval(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        for (int i = 0; i < 10; i++)
                assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 10);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 9), 1);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 10), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 10), 10);
        cxw_budget_destroy(b);
}

static void test_ten_seconds_grant_rate_times_time_plus_burst(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T0;
        long n = drain(b, CXW_CLASS_CONTACTS, &now, T0 + 10000);

        if (n < 100 * 10 + 10 - 1 || n > 100 * 10 + 10 + 1)
                fail_msg("granted %ld in 10 s, want 1010 +-1", n);
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
        int64_t now = T0;
        long n;

        cxw_budget_set_share(b, 0.5, T0);
        assert_near(cxw_budget_share(b), 0.5, 1e-12);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 50, 1e-9);
        n = drain(b, CXW_CLASS_CONTACTS, &now, T0 + 10000);
        if (n < 500 + 5 - 1 || n > 500 + 5 + 1)
                fail_msg("granted %ld in 10 s at share 0.5, want 505 +-1", n);
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

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 2000, T0);
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

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, -1, T0);
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T0), T0 + 100);
        cxw_budget_destroy(b);

        c = conf_total(2, 1);
        b = new_budget(&c);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, -1, T0);
        /* 2/s cut to 1.4/s: one interval of the rate before the cut, 500 ms. */
        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_CONTACTS, T0), T0 + 500);
        cxw_budget_destroy(b);
}

static void test_429_empties_the_class_bucket(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, T0);
        /* 70/s after the cut: the first token after ~15 ms. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 15);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0 + 15), 0);
        cxw_budget_destroy(b);
}

static void test_429_cuts_rate_once_per_second_to_a_floor(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);
        int64_t now = T0;

        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, now);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        /* The requests in flight answer 429 too: no further cut. */
        for (int i = 0; i < 20; i++)
                cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, now + 10 * i);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, now + 999);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, now + 1000);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 49, 1e-9);
        /* Other classes keep their rate. */
        assert_near(cxw_budget_rate(b, CXW_CLASS_SCHEDULES), 100, 1e-9);
        for (int i = 2; i < 40; i++)
                cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, now + 1000 * i);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 1, 1e-9);
        cxw_budget_destroy(b);
}

static void test_success_regrows_additively_to_ceiling_not_past(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_set_share(b, 0.5, T0);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, T0);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 35, 1e-9);
        /* Less than a second of success: no step yet. */
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 500);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 35, 1e-9);
        /* +5% of configured (x share) per second: +2.5/s. */
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 1000);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 37.5, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 2000);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 40, 1e-9);
        for (int64_t t = T0 + 2100; t <= T0 + 30000; t += 100)
                cxw_budget_on_success(b, CXW_CLASS_CONTACTS, t);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 50, 1e-9);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 60000);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 50, 1e-9);
        cxw_budget_destroy(b);
}

static void test_time_before_a_cut_is_not_credited_after_it(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 100000);
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, 0, T0 + 200000);
        cxw_budget_on_success(b, CXW_CLASS_CONTACTS, T0 + 200001);
        assert_near(cxw_budget_rate(b, CXW_CLASS_CONTACTS), 70, 1e-9);
        cxw_budget_destroy(b);
}

static void test_set_share_caps_tokens_at_new_depth(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        cxw_budget_set_share(b, 0.5, T0);
        for (int i = 0; i < 5; i++)
                assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 0);
        /* 50/s: the next token 20 ms later. */
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 20);
        cxw_budget_destroy(b);
}

static void test_set_share_caps_class_tokens_without_a_total(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(0, 0);
        cxw_budget_t *b;

        c.rps[CXW_CLASS_CONTACTS] = 100;
        c.burst[CXW_CLASS_CONTACTS] = 10;
        b = new_budget(&c);
        cxw_budget_set_share(b, 0.5, T0);
        for (int i = 0; i < 5; i++)
                assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 0);
        assert_int_equal(cxw_budget_take(b, CXW_CLASS_CONTACTS, T0), 20);
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

        for (int64_t t = T0; t < T0 + 10000; t++) {
                while (cxw_budget_take(b, CXW_CLASS_CONTACTS, t) == 0 && n < 100000) {
                        n++;
                        /* After the burst, one token every 10 ms, on time. */
                        if (n > 10 && n <= 20)
                                assert_int_equal(t, T0 + 10 * (n - 10));
                }
        }
        if (n < 100 * 10 + 10 - 1 || n > 100 * 10 + 10 + 1)
                fail_msg("granted %ld in 10 s polling every ms, want 1010 +-1", n);
        cxw_budget_destroy(b);
}

static void test_paused_until_and_names(void **state)
{
        (void)state;
        cxw_budget_conf_t c = conf_total(100, 10);
        cxw_budget_t *b = new_budget(&c);

        assert_int_equal(cxw_budget_paused_until(b, CXW_CLASS_POLLS, T0), 0);
        cxw_budget_on_429(b, CXW_CLASS_POLLS, 3000, T0);
        /* A shorter Retry-After later does not shorten the pause. */
        cxw_budget_on_429(b, CXW_CLASS_POLLS, 100, T0 + 10);
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
        cxw_budget_on_429(b, CXW_CLASS_CONTACTS, INT64_MAX, T0);
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
            cmocka_unit_test(test_full_bucket_grants_burst_then_waits_one_interval),
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
            cmocka_unit_test(test_429_cuts_rate_once_per_second_to_a_floor),
            cmocka_unit_test(test_success_regrows_additively_to_ceiling_not_past),
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

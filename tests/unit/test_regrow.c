/* test_regrow.c: the hold after a trip and the additive regrowth, alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "cxone/flow/regrow.h"

#define T0 1000000

static void assert_near(double got, double want, double tol)
{
        if (fabs(got - want) > tol)
                fail_msg("got %f, want %f (+-%f)", got, want, tol);
}

/* The first ms at or after from at which a step is due (checked every
 * 100 ms up to limit), or -1. */
static int64_t first_step(cxw_regrow_t *g, int64_t from, int64_t limit, double *add)
{
        for (int64_t t = from; t <= limit; t += 100)
                if (cxw_regrow_due(g, 0, 100, t, add))
                        return t;
        return -1;
}

static void test_before_any_trip_it_grows_by_the_largest_step(void **state)
{
        (void)state;
        cxw_regrow_t g;
        double add = 0;

        cxw_regrow_init(&g, T0);
        /* A step at most once a second: 5 % of the ceiling per second. */
        assert_false(cxw_regrow_due(&g, 0, 100, T0 + 999, &add));
        assert_true(cxw_regrow_due(&g, 0, 100, T0 + 1000, &add));
        assert_near(add, 5, 1e-9);
        assert_false(cxw_regrow_due(&g, 0, 100, T0 + 1500, &add));
        /* Two seconds since the last step: twice the step. */
        assert_true(cxw_regrow_due(&g, 0, 100, T0 + 3000, &add));
        assert_near(add, 10, 1e-9);
}

static void test_at_the_ceiling_time_is_not_credited(void **state)
{
        (void)state;
        cxw_regrow_t g;
        double add = 0;

        cxw_regrow_init(&g, T0);
        assert_false(cxw_regrow_due(&g, 1, 100, T0 + 60000, &add));
        /* Below the ceiling again: a second later, one second's step. */
        assert_false(cxw_regrow_due(&g, 0, 100, T0 + 60500, &add));
        assert_true(cxw_regrow_due(&g, 0, 100, T0 + 61000, &add));
        assert_near(add, 5, 1e-9);
}

static void test_a_trip_stops_the_steps_until_it_is_measured(void **state)
{
        (void)state;
        cxw_regrow_t g;
        double add = 0;

        cxw_regrow_init(&g, T0);
        cxw_regrow_stop(&g);
        assert_int_equal(first_step(&g, T0, T0 + 600000, &add), -1);
        assert_false(cxw_regrow_due(&g, 1, 100, T0 + 600000, &add));
}

static void test_a_measured_trip_holds_twenty_pauses_then_steps_slowly(void **state)
{
        (void)state;
        cxw_regrow_t g;
        double add = 0;

        cxw_regrow_init(&g, T0);
        cxw_regrow_stop(&g);
        /* Pause 1 s: held 20 s from the pause end, then 0.5 % of the
         * resumed 40/s per second. */
        cxw_regrow_hold(&g, 1, 0, 1000, 40, T0 + 1000);
        assert_true(g.hold_ms == 20000);
        assert_false(cxw_regrow_due(&g, 0, 100, T0 + 21999, &add));
        assert_false(cxw_regrow_due(&g, 0, 100, T0 + 21000, &add));
        assert_true(cxw_regrow_due(&g, 0, 100, T0 + 22000, &add));
        assert_near(add, 40 * 0.005, 1e-12);
        /* The step doubles every 10 s since the hold ended. */
        assert_true(cxw_regrow_due(&g, 0, 100, T0 + 31000, &add));
        assert_near(add, 40 * 0.005 * 2 * 9, 1e-9);
        /* ... and is never above 5 % of the ceiling per second. */
        assert_true(cxw_regrow_due(&g, 0, 100, T0 + 121000, &add));
        assert_near(add, 5.0 * 90, 1e-9);
}

static void test_the_hold_is_at_least_10s(void **state)
{
        (void)state;
        cxw_regrow_t g;

        cxw_regrow_init(&g, T0);
        cxw_regrow_stop(&g);
        cxw_regrow_hold(&g, 1, 0, 100, 40, T0);
        assert_true(g.hold_ms == 10000 && g.grow_from == T0 + 10000);
        /* A Retry-After of 5 s: 100 s. */
        cxw_regrow_stop(&g);
        cxw_regrow_hold(&g, 1, 0, 5000, 40, T0);
        assert_true(g.hold_ms == 100000);
}

static void test_trips_at_the_same_rate_double_the_hold_up_to_a_ceiling(void **state)
{
        (void)state;
        cxw_regrow_t g;
        int64_t want[] = {20000, 40000, 60000, 60000};

        cxw_regrow_init(&g, T0);
        /* Pause 1 s: 20 s, then doubling up to 3 x 20 s = 60 s. */
        for (int i = 0; i < 4; i++) {
                cxw_regrow_stop(&g);
                cxw_regrow_hold(&g, 1, i > 0, 1000, 40, T0);
                if (g.hold_ms != want[i])
                        fail_msg("trip %d held %lld ms, want %lld", i,
                                 (long long)g.hold_ms, (long long)want[i]);
        }
        /* Measured again with more counts: the same hold, not doubled
         * again. */
        cxw_regrow_hold(&g, 1, 1, 1000, 40, T0);
        assert_true(g.hold_ms == 60000);
        /* At another rate: back to 20 pauses. */
        cxw_regrow_stop(&g);
        cxw_regrow_hold(&g, 1, 0, 1000, 40, T0);
        assert_true(g.hold_ms == 20000);
}

static void test_the_hold_ceiling_is_at_least_60s(void **state)
{
        (void)state;
        cxw_regrow_t g;

        cxw_regrow_init(&g, T0);
        /* Pauses of 100 ms: held 10 s, doubling up to 60 s (not 3 x 10). */
        for (int i = 0; i < 5; i++) {
                cxw_regrow_stop(&g);
                cxw_regrow_hold(&g, 1, i > 0, 100, 40, T0);
        }
        assert_true(g.hold_ms == 60000);
}

static void test_a_blind_cut_is_not_held(void **state)
{
        (void)state;
        cxw_regrow_t g;
        double add = 0;

        cxw_regrow_init(&g, T0);
        cxw_regrow_stop(&g);
        cxw_regrow_hold(&g, 0, 0, 1000, 40, T0 + 1000);
        assert_true(g.hold_ms == 0);
        assert_false(cxw_regrow_due(&g, 0, 100, T0 + 1999, &add));
        assert_true(cxw_regrow_due(&g, 0, 100, T0 + 2000, &add));
        assert_near(add, 5, 1e-9);
        /* Nothing held, so nothing to double at the next trip. */
        cxw_regrow_stop(&g);
        cxw_regrow_hold(&g, 1, 1, 1000, 40, T0);
        assert_true(g.hold_ms == 20000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_before_any_trip_it_grows_by_the_largest_step),
            cmocka_unit_test(test_at_the_ceiling_time_is_not_credited),
            cmocka_unit_test(test_a_trip_stops_the_steps_until_it_is_measured),
            cmocka_unit_test(test_a_measured_trip_holds_twenty_pauses_then_steps_slowly),
            cmocka_unit_test(test_the_hold_is_at_least_10s),
            cmocka_unit_test(test_trips_at_the_same_rate_double_the_hold_up_to_a_ceiling),
            cmocka_unit_test(test_the_hold_ceiling_is_at_least_60s),
            cmocka_unit_test(test_a_blind_cut_is_not_held),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_breaker.c: the outage breaker opens after failures in a row, lets one
 * probe through at growing intervals, and closes on the first answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cxone/flow/breaker.h"

static void test_closed_allows_and_counts_in_a_row(void **state)
{
        cxw_breaker_t b;

        (void)state;
        cxw_breaker_init(&b, 3, 100, 1000);
        assert_int_equal(cxw_breaker_allow(&b, 0), 0);
        assert_int_equal(cxw_breaker_on_failure(&b, 0, 0), 0);
        assert_int_equal(cxw_breaker_on_failure(&b, 0, 0), 0);
        assert_int_equal(cxw_breaker_on_success(&b), 0); /* resets the run */
        assert_int_equal(cxw_breaker_on_failure(&b, 0, 0), 0);
        assert_int_equal(cxw_breaker_on_failure(&b, 0, 0), 0);
        assert_false(cxw_breaker_is_open(&b));
        assert_int_equal(cxw_breaker_allow(&b, 0), 0);
}

static void test_opens_then_one_probe_at_growing_intervals(void **state)
{
        cxw_breaker_t b;
        int64_t now = 1000;

        (void)state;
        cxw_breaker_init(&b, 3, 100, 350);
        cxw_breaker_on_failure(&b, now, 0);
        cxw_breaker_on_failure(&b, now, 0);
        assert_int_equal(cxw_breaker_on_failure(&b, now, 0), 1);
        assert_true(cxw_breaker_is_open(&b));
        assert_int_equal(b.opened, 1);
        /* failures of calls started before it opened: still open, no change */
        assert_int_equal(cxw_breaker_on_failure(&b, now, 0), 1);
        assert_int_equal(cxw_breaker_allow(&b, now), 100);
        assert_int_equal(cxw_breaker_allow(&b, now + 99), 1);
        assert_int_equal(cxw_breaker_allow(&b, now + 100), 0); /* the probe */
        assert_true(cxw_breaker_allow(&b, now + 100) > 0);     /* only one */
        assert_true(cxw_breaker_allow(&b, now + 5000) > 0);
        /* the probe fails: twice the wait */
        now += 150;
        assert_int_equal(cxw_breaker_on_failure(&b, now, 1), 1);
        assert_int_equal(cxw_breaker_allow(&b, now), 200);
        assert_int_equal(cxw_breaker_allow(&b, now + 200), 0);
        now += 200;
        cxw_breaker_on_failure(&b, now, 1);
        assert_int_equal(cxw_breaker_allow(&b, now), 350); /* capped */
        assert_int_equal(cxw_breaker_allow(&b, now + 350), 0);
        now += 350;
        cxw_breaker_on_failure(&b, now, 1);
        assert_int_equal(cxw_breaker_allow(&b, now), 350);
}

static void test_an_answer_closes_it(void **state)
{
        cxw_breaker_t b;

        (void)state;
        cxw_breaker_init(&b, 1, 100, 1000);
        assert_int_equal(cxw_breaker_on_failure(&b, 0, 0), 1);
        assert_int_equal(cxw_breaker_allow(&b, 100), 0);
        assert_int_equal(cxw_breaker_on_success(&b), 1);
        assert_false(cxw_breaker_is_open(&b));
        assert_int_equal(cxw_breaker_allow(&b, 100), 0);
        assert_int_equal(cxw_breaker_allow(&b, 100), 0); /* any number again */
        /* opening again starts from the shortest wait */
        assert_int_equal(cxw_breaker_on_failure(&b, 200, 0), 1);
        assert_int_equal(cxw_breaker_allow(&b, 200), 100);
        assert_int_equal(b.opened, 2);
}

static void test_threshold_zero_never_opens(void **state)
{
        cxw_breaker_t b;

        (void)state;
        cxw_breaker_init(&b, 0, 100, 1000);
        for (int i = 0; i < 1000; i++)
                assert_int_equal(cxw_breaker_on_failure(&b, i, 0), 0);
        assert_false(cxw_breaker_is_open(&b));
        assert_int_equal(cxw_breaker_allow(&b, 0), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_closed_allows_and_counts_in_a_row),
            cmocka_unit_test(test_opens_then_one_probe_at_growing_intervals),
            cmocka_unit_test(test_an_answer_closes_it),
            cmocka_unit_test(test_threshold_zero_never_opens),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

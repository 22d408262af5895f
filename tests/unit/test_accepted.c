/* test_accepted.c: the accepted answers by send time, alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "cxone/flow/accepted.h"

#define T0 1000000

static cxw_accepted_t *new_ring(void)
{
        cxw_accepted_t *a = malloc(sizeof(*a));

        assert_non_null(a);
        cxw_accepted_init(a);
        return a;
}

static void test_an_empty_ring_counts_nothing(void **state)
{
        (void)state;
        cxw_accepted_t *a = new_ring();
        int64_t first = 7;

        assert_int_equal(cxw_accepted_count(a, 0, T0, &first), 0);
        assert_true(first == -1);
        free(a);
}

static void test_counts_by_send_time_both_ends_included(void **state)
{
        (void)state;
        cxw_accepted_t *a = new_ring();
        int64_t first;

        /* Answered 50 ms after each send, at 10 ms apart. */
        for (int64_t t = T0; t <= T0 + 100; t += 10)
                cxw_accepted_add(a, t, t + 50);
        cxw_accepted_add(a, T0 + 100, T0 + 160); /* two in one ms */
        assert_int_equal(cxw_accepted_count(a, T0, T0 + 100, &first), 12);
        assert_true(first == T0);
        assert_int_equal(cxw_accepted_count(a, T0 + 1, T0 + 99, &first), 9);
        assert_true(first == T0 + 10);
        assert_int_equal(cxw_accepted_count(a, T0 + 101, T0 + 200, &first), 0);
        assert_true(first == -1);
        free(a);
}

static void test_a_slow_first_answer_moves_the_first_send_later(void **state)
{
        (void)state;
        cxw_accepted_t *a = new_ring();
        int64_t first;

        /* The first answer took 5 ms longer than the others. */
        cxw_accepted_add(a, T0, T0 + 55);
        for (int64_t t = T0 + 10; t < T0 + 100; t += 10)
                cxw_accepted_add(a, t, t + 50);
        assert_int_equal(cxw_accepted_count(a, T0, T0 + 100, &first), 10);
        assert_true(first == T0 + 5);
        /* ... by at most a quarter of the time from it to the end. */
        assert_int_equal(cxw_accepted_count(a, T0, T0 + 12, &first), 2);
        assert_true(first == T0 + 3);
        free(a);
}

static void test_a_slot_is_reused_a_ring_later(void **state)
{
        (void)state;
        cxw_accepted_t *a = new_ring();
        int64_t later = T0 + CXW_ACCEPTED_SLOTS * CXW_ACCEPTED_SLOT_MS, first;

        cxw_accepted_add(a, T0, T0 + 50);
        cxw_accepted_add(a, T0, T0 + 50);
        cxw_accepted_add(a, later, later + 50);
        /* The old ms is gone, the new one holds one answer. */
        assert_int_equal(cxw_accepted_count(a, T0, T0, &first), 0);
        assert_int_equal(cxw_accepted_count(a, later, later, &first), 1);
        assert_true(first == later);
        free(a);
}

static void test_unknown_send_times_and_odd_round_trips(void **state)
{
        (void)state;
        cxw_accepted_t *a = new_ring();
        int64_t first;

        cxw_accepted_add(a, -1, T0);
        assert_int_equal(cxw_accepted_count(a, 0, 100, &first), 0);
        /* An answer "before" its send counts with a round trip of 0. */
        cxw_accepted_add(a, T0 + 10, T0);
        cxw_accepted_add(a, T0, T0 + 40);
        assert_int_equal(cxw_accepted_count(a, T0, T0 + 100, &first), 2);
        assert_true(first == T0 + 25); /* 40 ms late, at most 100 / 4 */
        free(a);
}

/* A window from a peer's report is not trusted: a start before the epoch
 * of the clock or ages before the end is cut to what the ring holds, so
 * the count is still right and the walk short (before: a negative slot
 * index read below the ring, and a window of 10^12 ms walked that long). */
static void test_a_hostile_window_is_cut_to_the_ring(void **state)
{
        (void)state;
        cxw_accepted_t *a = new_ring();
        int64_t first;

        cxw_accepted_add(a, T0, T0 + 5);
        cxw_accepted_add(a, T0 + 10, T0 + 15);
        assert_int_equal(cxw_accepted_count(a, -5000, T0 + 10, &first), 2);
        assert_int_equal(cxw_accepted_count(a, INT64_MIN / 2, T0 + 10, &first), 2);
        assert_int_equal(cxw_accepted_count(a, -1000000000000LL, 5000, &first), 0);
        assert_int_equal(cxw_accepted_count(a, T0 + 20, T0 + 10, &first), 0);
        free(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_an_empty_ring_counts_nothing),
            cmocka_unit_test(test_counts_by_send_time_both_ends_included),
            cmocka_unit_test(test_a_slow_first_answer_moves_the_first_send_later),
            cmocka_unit_test(test_a_slot_is_reused_a_ring_later),
            cmocka_unit_test(test_unknown_send_times_and_odd_round_trips),
            cmocka_unit_test(test_a_hostile_window_is_cut_to_the_ring),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

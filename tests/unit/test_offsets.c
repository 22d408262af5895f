/* test_offsets.c: only the contiguous prefix of finished offsets is committed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/flow/offsets.h"
#include "cxone/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T "cxone.contact-updates"

static int setup(void **state)
{
        *state = cxw_offsets_new();
        return *state ? 0 : -1;
}

static int teardown(void **state)
{
        cxw_offsets_destroy(*state);
        return 0;
}

static void in_order_completion_commits_each_next_offset(void **state)
{
        cxw_offsets_t *o = *state;

        for (int64_t i = 0; i < 5; i++)
                assert_int_equal(cxw_offsets_add(o, T, 0, i), 0);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 5);
        for (int64_t i = 0; i < 5; i++) {
                assert_int_equal(cxw_offsets_done(o, T, 0, i), i + 1);
                assert_int_equal(cxw_offsets_pending(o, T, 0), (size_t)(4 - i));
        }
        assert_int_equal(cxw_offsets_pending_total(o), 0);
}

static void out_of_order_completion_advances_only_over_the_contiguous_prefix(void **state)
{
        cxw_offsets_t *o = *state;

        for (int64_t i = 0; i < 10; i++)
                assert_int_equal(cxw_offsets_add(o, T, 0, i), 0);
        assert_int_equal(cxw_offsets_done(o, T, 0, 5), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 3), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 1), -1);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 7);
        assert_int_equal(cxw_offsets_done(o, T, 0, 0), 2);
        assert_int_equal(cxw_offsets_done(o, T, 0, 2), 4);
        assert_int_equal(cxw_offsets_done(o, T, 0, 4), 6);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 4);
        assert_int_equal(cxw_offsets_done(o, T, 0, 9), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 7), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 6), 8);
        assert_int_equal(cxw_offsets_done(o, T, 0, 8), 10);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 0);
}

static void finishing_an_offset_twice_does_not_count_twice(void **state)
{
        cxw_offsets_t *o = *state;

        assert_int_equal(cxw_offsets_add(o, T, 0, 0), 0);
        assert_int_equal(cxw_offsets_add(o, T, 0, 1), 0);
        assert_int_equal(cxw_offsets_done(o, T, 0, 1), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 1), -1);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 0), 2);
        /* already committed and gone */
        assert_int_equal(cxw_offsets_done(o, T, 0, 0), -1);
        assert_int_equal(cxw_offsets_pending_total(o), 0);
}

static void gaps_in_offsets_commit_past_the_gap(void **state)
{
        cxw_offsets_t *o = *state;

        assert_int_equal(cxw_offsets_add(o, T, 0, 10), 0);
        assert_int_equal(cxw_offsets_add(o, T, 0, 12), 0);
        assert_int_equal(cxw_offsets_add(o, T, 0, 15), 0);
        /* offsets never added are unknown */
        assert_int_equal(cxw_offsets_done(o, T, 0, 11), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 16), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 9), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 12), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 10), 13);
        assert_int_equal(cxw_offsets_done(o, T, 0, 15), 16);
}

static void partitions_and_topics_are_independent(void **state)
{
        cxw_offsets_t *o = *state;
        /* the same topic name in a different buffer: compared as strings */
        char other_copy[64];

        strcpy(other_copy, T);
        for (int64_t i = 0; i < 3; i++) {
                assert_int_equal(cxw_offsets_add(o, T, 0, i), 0);
                assert_int_equal(cxw_offsets_add(o, T, 1, i + 100), 0);
                assert_int_equal(cxw_offsets_add(o, "cxone.schedule-imports", 0, i), 0);
        }
        assert_int_equal(cxw_offsets_pending(o, T, 0), 3);
        assert_int_equal(cxw_offsets_pending(o, T, 1), 3);
        assert_int_equal(cxw_offsets_pending(o, "cxone.schedule-imports", 0), 3);
        assert_int_equal(cxw_offsets_pending(o, "cxone.schedule-imports", 1), 0);
        assert_int_equal(cxw_offsets_pending_total(o), 9);

        /* finishing partition 1 does not move partition 0 or the other topic */
        assert_int_equal(cxw_offsets_done(o, T, 1, 100), 101);
        assert_int_equal(cxw_offsets_done(o, T, 0, 100), -1);
        assert_int_equal(cxw_offsets_done(o, "cxone.schedule-imports", 0, 1), -1);
        assert_int_equal(cxw_offsets_done(o, other_copy, 0, 0), 1);
        assert_int_equal(cxw_offsets_done(o, "cxone.schedule-imports", 0, 0), 2);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 2);
        assert_int_equal(cxw_offsets_pending(o, T, 1), 2);
        assert_int_equal(cxw_offsets_pending(o, "cxone.schedule-imports", 0), 1);
        assert_int_equal(cxw_offsets_pending_total(o), 5);
}

static void add_not_increasing_is_refused(void **state)
{
        cxw_offsets_t *o = *state;

        assert_int_equal(cxw_offsets_add(o, T, 0, 5), 0);
        assert_int_equal(cxw_offsets_add(o, T, 0, 5), -1);
        assert_int_equal(cxw_offsets_add(o, T, 0, 4), -1);
        assert_int_equal(cxw_offsets_add(o, T, 0, -1), -1);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 1);
        /* still refused after the partition drained: no redelivery */
        assert_int_equal(cxw_offsets_done(o, T, 0, 5), 6);
        assert_int_equal(cxw_offsets_add(o, T, 0, 5), -1);
        assert_int_equal(cxw_offsets_add(o, T, 0, 6), 0);
        /* another partition has its own sequence */
        assert_int_equal(cxw_offsets_add(o, T, 1, 0), 0);
}

static void done_on_unknown_partition_or_offset_is_minus_one(void **state)
{
        cxw_offsets_t *o = *state;

        assert_int_equal(cxw_offsets_done(o, T, 0, 0), -1);
        assert_int_equal(cxw_offsets_done(o, "nope", 3, 0), -1);
        assert_int_equal(cxw_offsets_pending(o, "nope", 3), 0);
        assert_int_equal(cxw_offsets_add(o, T, 0, 1), 0);
        assert_int_equal(cxw_offsets_done(o, T, 0, 0), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 2), -1);
        assert_int_equal(cxw_offsets_done(o, T, 2, 1), -1);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 1);
        /* NULL handles and topics are harmless */
        assert_int_equal(cxw_offsets_done(NULL, T, 0, 1), -1);
        assert_int_equal(cxw_offsets_done(o, NULL, 0, 1), -1);
        assert_int_equal(cxw_offsets_add(NULL, T, 0, 1), -1);
        assert_int_equal(cxw_offsets_add(o, NULL, 0, 1), -1);
        assert_int_equal(cxw_offsets_pending_total(NULL), 0);
        cxw_offsets_drop(NULL, T, 0);
        cxw_offsets_destroy(NULL);
}

static void drop_forgets_the_partition(void **state)
{
        cxw_offsets_t *o = *state;

        for (int64_t i = 0; i < 4; i++) {
                assert_int_equal(cxw_offsets_add(o, T, 0, i), 0);
                assert_int_equal(cxw_offsets_add(o, T, 1, i), 0);
        }
        assert_int_equal(cxw_offsets_done(o, T, 0, 1), -1);
        assert_int_equal(cxw_offsets_pending_total(o), 7);
        cxw_offsets_drop(o, T, 0);
        assert_int_equal(cxw_offsets_pending(o, T, 0), 0);
        assert_int_equal(cxw_offsets_pending_total(o), 4);
        assert_int_equal(cxw_offsets_done(o, T, 0, 0), -1);
        assert_int_equal(cxw_offsets_done(o, T, 0, 2), -1);
        /* the other partition is untouched */
        assert_int_equal(cxw_offsets_done(o, T, 1, 0), 1);
        /* dropping twice or an unknown partition is harmless */
        cxw_offsets_drop(o, T, 0);
        cxw_offsets_drop(o, "nope", 9);
        /* after a drop, the partition may start again from any offset */
        assert_int_equal(cxw_offsets_add(o, T, 0, 2), 0);
        assert_int_equal(cxw_offsets_done(o, T, 0, 2), 3);
}

static void many_partitions_stay_separate(void **state)
{
        cxw_offsets_t *o = *state;
        char topic[32];

        /* more partitions than the initial hash table, to make it grow */
        for (int t = 0; t < 8; t++) {
                snprintf(topic, sizeof(topic), "topic-%d", t);
                for (int32_t p = 0; p < 64; p++)
                        for (int64_t i = 0; i < 3; i++)
                                assert_int_equal(cxw_offsets_add(o, topic, p, p * 10 + i),
                                                 0);
        }
        assert_int_equal(cxw_offsets_pending_total(o), 8 * 64 * 3);
        for (int t = 0; t < 8; t++) {
                snprintf(topic, sizeof(topic), "topic-%d", t);
                for (int32_t p = 0; p < 64; p++) {
                        assert_int_equal(cxw_offsets_pending(o, topic, p), 3);
                        assert_int_equal(cxw_offsets_done(o, topic, p, p * 10),
                                         p * 10 + 1);
                }
        }
        assert_int_equal(cxw_offsets_pending_total(o), 8 * 64 * 2);
}

/* 100,000 offsets finished in random order: the last commit is last + 1, no
 * commit ever goes backwards, and each commit is exactly the first unfinished
 * offset. */
static void hundred_thousand_offsets_in_random_order_end_at_last_plus_one(void **state)
{
        cxw_offsets_t *o = *state;
        enum { N = 100000 };
        int64_t *order = malloc(N * sizeof(*order));
        unsigned char *finished = calloc(N, 1);
        uint64_t rng = 0xC0FFEEULL;
        int64_t commit = -1, first_unfinished = 0;

        assert_non_null(order);
        assert_non_null(finished);
        for (int64_t i = 0; i < N; i++) {
                assert_int_equal(cxw_offsets_add(o, T, 3, 1000 + 2 * i), 0);
                order[i] = i;
        }
        assert_int_equal(cxw_offsets_pending(o, T, 3), N);
        for (int64_t i = N - 1; i > 0; i--) {
                int64_t j = (int64_t)(cxw_rand64(&rng) % (uint64_t)(i + 1));
                int64_t t = order[i];
                order[i] = order[j];
                order[j] = t;
        }
        for (int64_t i = 0; i < N; i++) {
                int64_t got = cxw_offsets_done(o, T, 3, 1000 + 2 * order[i]);
                finished[order[i]] = 1;
                while (first_unfinished < N && finished[first_unfinished])
                        first_unfinished++;
                if (got != -1) {
                        assert_true(got > commit);
                        commit = got;
                        /* commit = last finished of the prefix + 1 */
                        assert_int_equal(commit, 1000 + 2 * (first_unfinished - 1) + 1);
                }
        }
        assert_int_equal(commit, 1000 + 2 * (N - 1) + 1);
        assert_int_equal(cxw_offsets_pending(o, T, 3), 0);
        assert_int_equal(cxw_offsets_pending_total(o), 0);
        free(order);
        free(finished);
}

/* The ring wraps around and grows while wrapped: add and finish in a sliding
 * window, then widen the window. */
static void ring_wraps_and_grows_while_wrapped(void **state)
{
        cxw_offsets_t *o = *state;
        int64_t next_add = 0, next_done = 0;

        for (int round = 0; round < 50; round++) {
                int window = 10 + round * 5;
                while (next_add - next_done < window)
                        assert_int_equal(cxw_offsets_add(o, T, 0, next_add++), 0);
                for (int i = 0; i < 7; i++) {
                        assert_int_equal(cxw_offsets_done(o, T, 0, next_done),
                                         next_done + 1);
                        next_done++;
                }
        }
        assert_int_equal(cxw_offsets_pending(o, T, 0), (size_t)(next_add - next_done));
        while (next_done < next_add) {
                assert_int_equal(cxw_offsets_done(o, T, 0, next_done), next_done + 1);
                next_done++;
        }
        assert_int_equal(cxw_offsets_pending(o, T, 0), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(in_order_completion_commits_each_next_offset,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(
                out_of_order_completion_advances_only_over_the_contiguous_prefix, setup,
                teardown),
            cmocka_unit_test_setup_teardown(
                finishing_an_offset_twice_does_not_count_twice, setup, teardown),
            cmocka_unit_test_setup_teardown(gaps_in_offsets_commit_past_the_gap, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(partitions_and_topics_are_independent, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(add_not_increasing_is_refused, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(
                done_on_unknown_partition_or_offset_is_minus_one, setup, teardown),
            cmocka_unit_test_setup_teardown(drop_forgets_the_partition, setup, teardown),
            cmocka_unit_test_setup_teardown(many_partitions_stay_separate, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(
                hundred_thousand_offsets_in_random_order_end_at_last_plus_one, setup,
                teardown),
            cmocka_unit_test_setup_teardown(ring_wraps_and_grows_while_wrapped, setup,
                                            teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

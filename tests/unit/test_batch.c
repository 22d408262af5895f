/* test_batch.c: the batch builder. One entry per key in a batch, the size
 * and linger triggers, oldest first across batches, linger 0, the adaptive
 * target, and the dispatcher on top keeping per-key order across batches. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/flow/batch.h"
#include "cxone/flow/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        char key[32];
        int seq;
} upd_t;

static upd_t *mk(upd_t *u, const char *key, int seq)
{
        snprintf(u->key, sizeof(u->key), "%s", key);
        u->seq = seq;
        return u;
}

static cxw_batcher_t *new_batcher(size_t max, int64_t linger, size_t cap)
{
        char err[256] = "";
        cxw_batcher_t *b = cxw_batcher_new(max, linger, cap, err, sizeof(err));

        if (!b)
                fail_msg("cxw_batcher_new: %s", err);
        return b;
}

/* Drives the target up: a batch due and no slot, then a send, n times. */
static void press(cxw_batcher_t *b, int times, int64_t now)
{
        upd_t u;
        void *out[1];

        for (int i = 0; i < times; i++) {
                assert_int_equal(cxw_batcher_add(b, &u, "press", now), 0);
                /* due by the linger at the latest */
                assert_int_equal(cxw_batcher_take(b, now + 100000, 0, out, 1), 0);
                assert_int_equal(cxw_batcher_take(b, now + 100000, 1, out, 1), 1);
        }
}

static void second_update_of_a_key_waits_for_the_next_batch(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 0, 100);
        upd_t a1, a2, a3, x, y;
        void *out[50];

        (void)state;
        assert_int_equal(cxw_batcher_add(b, mk(&a1, "A", 1), "A", 0), 0);
        assert_int_equal(cxw_batcher_add(b, mk(&x, "X", 1), "X", 0), 0);
        assert_int_equal(cxw_batcher_add(b, mk(&a2, "A", 2), "A", 0), 0);
        assert_int_equal(cxw_batcher_add(b, mk(&y, "Y", 1), "Y", 0), 0);
        assert_int_equal(cxw_batcher_add(b, mk(&a3, "A", 3), "A", 0), 0);

        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 50), 3);
        assert_ptr_equal(out[0], &a1);
        assert_ptr_equal(out[1], &x);
        assert_ptr_equal(out[2], &y);
        assert_int_equal(cxw_batcher_pending(b), 2);
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 50), 1);
        assert_ptr_equal(out[0], &a2);
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 50), 1);
        assert_ptr_equal(out[0], &a3);
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 50), 0);
        assert_int_equal(cxw_batcher_counts(b)->deferred, 2 + 1);
        assert_int_equal(cxw_batcher_counts(b)->batches, 3);
        assert_int_equal(cxw_batcher_counts(b)->entries, 5);
        cxw_batcher_destroy(b);
}

static void no_batch_ever_holds_two_entries_of_one_key(void **state)
{
        cxw_batcher_t *b = new_batcher(7, 0, 1000);
        static upd_t u[600];
        void *out[7];
        int next_seq[20] = {0};
        uint64_t rng = 12345;
        size_t taken = 0;

        (void)state;
        for (int i = 0; i < 600; i++) {
                char key[8];
                rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
                snprintf(key, sizeof(key), "k%d", (int)((rng >> 33) % 20));
                assert_int_equal(cxw_batcher_add(b, mk(&u[i], key, i), key, i), 0);
        }
        for (int round = 0; round < 1000 && cxw_batcher_pending(b) > 0; round++) {
                size_t m = cxw_batcher_take(b, 1000, 1, out, 7);
                assert_true(m >= 1 && m <= 7);
                for (size_t i = 0; i < m; i++) {
                        upd_t *ui = out[i];
                        int k = atoi(ui->key + 1);
                        for (size_t j = 0; j < i; j++)
                                assert_string_not_equal(((upd_t *)out[j])->key, ui->key);
                        /* a key's updates leave in add order */
                        assert_true(ui->seq >= next_seq[k]);
                        next_seq[k] = ui->seq + 1;
                }
                taken += m;
        }
        assert_int_equal(taken, 600);
        cxw_batcher_destroy(b);
}

static void size_trigger_sends_when_target_entries_are_pending(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 20, 1000);
        upd_t u[64];
        void *out[50];
        char key[16];

        (void)state;
        press(b, 3, 0); /* 1 -> 2 -> 4 -> 8 */
        assert_int_equal(cxw_batcher_target(b), 8);
        for (int i = 0; i < 7; i++) {
                snprintf(key, sizeof(key), "c%d", i);
                assert_int_equal(cxw_batcher_add(b, mk(&u[i], key, i), key, 1000), 0);
                assert_false(cxw_batcher_due(b, 1000));
        }
        assert_int_equal(cxw_batcher_take(b, 1000, 1, out, 50), 0);
        assert_int_equal(cxw_batcher_due_at(b), 1020);
        assert_int_equal(cxw_batcher_add(b, mk(&u[7], "c7", 7), "c7", 1001), 0);
        assert_true(cxw_batcher_due(b, 1001));
        assert_int_equal(cxw_batcher_due_at(b), 1000); /* already due */
        assert_int_equal(cxw_batcher_take(b, 1001, 1, out, 50), 8);
        for (int i = 0; i < 8; i++)
                assert_ptr_equal(out[i], &u[i]);
        cxw_batcher_destroy(b);
}

static void size_trigger_never_exceeds_batch_max_or_cap(void **state)
{
        cxw_batcher_t *b = new_batcher(5, 20, 1000);
        upd_t u[12];
        void *out[5];
        char key[16];

        (void)state;
        for (int i = 0; i < 12; i++) {
                snprintf(key, sizeof(key), "c%d", i);
                assert_int_equal(cxw_batcher_add(b, mk(&u[i], key, i), key, 0), 0);
        }
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 5), 5);
        assert_ptr_equal(out[4], &u[4]);
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 3), 3); /* cap < batch_max */
        assert_ptr_equal(out[0], &u[5]);
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 0), 0);
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 5), 4);
        assert_ptr_equal(out[3], &u[11]);
        cxw_batcher_destroy(b);
}

static void linger_trigger_sends_what_is_ready_after_linger_ms(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 20, 1000);
        upd_t a, c;
        void *out[50];

        (void)state;
        press(b, 4, 0); /* target 16 */
        assert_int_equal(cxw_batcher_target(b), 16);
        assert_int_equal(cxw_batcher_due_at(b), INT64_MAX);
        assert_int_equal(cxw_batcher_add(b, mk(&a, "a", 0), "a", 100), 0);
        assert_int_equal(cxw_batcher_add(b, mk(&c, "c", 0), "c", 110), 0);
        assert_int_equal(cxw_batcher_due_at(b), 120);
        assert_false(cxw_batcher_due(b, 119));
        assert_int_equal(cxw_batcher_take(b, 119, 1, out, 50), 0);
        assert_true(cxw_batcher_due(b, 120));
        assert_int_equal(cxw_batcher_take(b, 120, 1, out, 50), 2);
        assert_ptr_equal(out[0], &a);
        assert_ptr_equal(out[1], &c);
        /* a slot was at hand: the budget was not the bottleneck */
        assert_int_equal(cxw_batcher_target(b), 8);
        cxw_batcher_destroy(b);
}

static void batches_leave_oldest_first_across_batches(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 20, 1000);
        static upd_t u[120];
        void *out[50];
        int next = 0, sizes[3] = {50, 50, 20};
        char key[16];

        (void)state;
        for (int i = 0; i < 120; i++) {
                snprintf(key, sizeof(key), "c%d", i);
                assert_int_equal(cxw_batcher_add(b, mk(&u[i], key, i), key, i), 0);
        }
        for (int k = 0; k < 3; k++) {
                size_t m = cxw_batcher_take(b, 1000, 1, out, 50);
                assert_int_equal(m, sizes[k]);
                for (size_t i = 0; i < m; i++)
                        assert_ptr_equal(out[i], &u[next++]);
        }
        assert_int_equal(cxw_batcher_pending(b), 0);
        assert_int_equal(cxw_batcher_take(b, 1000, 1, out, 50), 0);
        cxw_batcher_destroy(b);
}

static void linger_zero_sends_what_is_ready_at_once_whatever_the_target(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 0, 1000);
        upd_t a, c;
        void *out[50];

        (void)state;
        press(b, 5, 0);
        assert_int_equal(cxw_batcher_target(b), 32);
        assert_int_equal(cxw_batcher_add(b, mk(&a, "a", 0), "a", 500), 0);
        assert_true(cxw_batcher_due(b, 500));
        assert_int_equal(cxw_batcher_due_at(b), 500);
        assert_int_equal(cxw_batcher_take(b, 500, 1, out, 50), 1);
        assert_ptr_equal(out[0], &a);
        assert_int_equal(cxw_batcher_add(b, mk(&c, "c", 0), "c", 501), 0);
        assert_int_equal(cxw_batcher_take(b, 501, 1, out, 50), 1);
        cxw_batcher_destroy(b);
}

static void low_load_sends_each_update_alone_at_once(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 20, 1000);
        upd_t u[100];
        void *out[50];
        char key[16];

        (void)state;
        for (int i = 0; i < 100; i++) {
                int64_t now = 1000 + 37 * i;
                snprintf(key, sizeof(key), "c%d", i);
                assert_int_equal(cxw_batcher_add(b, mk(&u[i], key, i), key, now), 0);
                assert_true(cxw_batcher_due(b, now)); /* no linger */
                assert_int_equal(cxw_batcher_take(b, now, 1, out, 50), 1);
                assert_ptr_equal(out[0], &u[i]);
                assert_int_equal(cxw_batcher_target(b), 1);
        }
        assert_int_equal(cxw_batcher_counts(b)->grows, 0);
        cxw_batcher_destroy(b);
}

static void target_doubles_under_pressure_once_per_send_and_halves_after(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 20, 1000);
        size_t expect[] = {2, 4, 8, 16, 32, 50, 50};
        static upd_t u[400];
        void *out[50];
        int n = 0;
        int64_t now = 0;
        char key[16];

        (void)state;
        for (size_t r = 0; r < sizeof(expect) / sizeof(expect[0]); r++) {
                /* a backlog bigger than any batch: due at once */
                while (cxw_batcher_pending(b) < 60) {
                        snprintf(key, sizeof(key), "c%d", n);
                        assert_int_equal(cxw_batcher_add(b, mk(&u[n], key, n), key, now),
                                         0);
                        n++;
                }
                for (int i = 0; i < 5; i++) /* repeated reports do not compound */
                        cxw_batcher_blocked(b, now);
                assert_int_equal(cxw_batcher_target(b), expect[r]);
                assert_int_equal(cxw_batcher_take(b, now, 1, out, 50), 50);
                now += 50;
        }
        assert_int_equal(cxw_batcher_counts(b)->grows, 6);
        /* the load falls: batches leave on the linger with a slot at hand */
        for (int r = 0; r < 10 && cxw_batcher_pending(b) > 0; r++)
                (void)cxw_batcher_take(b, now += 100, 1, out, 50);
        assert_int_equal(cxw_batcher_pending(b), 0);
        for (int r = 0; r < 10; r++) {
                snprintf(key, sizeof(key), "d%d", r);
                assert_int_equal(cxw_batcher_add(b, mk(&u[n], key, r), key, now), 0);
                (void)cxw_batcher_take(b, now += 20, 1, out, 50);
        }
        assert_int_equal(cxw_batcher_target(b), 1);
        assert_int_equal(cxw_batcher_counts(b)->shrinks, 5); /* 50 25 12 6 3 1 */
        cxw_batcher_destroy(b);
}

static void blocked_without_a_due_batch_changes_nothing(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 20, 1000);
        upd_t a;
        void *out[1];

        (void)state;
        cxw_batcher_blocked(b, 0); /* empty */
        assert_int_equal(cxw_batcher_target(b), 1);
        press(b, 2, 0); /* target 4 */
        assert_int_equal(cxw_batcher_add(b, mk(&a, "a", 0), "a", 10), 0);
        cxw_batcher_blocked(b, 11); /* 1 of 4, linger not over */
        assert_int_equal(cxw_batcher_take(b, 12, 0, out, 1), 0);
        assert_int_equal(cxw_batcher_target(b), 4);
        cxw_batcher_destroy(b);
}

/* The worker's use: the dispatcher feeds the batcher what it has ready;
 * a key's next update is ready only after the previous one's release. */
static void dispatcher_on_top_keeps_per_key_order_across_batches(void **state)
{
        cxw_dispatch_t *d = cxw_dispatch_new();
        cxw_batcher_t *b = new_batcher(50, 0, 100);
        static upd_t u[30];
        int next_seq[3] = {0};
        int sent = 0;
        void *out[50];

        (void)state;
        assert_non_null(d);
        for (int i = 0; i < 30; i++) {
                char key[8];
                snprintf(key, sizeof(key), "k%d", i % 3 == 2 ? 2 : i % 2);
                assert_int_equal(cxw_dispatch_push(d, key, mk(&u[i], key, i)), 0);
        }
        for (int round = 0; round < 100 && sent < 30; round++) {
                void *it;
                size_t m;
                while (cxw_batcher_room(b) > 0 && (it = cxw_dispatch_pop(d)))
                        assert_int_equal(
                            cxw_batcher_add(b, it, ((upd_t *)it)->key, round), 0);
                m = cxw_batcher_take(b, round, 1, out, 50);
                assert_true(m >= 1 && m <= 3);
                for (size_t i = 0; i < m; i++) {
                        upd_t *ui = out[i];
                        int k = ui->key[1] - '0';
                        assert_true(ui->seq >= next_seq[k]);
                        next_seq[k] = ui->seq + 1;
                }
                /* nothing more of those keys is ready while they are out */
                assert_int_equal(cxw_dispatch_ready(d), 0);
                for (size_t i = 0; i < m; i++)
                        cxw_dispatch_release(d, ((upd_t *)out[i])->key);
                sent += (int)m;
        }
        assert_int_equal(sent, 30);
        assert_int_equal(cxw_batcher_counts(b)->deferred, 0);
        cxw_batcher_destroy(b);
        cxw_dispatch_destroy(d);
}

static int odd_seq(void *h, void *opaque)
{
        (void)opaque;
        return ((upd_t *)h)->seq % 2;
}

static void count_removed(void *h, void *opaque)
{
        (void)h;
        (*(int *)opaque)++;
}

static void remove_if_drops_matching_entries_and_keeps_order(void **state)
{
        cxw_batcher_t *b = new_batcher(50, 0, 100);
        upd_t u[10];
        void *out[50];
        int removed = 0;
        char key[8];

        (void)state;
        for (int i = 0; i < 10; i++) {
                snprintf(key, sizeof(key), "c%d", i);
                assert_int_equal(cxw_batcher_add(b, mk(&u[i], key, i), key, 0), 0);
        }
        cxw_batcher_remove_if(b, odd_seq, count_removed, &removed);
        assert_int_equal(removed, 5);
        assert_int_equal(cxw_batcher_pending(b), 5);
        assert_int_equal(cxw_batcher_take(b, 0, 1, out, 50), 5);
        for (int i = 0; i < 5; i++)
                assert_ptr_equal(out[i], &u[2 * i]);
        cxw_batcher_destroy(b);
}

static void bad_arguments_and_a_full_batcher_are_refused(void **state)
{
        char err[256] = "";
        char longkey[CXW_BATCH_KEY_MAX + 2];
        cxw_batcher_t *b;
        upd_t u;

        (void)state;
        assert_null(cxw_batcher_new(0, 20, 10, err, sizeof(err)));
        assert_non_null(strstr(err, "batch_max"));
        assert_null(cxw_batcher_new(CXW_BATCH_MAX_LIMIT + 1, 20, 10, err, sizeof(err)));
        assert_null(cxw_batcher_new(50, -1, 10, err, sizeof(err)));
        assert_non_null(strstr(err, "batch_linger_ms"));
        assert_null(
            cxw_batcher_new(50, CXW_BATCH_LINGER_MS_LIMIT + 1, 10, err, sizeof(err)));
        assert_null(cxw_batcher_new(50, 20, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "capacity"));

        b = new_batcher(50, 20, 2);
        memset(longkey, 'x', sizeof(longkey) - 1);
        longkey[sizeof(longkey) - 1] = '\0';
        assert_int_equal(cxw_batcher_add(b, &u, "", 0), -1);
        assert_int_equal(cxw_batcher_add(b, &u, NULL, 0), -1);
        assert_int_equal(cxw_batcher_add(b, &u, longkey, 0), -1);
        longkey[CXW_BATCH_KEY_MAX] = '\0'; /* exactly the limit */
        assert_int_equal(cxw_batcher_add(b, &u, longkey, 0), 0);
        assert_int_equal(cxw_batcher_add(b, &u, "b", 0), 0);
        assert_int_equal(cxw_batcher_room(b), 0);
        assert_int_equal(cxw_batcher_add(b, &u, "c", 0), -1);
        assert_int_equal(cxw_batcher_pending(b), 2);
        cxw_batcher_destroy(b); /* frees the pending keys (ASan checks) */
        cxw_batcher_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(second_update_of_a_key_waits_for_the_next_batch),
            cmocka_unit_test(no_batch_ever_holds_two_entries_of_one_key),
            cmocka_unit_test(size_trigger_sends_when_target_entries_are_pending),
            cmocka_unit_test(size_trigger_never_exceeds_batch_max_or_cap),
            cmocka_unit_test(linger_trigger_sends_what_is_ready_after_linger_ms),
            cmocka_unit_test(batches_leave_oldest_first_across_batches),
            cmocka_unit_test(linger_zero_sends_what_is_ready_at_once_whatever_the_target),
            cmocka_unit_test(low_load_sends_each_update_alone_at_once),
            cmocka_unit_test(
                target_doubles_under_pressure_once_per_send_and_halves_after),
            cmocka_unit_test(blocked_without_a_due_batch_changes_nothing),
            cmocka_unit_test(dispatcher_on_top_keeps_per_key_order_across_batches),
            cmocka_unit_test(remove_if_drops_matching_entries_and_keeps_order),
            cmocka_unit_test(bad_arguments_and_a_full_batcher_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

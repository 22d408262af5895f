/* test_dispatch.c: per-key ordering. Items of one key leave in push order and
 * one at a time; different keys never wait for each other. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/flow/dispatch.h"
#include "cxone/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        char key[24];
        int seq;       /* push order within its key */
        int partition; /* for remove_if */
} item_t;

static item_t *mk(item_t *it, const char *key, int seq, int partition)
{
        snprintf(it->key, sizeof(it->key), "%s", key);
        it->seq = seq;
        it->partition = partition;
        return it;
}

static int setup(void **state)
{
        *state = cxw_dispatch_new();
        return *state ? 0 : -1;
}

static int teardown(void **state)
{
        cxw_dispatch_destroy(*state);
        return 0;
}

static void one_key_leaves_in_push_order_never_two_in_progress(void **state)
{
        cxw_dispatch_t *d = *state;
        item_t items[5];

        for (int i = 0; i < 5; i++)
                assert_int_equal(
                    cxw_dispatch_push(d, "contact-1", mk(&items[i], "contact-1", i, 0)),
                    0);
        assert_int_equal(cxw_dispatch_queued(d), 5);
        assert_int_equal(cxw_dispatch_ready(d), 1);
        for (int i = 0; i < 5; i++) {
                item_t *it = cxw_dispatch_pop(d);
                assert_non_null(it);
                assert_int_equal(it->seq, i);
                /* the next one waits until this one is released */
                assert_null(cxw_dispatch_pop(d));
                assert_int_equal(cxw_dispatch_ready(d), 0);
                assert_int_equal(cxw_dispatch_queued(d), (size_t)(4 - i));
                cxw_dispatch_release(d, "contact-1");
                assert_int_equal(cxw_dispatch_ready(d), i < 4 ? 1 : 0);
        }
        assert_null(cxw_dispatch_pop(d));
        assert_int_equal(cxw_dispatch_queued(d), 0);
}

static void push_while_in_progress_waits_for_release(void **state)
{
        cxw_dispatch_t *d = *state;
        item_t a, b;

        assert_int_equal(cxw_dispatch_push(d, "k", mk(&a, "k", 0, 0)), 0);
        assert_ptr_equal(cxw_dispatch_pop(d), &a);
        assert_int_equal(cxw_dispatch_push(d, "k", mk(&b, "k", 1, 0)), 0);
        assert_int_equal(cxw_dispatch_ready(d), 0);
        assert_int_equal(cxw_dispatch_queued(d), 1);
        assert_null(cxw_dispatch_pop(d));
        cxw_dispatch_release(d, "k");
        assert_int_equal(cxw_dispatch_ready(d), 1);
        assert_ptr_equal(cxw_dispatch_pop(d), &b);
        cxw_dispatch_release(d, "k");
        /* the key is idle and empty again: a new push is ready at once */
        assert_int_equal(cxw_dispatch_push(d, "k", &a), 0);
        assert_int_equal(cxw_dispatch_ready(d), 1);
        assert_ptr_equal(cxw_dispatch_pop(d), &a);
}

static void different_keys_interleave_without_waiting(void **state)
{
        cxw_dispatch_t *d = *state;
        item_t it[6];

        cxw_dispatch_push(d, "a", mk(&it[0], "a", 0, 0));
        cxw_dispatch_push(d, "a", mk(&it[1], "a", 1, 0));
        cxw_dispatch_push(d, "b", mk(&it[2], "b", 0, 0));
        cxw_dispatch_push(d, "b", mk(&it[3], "b", 1, 0));
        cxw_dispatch_push(d, "c", mk(&it[4], "c", 0, 0));
        cxw_dispatch_push(d, "a", mk(&it[5], "a", 2, 0));
        assert_int_equal(cxw_dispatch_queued(d), 6);
        assert_int_equal(cxw_dispatch_ready(d), 3);

        /* all three keys in progress at once, oldest key first */
        assert_ptr_equal(cxw_dispatch_pop(d), &it[0]);
        assert_ptr_equal(cxw_dispatch_pop(d), &it[2]);
        assert_ptr_equal(cxw_dispatch_pop(d), &it[4]);
        assert_null(cxw_dispatch_pop(d));
        assert_int_equal(cxw_dispatch_queued(d), 3);

        /* b finishes before a: b's next item goes first */
        cxw_dispatch_release(d, "b");
        cxw_dispatch_release(d, "a");
        cxw_dispatch_release(d, "c");
        assert_int_equal(cxw_dispatch_ready(d), 2);
        assert_ptr_equal(cxw_dispatch_pop(d), &it[3]);
        assert_ptr_equal(cxw_dispatch_pop(d), &it[1]);
        assert_null(cxw_dispatch_pop(d));
        cxw_dispatch_release(d, "a");
        assert_ptr_equal(cxw_dispatch_pop(d), &it[5]);
        cxw_dispatch_release(d, "a");
        cxw_dispatch_release(d, "b");
        assert_int_equal(cxw_dispatch_queued(d), 0);
        assert_int_equal(cxw_dispatch_ready(d), 0);
}

static void hot_key_with_1000_items_does_not_delay_100_other_keys(void **state)
{
        cxw_dispatch_t *d = *state;
        item_t *hot = calloc(1000, sizeof(*hot));
        item_t *cold = calloc(100, sizeof(*cold));
        char key[24];

        assert_non_null(hot);
        assert_non_null(cold);
        for (int i = 0; i < 1000; i++)
                assert_int_equal(cxw_dispatch_push(d, "hot", mk(&hot[i], "hot", i, 0)),
                                 0);
        for (int i = 0; i < 100; i++) {
                snprintf(key, sizeof(key), "cold-%d", i);
                assert_int_equal(cxw_dispatch_push(d, key, mk(&cold[i], key, 0, 0)), 0);
        }
        assert_int_equal(cxw_dispatch_queued(d), 1100);
        assert_int_equal(cxw_dispatch_ready(d), 101);

        /* The hot key's first item, finished at once: its second item goes to
         * the back, behind every cold key. */
        item_t *first = cxw_dispatch_pop(d);
        assert_ptr_equal(first, &hot[0]);
        cxw_dispatch_release(d, "hot");
        for (int i = 0; i < 100; i++) {
                item_t *it = cxw_dispatch_pop(d);
                assert_non_null(it);
                if (it->seq != 0 || strcmp(it->key, "hot") == 0)
                        fail_msg("pop %d: got %s #%d before all cold keys", i, it->key,
                                 it->seq);
                assert_ptr_equal(it, &cold[i]);
                cxw_dispatch_release(d, it->key);
        }
        item_t *second = cxw_dispatch_pop(d);
        assert_ptr_equal(second, &hot[1]);
        cxw_dispatch_release(d, "hot");

        /* the rest of the hot key drains in order */
        for (int i = 2; i < 1000; i++) {
                item_t *it = cxw_dispatch_pop(d);
                assert_ptr_equal(it, &hot[i]);
                cxw_dispatch_release(d, "hot");
        }
        assert_int_equal(cxw_dispatch_queued(d), 0);
        free(hot);
        free(cold);
}

static void ten_thousand_distinct_keys_are_all_ready_at_once(void **state)
{
        cxw_dispatch_t *d = *state;
        enum { N = 10000 };
        item_t *it = calloc(N, sizeof(*it));
        char key[24];

        assert_non_null(it);
        for (int i = 0; i < N; i++) {
                snprintf(key, sizeof(key), "contact-%05d", i);
                assert_int_equal(cxw_dispatch_push(d, key, mk(&it[i], key, 0, 0)), 0);
        }
        assert_int_equal(cxw_dispatch_ready(d), N);
        assert_int_equal(cxw_dispatch_queued(d), N);
        /* all popped without any release: nothing waits for anything */
        for (int i = 0; i < N; i++)
                assert_ptr_equal(cxw_dispatch_pop(d), &it[i]);
        assert_null(cxw_dispatch_pop(d));
        assert_int_equal(cxw_dispatch_ready(d), 0);
        assert_int_equal(cxw_dispatch_queued(d), 0);
        for (int i = 0; i < N; i++)
                cxw_dispatch_release(d, it[i].key);
        assert_null(cxw_dispatch_pop(d));
        free(it);
}

typedef struct {
        int partition;
        item_t *seen[16];
        int nseen;
        int pred_calls_on_in_progress;
        item_t *in_progress;
} remove_ctx_t;

static int on_partition(void *item, void *opaque)
{
        remove_ctx_t *c = opaque;
        item_t *it = item;

        if (it == c->in_progress)
                c->pred_calls_on_in_progress++;
        return it->partition == c->partition;
}

static void record_removed(void *item, void *opaque)
{
        remove_ctx_t *c = opaque;

        assert_true(c->nseen < 16);
        c->seen[c->nseen++] = item;
}

static void remove_if_removes_only_matching_queued_items_and_keeps_order(void **state)
{
        cxw_dispatch_t *d = *state;
        item_t a[5], b[2], c[1];
        remove_ctx_t ctx = {.partition = 1};

        /* key a: partitions 1,1,2,1,2 ; key b: 1,1 ; key c: 2 */
        static const int pa[5] = {1, 1, 2, 1, 2};
        for (int i = 0; i < 5; i++)
                cxw_dispatch_push(d, "a", mk(&a[i], "a", i, pa[i]));
        cxw_dispatch_push(d, "b", mk(&b[0], "b", 0, 1));
        cxw_dispatch_push(d, "b", mk(&b[1], "b", 1, 1));
        cxw_dispatch_push(d, "c", mk(&c[0], "c", 0, 2));
        /* a[0] is in progress */
        assert_ptr_equal(cxw_dispatch_pop(d), &a[0]);
        ctx.in_progress = &a[0];
        assert_int_equal(cxw_dispatch_queued(d), 7);
        assert_int_equal(cxw_dispatch_ready(d), 2);

        cxw_dispatch_remove_if(d, on_partition, record_removed, &ctx);

        /* removed: a[1], a[3] (in that order), b[0], b[1] (in that order) */
        assert_int_equal(ctx.nseen, 4);
        assert_int_equal(ctx.pred_calls_on_in_progress, 0);
        int ia1 = -1, ia3 = -1, ib0 = -1, ib1 = -1;
        for (int i = 0; i < ctx.nseen; i++) {
                if (ctx.seen[i] == &a[1])
                        ia1 = i;
                else if (ctx.seen[i] == &a[3])
                        ia3 = i;
                else if (ctx.seen[i] == &b[0])
                        ib0 = i;
                else if (ctx.seen[i] == &b[1])
                        ib1 = i;
                else
                        fail_msg("removed an item that does not match");
        }
        assert_true(ia1 >= 0 && ia3 > ia1);
        assert_true(ib0 >= 0 && ib1 > ib0);
        assert_int_equal(cxw_dispatch_queued(d), 3);
        /* b is gone entirely; only c is ready (a is in progress) */
        assert_int_equal(cxw_dispatch_ready(d), 1);
        assert_ptr_equal(cxw_dispatch_pop(d), &c[0]);
        assert_null(cxw_dispatch_pop(d));

        /* the in-progress a[0] is untouched; a's remaining order is kept */
        cxw_dispatch_release(d, "a");
        assert_ptr_equal(cxw_dispatch_pop(d), &a[2]);
        cxw_dispatch_release(d, "a");
        assert_ptr_equal(cxw_dispatch_pop(d), &a[4]);
        cxw_dispatch_release(d, "a");
        assert_null(cxw_dispatch_pop(d));
        cxw_dispatch_release(d, "c");
        cxw_dispatch_release(d, "b"); /* gone: harmless */
        assert_int_equal(cxw_dispatch_queued(d), 0);
        assert_int_equal(cxw_dispatch_ready(d), 0);

        /* a key emptied by remove_if while in progress keeps working */
        cxw_dispatch_push(d, "a", mk(&a[0], "a", 0, 1));
        cxw_dispatch_push(d, "a", mk(&a[1], "a", 1, 1));
        assert_ptr_equal(cxw_dispatch_pop(d), &a[0]);
        ctx.nseen = 0;
        ctx.in_progress = &a[0];
        cxw_dispatch_remove_if(d, on_partition, NULL, &ctx);
        assert_int_equal(cxw_dispatch_queued(d), 0);
        cxw_dispatch_push(d, "a", mk(&a[2], "a", 2, 2));
        assert_null(cxw_dispatch_pop(d)); /* a[0] still in progress */
        cxw_dispatch_release(d, "a");
        assert_ptr_equal(cxw_dispatch_pop(d), &a[2]);
        cxw_dispatch_release(d, "a");
}

static void release_of_unknown_or_idle_key_is_harmless(void **state)
{
        cxw_dispatch_t *d = *state;
        item_t a, b;

        cxw_dispatch_release(d, "never-seen");
        cxw_dispatch_release(d, NULL);
        cxw_dispatch_release(NULL, "x");
        assert_int_equal(cxw_dispatch_queued(d), 0);

        /* a release without a pop does not make a second item ready */
        cxw_dispatch_push(d, "k", mk(&a, "k", 0, 0));
        cxw_dispatch_push(d, "k", mk(&b, "k", 1, 0));
        cxw_dispatch_release(d, "k");
        assert_int_equal(cxw_dispatch_ready(d), 1);
        assert_ptr_equal(cxw_dispatch_pop(d), &a);
        assert_null(cxw_dispatch_pop(d));
        /* a double release after one pop does not either */
        cxw_dispatch_release(d, "k");
        cxw_dispatch_release(d, "k");
        assert_int_equal(cxw_dispatch_ready(d), 1);
        assert_ptr_equal(cxw_dispatch_pop(d), &b);
        cxw_dispatch_release(d, "k");
        cxw_dispatch_release(d, "k");
        assert_int_equal(cxw_dispatch_queued(d), 0);
        assert_int_equal(cxw_dispatch_ready(d), 0);

        /* NULL handles */
        assert_null(cxw_dispatch_pop(NULL));
        assert_int_equal(cxw_dispatch_push(NULL, "k", &a), -1);
        assert_int_equal(cxw_dispatch_queued(NULL), 0);
        assert_int_equal(cxw_dispatch_ready(NULL), 0);
        cxw_dispatch_destroy(NULL);
}

static void destroy_with_queued_items_does_not_free_them(void **state)
{
        cxw_dispatch_t *d = cxw_dispatch_new();
        item_t a, b;

        (void)state;
        assert_non_null(d);
        cxw_dispatch_push(d, "x",
                          mk(&a, "x", 0, 0)); /* stack items: freeing would crash */
        cxw_dispatch_push(d, "x", mk(&b, "x", 1, 0));
        assert_ptr_equal(cxw_dispatch_pop(d), &a);
        cxw_dispatch_destroy(d);
}

/* Random pushes, pops and releases against a simple model: per-key order and
 * at most one in progress per key always hold, and the counts match. */
static void random_operations_keep_per_key_order_and_counts(void **state)
{
        cxw_dispatch_t *d = *state;
        enum { KEYS = 50, OPS = 200000, MAXITEMS = OPS };
        int next_push[KEYS] = {0}, next_pop[KEYS] = {0}, busy[KEYS] = {0};
        item_t *pool = calloc(MAXITEMS, sizeof(*pool));
        int npool = 0;
        size_t queued = 0;
        uint64_t rng = 0xABCDEF12345ULL;
        int inprog[KEYS], ninprog = 0;
        char key[24];

        assert_non_null(pool);
        for (int op = 0; op < OPS; op++) {
                uint64_t r = cxw_rand64(&rng);
                int k = (int)((r >> 8) % KEYS);
                switch (r % 3) {
                case 0:
                        if (npool >= MAXITEMS)
                                break;
                        snprintf(key, sizeof(key), "key-%d", k);
                        assert_int_equal(
                            cxw_dispatch_push(d, key,
                                              mk(&pool[npool], key, next_push[k]++, k)),
                            0);
                        npool++;
                        queued++;
                        break;
                case 1: {
                        item_t *it = cxw_dispatch_pop(d);
                        if (!it) {
                                /* nothing ready: every key with queued items is busy */
                                for (int j = 0; j < KEYS; j++)
                                        assert_true(busy[j] ||
                                                    next_pop[j] == next_push[j]);
                                break;
                        }
                        int j = it->partition;
                        assert_false(busy[j]);
                        assert_int_equal(it->seq, next_pop[j]);
                        next_pop[j]++;
                        busy[j] = 1;
                        inprog[ninprog++] = j;
                        queued--;
                        break;
                }
                default:
                        if (ninprog == 0)
                                break;
                        {
                                int idx = (int)((r >> 20) % (uint64_t)ninprog);
                                int j = inprog[idx];
                                inprog[idx] = inprog[--ninprog];
                                busy[j] = 0;
                                snprintf(key, sizeof(key), "key-%d", j);
                                cxw_dispatch_release(d, key);
                        }
                        break;
                }
                assert_int_equal(cxw_dispatch_queued(d), queued);
                size_t ready = 0;
                for (int j = 0; j < KEYS; j++)
                        ready += !busy[j] && next_pop[j] < next_push[j];
                assert_int_equal(cxw_dispatch_ready(d), ready);
        }
        free(pool);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(
                one_key_leaves_in_push_order_never_two_in_progress, setup, teardown),
            cmocka_unit_test_setup_teardown(push_while_in_progress_waits_for_release,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(different_keys_interleave_without_waiting,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(
                hot_key_with_1000_items_does_not_delay_100_other_keys, setup, teardown),
            cmocka_unit_test_setup_teardown(
                ten_thousand_distinct_keys_are_all_ready_at_once, setup, teardown),
            cmocka_unit_test_setup_teardown(
                remove_if_removes_only_matching_queued_items_and_keeps_order, setup,
                teardown),
            cmocka_unit_test_setup_teardown(release_of_unknown_or_idle_key_is_harmless,
                                            setup, teardown),
            cmocka_unit_test(destroy_with_queued_items_does_not_free_them),
            cmocka_unit_test_setup_teardown(
                random_operations_keep_per_key_order_and_counts, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

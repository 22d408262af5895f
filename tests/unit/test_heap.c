/* test_heap.c: the min-heap gives its items back in order, by value and by
 * pointer, and an owner told every index can remove any item. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/base/heap.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
        int64_t key;
        int seq;
} pair_t;

static int cmp_pair(const void *a, const void *b)
{
        const pair_t *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Pointer items that remember where they are, like the loop's timers. */
typedef struct {
        int64_t at;
        size_t index; /* + 1; 0 = not in the heap */
} node_t;

static int cmp_node(const void *a, const void *b)
{
        const node_t *x = *(node_t *const *)a, *y = *(node_t *const *)b;

        return x->at < y->at ? -1 : x->at > y->at;
}

static void index_node(void *item, size_t index)
{
        (*(node_t **)item)->index = index + 1;
}

static uint64_t rnd(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void empty_heap_has_no_top_and_pops_nothing(void **state)
{
        cxw_heap_t h;
        pair_t p;

        (void)state;
        cxw_heap_init(&h, sizeof(pair_t), cmp_pair, NULL);
        assert_null(cxw_heap_top(&h));
        assert_int_equal(cxw_heap_pop(&h, &p), -1);
        assert_int_equal(cxw_heap_remove(&h, 0, NULL), -1);
        assert_int_equal(cxw_heap_len(&h), 0);
        cxw_heap_fini(&h);
        cxw_heap_fini(NULL);
}

static void values_come_out_sorted_ties_by_seq(void **state)
{
        cxw_heap_t h;
        uint64_t s = 88172645463325252ULL;
        int64_t prev_key = INT64_MIN;
        int prev_seq = -1;

        (void)state;
        cxw_heap_init(&h, sizeof(pair_t), cmp_pair, NULL);
        for (int i = 0; i < 5000; i++) {
                pair_t p = {(int64_t)(rnd(&s) % 100), i};
                assert_int_equal(cxw_heap_push(&h, &p), 0);
        }
        assert_int_equal(cxw_heap_len(&h), 5000);
        for (int i = 0; i < 5000; i++) {
                pair_t p;
                const pair_t *top = cxw_heap_top(&h);
                assert_non_null(top);
                int64_t top_key = top->key;
                assert_int_equal(cxw_heap_pop(&h, &p), 0);
                assert_int_equal(p.key, top_key);
                assert_true(p.key > prev_key || (p.key == prev_key && p.seq > prev_seq));
                prev_key = p.key;
                prev_seq = p.seq;
        }
        assert_null(cxw_heap_top(&h));
        for (int i = 0; i < 10; i++) {
                pair_t p = {i, i};
                assert_int_equal(cxw_heap_push(&h, &p), 0);
        }
        cxw_heap_clear(&h);
        assert_int_equal(cxw_heap_len(&h), 0);
        assert_null(cxw_heap_top(&h));
        cxw_heap_fini(&h);
}

static void pushing_the_top_back_keeps_it_a_heap(void **state)
{
        cxw_heap_t h;

        (void)state;
        cxw_heap_init(&h, sizeof(pair_t), cmp_pair, NULL);
        for (int i = 0; i < 16; i++) { /* exactly full: the push reallocates */
                pair_t p = {i, i};
                assert_int_equal(cxw_heap_push(&h, &p), 0);
        }
        assert_int_equal(cxw_heap_push(&h, cxw_heap_top(&h)), 0);
        assert_int_equal(((pair_t *)cxw_heap_top(&h))->key, 0);
        assert_int_equal(cxw_heap_len(&h), 17);
        cxw_heap_fini(&h);
}

static void reserve_makes_room_ahead(void **state)
{
        cxw_heap_t h;

        (void)state;
        cxw_heap_init(&h, sizeof(pair_t), cmp_pair, NULL);
        assert_int_equal(cxw_heap_reserve(&h, 1000), 0);
        assert_true(h.cap >= 1000);
        assert_int_equal(cxw_heap_reserve(&h, 0), 0);
        assert_int_equal(cxw_heap_reserve(&h, (size_t)-1 / 4), -1);
        assert_int_equal(cxw_heap_len(&h), 0);
        cxw_heap_fini(&h);
}

static void oversized_items_are_refused(void **state)
{
        cxw_heap_t h;
        char big[CXW_HEAP_ITEM_MAX + 1] = {0};

        (void)state;
        cxw_heap_init(&h, sizeof(big), cmp_pair, NULL);
        assert_int_equal(cxw_heap_push(&h, big), -1);
        cxw_heap_fini(&h);
}

/* Every node's index says where it is; removing any node keeps the order. */
static void indexed_items_can_be_removed_anywhere(void **state)
{
        enum { N = 2000 };
        node_t *nodes = calloc(N, sizeof(*nodes));
        cxw_heap_t h;
        uint64_t s = 0x9e3779b97f4a7c15ULL;
        size_t live = N;

        (void)state;
        assert_non_null(nodes);
        cxw_heap_init(&h, sizeof(node_t *), cmp_node, index_node);
        for (size_t i = 0; i < N; i++) {
                node_t *n = &nodes[i];
                n->at = (int64_t)(rnd(&s) % 1000);
                assert_int_equal(cxw_heap_push(&h, &n), 0);
        }
        /* Remove half of them, chosen at random, by the index they hold. */
        for (size_t i = 0; i < N; i++) {
                node_t *n = &nodes[rnd(&s) % N], *out = NULL;
                if (!n->index)
                        continue;
                assert_ptr_equal(*(node_t **)((unsigned char *)h.items +
                                              (n->index - 1) * sizeof(node_t *)),
                                 n);
                assert_int_equal(cxw_heap_remove(&h, n->index - 1, &out), 0);
                assert_ptr_equal(out, n);
                n->index = 0;
                live--;
        }
        assert_int_equal(cxw_heap_len(&h), live);
        for (size_t i = 0; i < N; i++)
                if (nodes[i].index)
                        assert_ptr_equal(
                            *(node_t **)((unsigned char *)h.items +
                                         (nodes[i].index - 1) * sizeof(node_t *)),
                            &nodes[i]);
        /* The rest still come out in order. */
        int64_t prev = -1;
        while (cxw_heap_len(&h) > 0) {
                node_t *n = NULL;
                assert_int_equal(cxw_heap_pop(&h, &n), 0);
                assert_true(n->at >= prev);
                prev = n->at;
                live--;
        }
        assert_int_equal(live, 0);
        cxw_heap_fini(&h);
        free(nodes);
}

/* Removing a leaf whose replacement is smaller than its parent sifts up. */
static void removal_can_move_the_last_item_up(void **state)
{
        node_t n[7] = {{0, 0}, {50, 0}, {1, 0}, {60, 0}, {70, 0}, {2, 0}, {3, 0}};
        cxw_heap_t h;
        node_t *out;

        (void)state;
        cxw_heap_init(&h, sizeof(node_t *), cmp_node, index_node);
        for (int i = 0; i < 7; i++) {
                node_t *p = &n[i];
                assert_int_equal(cxw_heap_push(&h, &p), 0);
        }
        /* 60 sits under 50; the last item (3) fills its hole and must rise. */
        assert_int_equal(cxw_heap_remove(&h, n[3].index - 1, &out), 0);
        assert_ptr_equal(out, &n[3]);
        int64_t want[] = {0, 1, 2, 3, 50, 70};
        for (int i = 0; i < 6; i++) {
                assert_int_equal(cxw_heap_pop(&h, &out), 0);
                assert_int_equal(out->at, want[i]);
        }
        cxw_heap_fini(&h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(empty_heap_has_no_top_and_pops_nothing),
            cmocka_unit_test(values_come_out_sorted_ties_by_seq),
            cmocka_unit_test(pushing_the_top_back_keeps_it_a_heap),
            cmocka_unit_test(reserve_makes_room_ahead),
            cmocka_unit_test(oversized_items_are_refused),
            cmocka_unit_test(indexed_items_can_be_removed_anywhere),
            cmocka_unit_test(removal_can_move_the_last_item_up),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

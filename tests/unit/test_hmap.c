/* test_hmap.c: the hash table finds, removes and iterates its entries; its
 * hash is SipHash-2-4 under a random key of each table, so keys crafted to
 * collide under the old fixed FNV-1a spread out like any others. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/base/hmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
        cxw_hmap_node_t node; /* first: the node is the entry */
        int value;
        char key[32];
} entry_t;

static bool eq_key(const cxw_hmap_node_t *node, const void *key)
{
        return strcmp(((const entry_t *)node)->key, key) == 0;
}

static entry_t *find(const cxw_hmap_t *m, const char *key)
{
        return (entry_t *)cxw_hmap_find(m, cxw_hmap_hash(m, key, strlen(key)), eq_key,
                                        key);
}

static int add(cxw_hmap_t *m, entry_t *e)
{
        return cxw_hmap_insert(m, &e->node, cxw_hmap_hash(m, e->key, strlen(e->key)));
}

/* The reference vectors of the SipHash paper (key 00..0f, message 00..). */
static void siphash_matches_the_reference_vectors(void **state)
{
        cxw_hmap_key_t k = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
        unsigned char msg[64];

        (void)state;
        for (int i = 0; i < 64; i++)
                msg[i] = (unsigned char)i;
        assert_true(cxw_hmap_siphash(&k, msg, 0) == 0x726fdb47dd0e0e31ULL);
        assert_true(cxw_hmap_siphash(&k, msg, 1) == 0x74f839c593dc67fdULL);
        assert_true(cxw_hmap_siphash(&k, msg, 8) == 0x93f5f5799a932462ULL);
        assert_true(cxw_hmap_siphash(&k, msg, 15) == 0xa129ca6149be45e5ULL);
        assert_true(cxw_hmap_siphash(&k, msg, 63) == 0x958a324ceb064572ULL);
}

static void insert_find_remove_and_count(void **state)
{
        enum { N = 5000 };
        entry_t *e = calloc(N, sizeof(*e));
        cxw_hmap_t m;

        (void)state;
        assert_non_null(e);
        cxw_hmap_init(&m);
        assert_null(find(&m, "nothing yet"));
        for (int i = 0; i < N; i++) {
                snprintf(e[i].key, sizeof(e[i].key), "contact-%d", i);
                e[i].value = i;
                assert_int_equal(add(&m, &e[i]), 0);
        }
        assert_int_equal(cxw_hmap_count(&m), N);
        assert_true(m.nbuckets >= N); /* grown: entries never outnumber buckets */
        for (int i = 0; i < N; i++) {
                char key[32];
                snprintf(key, sizeof(key), "contact-%d", i);
                entry_t *f = find(&m, key);
                assert_non_null(f);
                assert_int_equal(f->value, i);
        }
        assert_null(find(&m, "contact-5000"));
        for (int i = 0; i < N; i += 2)
                cxw_hmap_remove(&m, &e[i].node);
        assert_int_equal(cxw_hmap_count(&m), N / 2);
        assert_null(find(&m, "contact-0"));
        assert_non_null(find(&m, "contact-1"));
        assert_true(cxw_hmap_max_chain(&m) <= 12);
        cxw_hmap_fini(&m);
        cxw_hmap_fini(NULL);
        free(e);
}

static void iteration_sees_each_entry_once_and_may_remove_it(void **state)
{
        enum { N = 300 };
        entry_t e[N];
        int seen[N] = {0};
        cxw_hmap_t m;
        cxw_hmap_iter_t it = {0};
        cxw_hmap_node_t *n;

        (void)state;
        cxw_hmap_init(&m);
        assert_null(cxw_hmap_next(&m, &it)); /* empty, no buckets yet */
        for (int i = 0; i < N; i++) {
                snprintf(e[i].key, sizeof(e[i].key), "k%d", i);
                e[i].value = i;
                assert_int_equal(add(&m, &e[i]), 0);
        }
        memset(&it, 0, sizeof(it));
        while ((n = cxw_hmap_next(&m, &it))) {
                entry_t *x = (entry_t *)n;
                seen[x->value]++;
                if (x->value % 3 == 0) {
                        cxw_hmap_remove(&m, n);
                        memset(x, 0xa5, sizeof(*x)); /* as if freed */
                }
        }
        for (int i = 0; i < N; i++)
                assert_int_equal(seen[i], 1);
        assert_int_equal(cxw_hmap_count(&m), N - N / 3);
        cxw_hmap_fini(&m);
}

/* Security finding: the same key must not land in the same bucket of every
 * table (FNV-1a with its fixed offset basis did), so two tables, or two
 * runs, hash it differently. */
static void each_table_has_its_own_key(void **state)
{
        cxw_hmap_t a, b;
        const char *id = "contact-42";
        int same = 0;

        (void)state;
        cxw_hmap_init(&a);
        cxw_hmap_init(&b);
        assert_true(a.key.k0 != b.key.k0 || a.key.k1 != b.key.k1);
        assert_true(cxw_hmap_hash(&a, id, strlen(id)) ==
                    cxw_hmap_hash(&a, id, strlen(id)));
        /* Different keys: for 64 ids the low 16 bits agree by chance about
         * once in a thousand tables; all of them, never. */
        for (int i = 0; i < 64; i++) {
                char k[32];
                snprintf(k, sizeof(k), "contact-%d", i);
                same += (cxw_hmap_hash(&a, k, strlen(k)) & 0xffff) ==
                        (cxw_hmap_hash(&b, k, strlen(k)) & 0xffff);
        }
        assert_true(same < 4);
        cxw_hmap_fini(&a);
        cxw_hmap_fini(&b);
}

/* The dispatcher's old hash: 64-bit FNV-1a, folded. */
static uint64_t old_fnv(const char *s)
{
        uint64_t h = 1469598103934665603ULL;

        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ULL;
        }
        return h ^ (h >> 31);
}

/* Contact ids chosen so that the old hash puts them all in one bucket (the
 * attack of the finding) spread out over this table's buckets. */
static void keys_colliding_under_fnv_do_not_chain(void **state)
{
        enum { N = 200, BITS = 12 };
        entry_t *e = calloc(N, sizeof(*e));
        uint64_t target = old_fnv("contact-0") & ((1u << BITS) - 1);
        cxw_hmap_t m;
        int n = 0;

        (void)state;
        assert_non_null(e);
        for (unsigned i = 0; n < N; i++) {
                char k[32];
                snprintf(k, sizeof(k), "contact-%u", i);
                if ((old_fnv(k) & ((1u << BITS) - 1)) != target)
                        continue;
                memcpy(e[n].key, k, sizeof(k));
                e[n].value = n;
                n++;
        }
        cxw_hmap_init(&m);
        for (int i = 0; i < N; i++)
                assert_int_equal(add(&m, &e[i]), 0);
        /* The table has at most 2^BITS buckets: under the old hash, one
         * chain of N. */
        assert_true(m.nbuckets <= (1u << BITS));
        assert_true(cxw_hmap_max_chain(&m) <= 10);
        for (int i = 0; i < N; i++)
                assert_ptr_equal(find(&m, e[i].key), &e[i]);
        cxw_hmap_fini(&m);
        free(e);
}

static void random_keys_differ_from_call_to_call(void **state)
{
        cxw_hmap_key_t a, b;

        (void)state;
        cxw_hmap_key_random(&a);
        cxw_hmap_key_random(&b);
        assert_true(a.k0 != b.k0 || a.k1 != b.k1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(siphash_matches_the_reference_vectors),
            cmocka_unit_test(insert_find_remove_and_count),
            cmocka_unit_test(iteration_sees_each_entry_once_and_may_remove_it),
            cmocka_unit_test(each_table_has_its_own_key),
            cmocka_unit_test(keys_colliding_under_fnv_do_not_chain),
            cmocka_unit_test(random_keys_differ_from_call_to_call),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_bucket.c: the token bucket alone, driven by a hand-held clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "cxone/flow/bucket.h"

#define T0 1000000

static void assert_near(double got, double want, double tol)
{
        if (fabs(got - want) > tol)
                fail_msg("got %f, want %f (+-%f)", got, want, tol);
}

/* A bucket of rate and depth, full at T0. */
static cxw_bucket_t full_bucket(double rate, double depth)
{
        cxw_bucket_t k;

        cxw_bucket_init(&k, T0);
        cxw_bucket_set(&k, rate, depth);
        cxw_bucket_set_tokens(&k, depth);
        return k;
}

static void test_a_new_bucket_is_empty_and_unlimited(void **state)
{
        (void)state;
        cxw_bucket_t k;

        cxw_bucket_init(&k, T0);
        assert_true(k.tokens == 0 && k.rate == 0 && k.last_ms == T0);
        /* Unlimited: never a wait, never full, taking changes nothing. */
        assert_int_equal(cxw_bucket_wait(&k), 0);
        assert_false(cxw_bucket_full(&k));
        cxw_bucket_take(&k);
        assert_true(k.tokens == 0);
}

static void test_refill_accrues_at_the_rate_up_to_the_depth(void **state)
{
        (void)state;
        cxw_bucket_t k;

        cxw_bucket_init(&k, T0);
        cxw_bucket_set(&k, 100, 10);
        cxw_bucket_refill(&k, T0 + 50);
        assert_near(k.tokens, 5, 1e-9);
        assert_false(cxw_bucket_full(&k));
        cxw_bucket_refill(&k, T0 + 1000);
        assert_near(k.tokens, 10, 1e-9);
        assert_true(cxw_bucket_full(&k));
        /* A clock that goes back changes nothing. */
        cxw_bucket_refill(&k, T0 + 10);
        assert_true(k.last_ms == T0 + 1000);
        assert_near(k.tokens, 10, 1e-9);
}

static void test_wait_is_the_ms_to_the_next_token(void **state)
{
        (void)state;
        cxw_bucket_t k = full_bucket(100, 2);

        cxw_bucket_take(&k);
        assert_int_equal(cxw_bucket_wait(&k), 0);
        cxw_bucket_take(&k);
        assert_int_equal(cxw_bucket_wait(&k), 10);
        cxw_bucket_refill(&k, T0 + 9);
        assert_int_equal(cxw_bucket_wait(&k), 1);
        cxw_bucket_refill(&k, T0 + 10);
        assert_int_equal(cxw_bucket_wait(&k), 0);
}

static void test_tenths_of_a_token_add_up_to_one(void **state)
{
        (void)state;
        /* 100/s seen every ms: ten additions of 0.1 make a whole token. */
        cxw_bucket_t k = full_bucket(100, 1);

        cxw_bucket_take(&k);
        for (int64_t t = T0 + 1; t < T0 + 10; t++) {
                cxw_bucket_refill(&k, t);
                assert_true(cxw_bucket_wait(&k) >= 1);
        }
        cxw_bucket_refill(&k, T0 + 10);
        assert_int_equal(cxw_bucket_wait(&k), 0);
}

static void test_a_tiny_rate_waits_at_most_an_hour(void **state)
{
        (void)state;
        cxw_bucket_t k = full_bucket(1e-9, 1);

        cxw_bucket_take(&k);
        assert_int_equal(cxw_bucket_wait(&k), 3600 * 1000);
}

static void test_set_caps_tokens_at_the_new_depth(void **state)
{
        (void)state;
        cxw_bucket_t k = full_bucket(100, 9);

        cxw_bucket_set(&k, 50, 4.5);
        assert_near(k.tokens, 4.5, 1e-12);
        assert_near(k.rate, 50, 1e-12);
        /* A deeper bucket keeps its tokens. */
        cxw_bucket_set(&k, 50, 9);
        assert_near(k.tokens, 4.5, 1e-12);
}

static void test_set_tokens_and_cap(void **state)
{
        (void)state;
        cxw_bucket_t k = full_bucket(100, 9);

        cxw_bucket_cap(&k, 1);
        assert_near(k.tokens, 1, 1e-12);
        cxw_bucket_cap(&k, 5); /* a cap above the level leaves it */
        assert_near(k.tokens, 1, 1e-12);
        cxw_bucket_set_tokens(&k, 20); /* at most the depth */
        assert_near(k.tokens, 9, 1e-12);
        cxw_bucket_set(&k, 100, 0.5);
        cxw_bucket_set_tokens(&k, 1);
        assert_near(k.tokens, 0.5, 1e-12);
}

static void test_empty_until_accrues_only_from_then(void **state)
{
        (void)state;
        cxw_bucket_t k = full_bucket(100, 10);

        cxw_bucket_empty_until(&k, T0 + 1000);
        assert_int_equal(cxw_bucket_wait(&k), 10);
        /* Before that time nothing accrues. */
        cxw_bucket_refill(&k, T0 + 500);
        assert_near(k.tokens, 0, 1e-12);
        cxw_bucket_refill(&k, T0 + 1010);
        assert_near(k.tokens, 1, 1e-9);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_a_new_bucket_is_empty_and_unlimited),
            cmocka_unit_test(test_refill_accrues_at_the_rate_up_to_the_depth),
            cmocka_unit_test(test_wait_is_the_ms_to_the_next_token),
            cmocka_unit_test(test_tenths_of_a_token_add_up_to_one),
            cmocka_unit_test(test_a_tiny_rate_waits_at_most_an_hour),
            cmocka_unit_test(test_set_caps_tokens_at_the_new_depth),
            cmocka_unit_test(test_set_tokens_and_cap),
            cmocka_unit_test(test_empty_until_accrues_only_from_then),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

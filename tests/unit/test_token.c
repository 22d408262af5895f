/* test_token.c: the OAuth token cache, driven by a hand-held clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/log.h"
#include "cxone/io/token.h"

#define AHEAD 60000
#define BASE  100
#define CAP   30000

static const char ok_body[] =
    "{\"access_token\":\"tok-ABC\",\"expires_in\":3600,\"token_type\":\"Bearer\"}";

static cxw_token_t *new_cache(void)
{
        cxw_token_t *t = cxw_token_new(AHEAD, BASE, CAP);
        assert_non_null(t);
        return t;
}

/* Runs one fetch answered by (status, body) at now. */
static int fetch(cxw_token_t *t, long status, const char *body, int64_t now, char *err,
                 size_t errsz)
{
        cxw_token_fetch_started(t, now);
        return cxw_token_fetch_done(t, status, body, strlen(body), now, err, errsz);
}

static void fetch_ok(cxw_token_t *t, const char *body, int64_t now)
{
        char err[256] = "";
        int rc = fetch(t, 200, body, now, err, sizeof(err));
        if (rc != 0)
                fail_msg("fetch failed: %s", err);
}

static void test_empty_cache_needs_fetch_and_serves_nothing(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();

        assert_null(cxw_token_get(t, 1000, NULL));
        assert_int_equal(cxw_token_need_fetch(t, 1000), 1);
        assert_true(cxw_token_next_fetch_at(t) <= 1000);
        cxw_token_destroy(t);
}

static void test_single_flight_many_requesters_one_fetch(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        int started = 0;

        /* 50 requests wanting a token at the same moment. */
        for (int i = 0; i < 50; i++) {
                if (cxw_token_need_fetch(t, 1000)) {
                        cxw_token_fetch_started(t, 1000);
                        started++;
                }
        }
        assert_int_equal(started, 1);
        assert_int_equal(cxw_token_need_fetch(t, 5000), 0);
        assert_true(cxw_token_next_fetch_at(t) == INT64_MAX);
        cxw_token_destroy(t);
}

static void test_fetch_done_stores_token_generation_1(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        uint64_t gen = 0;

        fetch_ok(t, ok_body, 1000);
        assert_string_equal(cxw_token_get(t, 1000, &gen), "tok-ABC");
        assert_int_equal(gen, 1);
        assert_int_equal(cxw_token_need_fetch(t, 1000), 0);
        assert_int_equal(cxw_token_fetches_ok(t), 1);
        assert_int_equal(cxw_token_fetches_failed(t), 0);
        cxw_token_destroy(t);
}

static void test_short_token_refreshes_at_nine_tenths(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();

        /* 3 s lifetime, 60 s ahead: the margin is lifetime/10 = 300 ms. */
        fetch_ok(t, "{\"access_token\":\"short\",\"expires_in\":3}", 0);
        assert_int_equal(cxw_token_next_fetch_at(t), 2700);
        assert_int_equal(cxw_token_need_fetch(t, 2699), 0);
        assert_int_equal(cxw_token_need_fetch(t, 2700), 1);
        cxw_token_destroy(t);
}

static void test_long_token_refreshes_refresh_ahead_before_expiry(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();

        fetch_ok(t, ok_body, 0);
        assert_int_equal(cxw_token_next_fetch_at(t), 3540000);
        assert_int_equal(cxw_token_need_fetch(t, 3539999), 0);
        assert_int_equal(cxw_token_need_fetch(t, 3540000), 1);
        cxw_token_destroy(t);
}

static void test_token_served_during_refresh_until_expiry(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();

        fetch_ok(t, ok_body, 0);
        cxw_token_fetch_started(t, 3540000);
        assert_int_equal(cxw_token_need_fetch(t, 3550000), 0);
        assert_string_equal(cxw_token_get(t, 3540000, NULL), "tok-ABC");
        assert_string_equal(cxw_token_get(t, 3599999, NULL), "tok-ABC");
        assert_null(cxw_token_get(t, 3600000, NULL));
        /* The refresh answers: the new token is served. */
        assert_int_equal(fetch(t, 200, "{\"access_token\":\"tok-2\"}", 3600001, NULL, 0),
                         0);
        assert_string_equal(cxw_token_get(t, 3600001, NULL), "tok-2");
        cxw_token_destroy(t);
}

static void test_failed_refresh_keeps_serving_the_old_token_until_expiry(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        int64_t next;

        fetch_ok(t, ok_body, 0);
        cxw_token_fetch_started(t, 3540000);
        cxw_token_fetch_failed(t, 3540000);
        next = cxw_token_next_fetch_at(t);
        assert_true(next > 3540000 && next <= 3540000 + BASE);
        assert_int_equal(cxw_token_need_fetch(t, next - 1), 0);
        assert_int_equal(cxw_token_need_fetch(t, next), 1);
        assert_string_equal(cxw_token_get(t, next, NULL), "tok-ABC");
        assert_null(cxw_token_get(t, 3600000, NULL));
        cxw_token_destroy(t);
}

static void test_expired_token_is_not_served_and_fetch_is_needed(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();

        fetch_ok(t, "{\"access_token\":\"x\",\"expires_in\":10}", 0);
        assert_non_null(cxw_token_get(t, 9999, NULL));
        assert_null(cxw_token_get(t, 10000, NULL));
        assert_null(cxw_token_get(t, 20000, NULL));
        assert_int_equal(cxw_token_need_fetch(t, 10000), 1);
        cxw_token_destroy(t);
}

static void test_invalidate_current_generation_drops_token(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        uint64_t gen = 0;

        fetch_ok(t, ok_body, 0);
        assert_non_null(cxw_token_get(t, 10, &gen));
        cxw_token_invalidate(t, gen);
        assert_null(cxw_token_get(t, 10, NULL));
        assert_int_equal(cxw_token_need_fetch(t, 10), 1);
        assert_true(cxw_token_next_fetch_at(t) <= 10);
        cxw_token_destroy(t);
}

static void test_concurrent_401s_cause_one_refetch(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        uint64_t gen1 = 0, gen2 = 0;
        int fetches = 0;

        fetch_ok(t, ok_body, 0);
        assert_non_null(cxw_token_get(t, 10, &gen1));
        /* 20 requests sent with generation 1 all come back 401. */
        for (int i = 0; i < 20; i++) {
                cxw_token_invalidate(t, gen1);
                if (cxw_token_need_fetch(t, 20)) {
                        fetch_ok(t, "{\"access_token\":\"tok-2\"}", 20);
                        fetches++;
                }
        }
        assert_int_equal(fetches, 1);
        assert_string_equal(cxw_token_get(t, 30, &gen2), "tok-2");
        assert_int_equal(gen2, 2);
        /* A stale 401 after the new token exists is ignored. */
        cxw_token_invalidate(t, gen1);
        assert_string_equal(cxw_token_get(t, 30, NULL), "tok-2");
        assert_int_equal(cxw_token_need_fetch(t, 30), 0);
        cxw_token_destroy(t);
}

static void test_failed_fetch_backs_off_within_cap(void **state)
{
        (void)state;

        for (int round = 0; round < 50; round++) {
                cxw_token_t *t = new_cache();
                int64_t next;

                cxw_token_fetch_started(t, 1000);
                cxw_token_fetch_failed(t, 1000);
                next = cxw_token_next_fetch_at(t);
                assert_true(next > 1000);
                assert_true(next <= 1000 + BASE);
                assert_int_equal(cxw_token_need_fetch(t, next - 1), 0);
                assert_int_equal(cxw_token_need_fetch(t, next), 1);
                assert_int_equal(cxw_token_fetches_failed(t), 1);
                cxw_token_destroy(t);
        }
}

static void test_repeated_failures_grow_backoff_ceiling_up_to_cap(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        int64_t now = 0, ceiling = BASE, longest_late = 0;

        for (int i = 1; i <= 20; i++) {
                int64_t delay;

                cxw_token_fetch_started(t, now);
                if (i % 2)
                        cxw_token_fetch_failed(t, now);
                else
                        assert_int_equal(fetch(t, 503, "oops", now, NULL, 0), -1);
                delay = cxw_token_next_fetch_at(t) - now;
                assert_true(delay >= 1);
                assert_true(delay <= ceiling);
                assert_true(delay <= CAP);
                if (i >= 6 && delay > longest_late)
                        longest_late = delay;
                now += delay;
                ceiling = ceiling * 2 > CAP ? CAP : ceiling * 2;
        }
        /* From the 6th failure on the ceiling is >= 3.2 s: fifteen draws all
         * <= 100 ms would have a probability below 1e-20. */
        assert_true(longest_late > BASE);
        assert_int_equal(cxw_token_fetches_failed(t), 20);
        cxw_token_destroy(t);
}

static void test_success_resets_backoff(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        int64_t now = 0, delay;
        uint64_t gen = 0;

        for (int i = 0; i < 10; i++) {
                cxw_token_fetch_started(t, now);
                cxw_token_fetch_failed(t, now);
                now = cxw_token_next_fetch_at(t);
        }
        fetch_ok(t, ok_body, now);
        assert_non_null(cxw_token_get(t, now, &gen));
        /* The next failure starts again from the base ceiling. */
        cxw_token_invalidate(t, gen);
        assert_int_equal(cxw_token_need_fetch(t, now), 1);
        cxw_token_fetch_started(t, now);
        cxw_token_fetch_failed(t, now);
        delay = cxw_token_next_fetch_at(t) - now;
        assert_true(delay >= 1 && delay <= BASE);
        cxw_token_destroy(t);
}

struct bad_answer {
        const char *what;
        long status;
        const char *body;
        const char *err_has; /* NULL: must succeed */
};

static void test_bad_answers_are_rejected_without_leaking_the_token(void **state)
{
        (void)state;
        static char huge[9000 + 64];
        static const struct bad_answer cases[] = {
            {"401 with error fields", 401,
             "{\"error\":\"invalid_client\",\"error_description\":\"bad secret\","
             "\"access_token\":\"SECRET-TOK\"}",
             "token endpoint answered HTTP 401: invalid_client (bad secret)"},
            {"401 with error only", 401, "{\"error\":\"invalid_client\"}",
             "token endpoint answered HTTP 401: invalid_client"},
            {"500 plain text", 500, "SECRET-TOK internal error",
             "token endpoint answered HTTP 500"},
            {"200 non-JSON", 200, "access_token=SECRET-TOK", "not valid JSON"},
            {"200 JSON array", 200, "[\"SECRET-TOK\"]", "not a JSON object"},
            {"200 missing access_token", 200, "{\"expires_in\":60}", "no access_token"},
            {"200 access_token number", 200, "{\"access_token\":12}", "no access_token"},
            {"200 empty access_token", 200, "{\"access_token\":\"\"}", "1..8192"},
            {"200 newline in token", 200, "{\"access_token\":\"SECRET\\r\\nX: y\"}",
             "not allowed"},
            {"expires_in negative", 200,
             "{\"access_token\":\"SECRET-TOK\",\"expires_in\":-5}", "expires_in"},
            {"expires_in zero", 200, "{\"access_token\":\"SECRET-TOK\",\"expires_in\":0}",
             "expires_in"},
            {"expires_in abc", 200,
             "{\"access_token\":\"SECRET-TOK\",\"expires_in\":\"abc\"}", "expires_in"},
            {"expires_in bool", 200,
             "{\"access_token\":\"SECRET-TOK\",\"expires_in\":true}", "expires_in"},
            {"expires_in \"120\" accepted", 200,
             "{\"access_token\":\"SECRET-TOK\",\"expires_in\":\"120\"}", NULL},
            {"token_type bearer lower case accepted", 200,
             "{\"access_token\":\"SECRET-TOK\",\"token_type\":\"bearer\"}", NULL},
            {"token_type mac", 200,
             "{\"access_token\":\"SECRET-TOK\",\"token_type\":\"mac\"}",
             "token_type \"mac\" is not Bearer"},
            {"token_type number", 200,
             "{\"access_token\":\"SECRET-TOK\",\"token_type\":1}", "token_type"},
            {"duplicate keys", 200,
             "{\"access_token\":\"SECRET-TOK\",\"access_token\":\"SECRET-TOK\"}",
             "not valid JSON"},
            {"huge token", 200, huge, "1..8192"},
        };

        memcpy(huge, "{\"access_token\":\"", 17);
        memset(huge + 17, 'S', 9000);
        memcpy(huge + 17 + 9000, "\"}", 3);

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct bad_answer *c = &cases[i];
                cxw_token_t *t = new_cache();
                char err[512] = "";
                int rc = fetch(t, c->status, c->body, 1000, err, sizeof(err));

                if (!c->err_has) {
                        if (rc != 0)
                                fail_msg("%s: rejected: %s", c->what, err);
                        assert_string_equal(cxw_token_get(t, 1000, NULL), "SECRET-TOK");
                        if (strstr(c->what, "120"))
                                assert_null(cxw_token_get(t, 1000 + 120000, NULL));
                        cxw_token_destroy(t);
                        continue;
                }
                if (rc != -1)
                        fail_msg("%s: accepted", c->what);
                if (!strstr(err, c->err_has))
                        fail_msg("%s: error \"%s\" lacks \"%s\"", c->what, err,
                                 c->err_has);
                if (strstr(err, "SECRET") || strstr(err, "SSSS"))
                        fail_msg("%s: error \"%s\" leaks the token", c->what, err);
                assert_null(cxw_token_get(t, 1000, NULL));
                assert_int_equal(cxw_token_need_fetch(t, 1000), 0);
                assert_int_equal(cxw_token_fetches_failed(t), 1);
                cxw_token_destroy(t);
        }
}

static void test_missing_expires_in_means_300_seconds(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();

        fetch_ok(t, "{\"access_token\":\"t\"}", 0);
        assert_non_null(cxw_token_get(t, 299999, NULL));
        assert_null(cxw_token_get(t, 300000, NULL));
        /* min(60 s, 30 s) = 30 s ahead. */
        assert_int_equal(cxw_token_next_fetch_at(t), 270000);
        cxw_token_destroy(t);
}

static void test_error_fields_are_truncated_to_200_chars(void **state)
{
        (void)state;
        cxw_token_t *t = new_cache();
        char body[1200], err[1024];

        snprintf(body, sizeof(body), "{\"error\":\"%0900d\"}", 7);
        assert_int_equal(fetch(t, 400, body, 0, err, sizeof(err)), -1);
        assert_true(strlen(err) < 300);
        assert_non_null(strstr(err, "HTTP 400"));
        cxw_token_destroy(t);
}

static void test_basic_auth_is_rfc6749_form_encoded_base64(void **state)
{
        (void)state;
        /* base64("client%3A1:s%26e+cret") */
        char *h = cxw_token_basic_auth("client:1", "s&e cret");

        assert_non_null(h);
        assert_string_equal(h, "Authorization: Basic Y2xpZW50JTNBMTpzJTI2ZStjcmV0");
        assert_null(strchr(h, '\n'));
        free(h);
}

static void test_form_urlencode_keeps_unreserved_and_escapes_the_rest(void **state)
{
        (void)state;
        char *s = cxw_form_urlencode("aZ09-._~ &/=+é");

        assert_string_equal(s, "aZ09-._~+%26%2F%3D%2B%C3%A9");
        free(s);
        s = cxw_form_urlencode("");
        assert_string_equal(s, "");
        free(s);
}

static void test_form_body_with_and_without_scope(void **state)
{
        (void)state;
        char *b = cxw_token_form_body(NULL);

        assert_string_equal(b, "grant_type=client_credentials");
        free(b);
        b = cxw_token_form_body("");
        assert_string_equal(b, "grant_type=client_credentials");
        free(b);
        b = cxw_token_form_body("RealTimeApi AdminApi");
        assert_string_equal(b,
                            "grant_type=client_credentials&scope=RealTimeApi+AdminApi");
        free(b);
}

/* Fetches over 60 simulated seconds, every 10 ms a loop round that fetches
 * when asked, each answered by body at once. */
static int fetches_in_60s(int64_t min_refresh_ms, const char *body)
{
        cxw_token_t *t = new_cache();
        int fetches = 0;
        char err[256];

        cxw_token_set_min_refresh(t, min_refresh_ms);
        for (int64_t now = 0; now < 60000; now += 10) {
                if (!cxw_token_need_fetch(t, now))
                        continue;
                fetches++;
                fetch(t, 200, body, now, err, sizeof(err));
                /* the loop's timer agrees with need_fetch */
                assert_true(cxw_token_next_fetch_at(t) > now);
        }
        cxw_token_destroy(t);
        return fetches;
}

/* Security finding 8: expires_in 1 (or 0) must not make a fetch storm: with
 * the floor at 30 s, at most one fetch per 30 s (0 and 30 s in 60 s). */
static void test_short_expires_in_fetches_once_per_floor(void **state)
{
        static const char one[] = "{\"access_token\":\"t\",\"expires_in\":1}";
        static const char zero[] = "{\"access_token\":\"t\",\"expires_in\":0}";
        int n1, n0, unbounded;

        (void)state;
        n1 = fetches_in_60s(30000, one);
        n0 = fetches_in_60s(30000, zero);
        unbounded = fetches_in_60s(0, one);
        print_message("fetches in 60 s: expires_in 1: %d, expires_in 0: %d; "
                      "without the floor, expires_in 1: %d\n",
                      n1, n0, unbounded);
        assert_int_equal(n1, 2);
        assert_int_equal(n0, 2);
        assert_true(unbounded > 50); /* what the floor prevents */
}

/* The floor leaves a normal token's refresh alone and never holds back the
 * new token a 401 asks for. */
static void test_floor_keeps_normal_refresh_and_401(void **state)
{
        cxw_token_t *t = new_cache();
        uint64_t gen = 0;

        (void)state;
        cxw_token_set_min_refresh(t, 30000);
        fetch_ok(t, ok_body, 0); /* 3600 s: refresh 60 s ahead */
        assert_int_equal(cxw_token_need_fetch(t, 3539999), 0);
        assert_int_equal(cxw_token_need_fetch(t, 3540000), 1);
        fetch_ok(t, ok_body, 3540000);
        assert_non_null(cxw_token_get(t, 3540001, &gen));
        cxw_token_invalidate(t, gen); /* a 401, 1 ms after the fetch */
        assert_int_equal(cxw_token_need_fetch(t, 3540001), 1);
        cxw_token_destroy(t);
}

static void test_null_cache_is_safe(void **state)
{
        (void)state;
        char err[64];

        cxw_token_destroy(NULL);
        assert_null(cxw_token_get(NULL, 0, NULL));
        assert_int_equal(cxw_token_need_fetch(NULL, 0), 0);
        assert_int_equal(cxw_token_fetch_done(NULL, 200, "{}", 2, 0, err, sizeof(err)),
                         -1);
        cxw_token_invalidate(NULL, 1);
        cxw_token_fetch_failed(NULL, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_empty_cache_needs_fetch_and_serves_nothing),
            cmocka_unit_test(test_single_flight_many_requesters_one_fetch),
            cmocka_unit_test(test_fetch_done_stores_token_generation_1),
            cmocka_unit_test(test_short_token_refreshes_at_nine_tenths),
            cmocka_unit_test(test_long_token_refreshes_refresh_ahead_before_expiry),
            cmocka_unit_test(test_token_served_during_refresh_until_expiry),
            cmocka_unit_test(
                test_failed_refresh_keeps_serving_the_old_token_until_expiry),
            cmocka_unit_test(test_expired_token_is_not_served_and_fetch_is_needed),
            cmocka_unit_test(test_invalidate_current_generation_drops_token),
            cmocka_unit_test(test_concurrent_401s_cause_one_refetch),
            cmocka_unit_test(test_failed_fetch_backs_off_within_cap),
            cmocka_unit_test(test_repeated_failures_grow_backoff_ceiling_up_to_cap),
            cmocka_unit_test(test_success_resets_backoff),
            cmocka_unit_test(test_bad_answers_are_rejected_without_leaking_the_token),
            cmocka_unit_test(test_missing_expires_in_means_300_seconds),
            cmocka_unit_test(test_error_fields_are_truncated_to_200_chars),
            cmocka_unit_test(test_basic_auth_is_rfc6749_form_encoded_base64),
            cmocka_unit_test(test_form_urlencode_keeps_unreserved_and_escapes_the_rest),
            cmocka_unit_test(test_form_body_with_and_without_scope),
            cmocka_unit_test(test_short_expires_in_fetches_once_per_floor),
            cmocka_unit_test(test_floor_keeps_normal_refresh_and_401),
            cmocka_unit_test(test_null_cache_is_safe),
        };

        cxw_log_threshold = CXW_LOG_ERROR;
        return cmocka_run_group_tests(tests, NULL, NULL);
}

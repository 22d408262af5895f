/* test_worker_batches.c: the address-book target through the worker's
 * pipeline, on the fake Kafka and HTTP (fakes.h): updates go many per PUT,
 * each message gets its own outcome and audit event, a refused batch is
 * bisected until the bad entry stands alone, a 503 retries the whole batch,
 * and a contact's next update waits for the batch of its previous one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes.h"
#include "cxone/base/util.h"

#define TC  "t.contacts"
#define URL "https://cxone.test/address-books/1001/dynamic-entries?fullLoad=false"

static fx_t *start(void)
{
        cxw_config_t *cfg;

        setenv("CXONE_CONTACTS_TARGET", "address-book", 1);
        setenv("CXONE_ADDRESS_BOOK_ID", "1001", 1);
        cfg = fx_config(NULL);
        unsetenv("CXONE_CONTACTS_TARGET");
        unsetenv("CXONE_ADDRESS_BOOK_ID");
        return fx_start(cfg);
}

static void inject(const char *id, const char *name)
{
        char buf[256];

        fk_inject(TC, 0, id, fx_update(buf, sizeof(buf), id, name), NULL);
}

static long long jint(json_t *j, const char *name)
{
        return json_integer_value(json_object_get(j, name));
}

/* The outcome of contact id in t.results (the last one), parsed, or NULL. */
static json_t *outcome_of(const char *id)
{
        json_t *found = NULL;

        for (size_t i = 0; i < fk_produced_cnt("t.results"); i++) {
                json_t *j = fx_rec_json("t.results", i);

                if (!strcmp(fx_jstr(j, "contactId"), id)) {
                        json_decref(found);
                        found = j;
                } else {
                        json_decref(j);
                }
        }
        return found;
}

static size_t entries_in(const fh_req_t *r)
{
        json_t *j = json_loads(r->body, 0, NULL);
        size_t n;

        assert_non_null(j);
        n = json_array_size(json_object_get(j, "addressBookEntries"));
        json_decref(j);
        return n;
}

static int no_jobs(fx_t *f)
{
        return f->w->njobs == 0;
}

/* four contacts in one PUT, one outcome each; the second update of c-1
 * waits for the first one's batch and goes in the next */
static void test_one_put_one_outcome_per_message(void **state)
{
        fx_t *f = start();
        char first_key[128];
        fh_req_t *r;
        json_t *j;

        (void)state;
        inject("c-1", "Ann");
        inject("c-2", "Bob");
        inject("c-3", "Cy");
        inject("c-4", "Di");
        inject("c-1", "Ann2");
        fx_round(f, 0);
        assert_int_equal(fh_started("PUT", NULL), 1);
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        assert_string_equal(r->url, URL);
        assert_string_equal(r->authorization, "Authorization: Bearer tok-1");
        assert_string_equal(r->body, "{\"addressBookEntries\":["
                                     "{\"externalId\":\"c-1\",\"firstName\":\"Ann\"},"
                                     "{\"externalId\":\"c-2\",\"firstName\":\"Bob\"},"
                                     "{\"externalId\":\"c-3\",\"firstName\":\"Cy\"},"
                                     "{\"externalId\":\"c-4\",\"firstName\":\"Di\"}]}");
        assert_non_null(fh_header(r, "Idempotency-Key"));
        cxw_strlcpy(first_key, fh_header(r, "Idempotency-Key"), sizeof(first_key));

        /* c-1's second update is not sent while its first is in flight */
        fx_spin(f, 10);
        assert_int_equal(fh_started("PUT", NULL), 1);
        fh_answer(r, 200, "{\"entriesUpserted\":4}", NULL);
        fx_round(f, 0);
        assert_int_equal(f->w->stats.succeeded, 4);
        assert_int_equal(fk_produced_cnt("t.results"), 4);
        assert_int_equal(fk_produced_cnt("t.audit"), 4);
        assert_int_equal(fk_produced_cnt("t.dlq"), 0);
        j = outcome_of("c-3");
        assert_non_null(j);
        assert_string_equal(fx_jstr(j, "status"), "succeeded");
        assert_int_equal(jint(j, "httpStatus"), 200);
        assert_int_equal(jint(j, "attempts"), 1);
        assert_true(json_is_integer(json_object_get(j, "latencyMs")));
        json_decref(j);

        /* now the second update of c-1, alone, under another key */
        fx_round(f, 0);
        assert_int_equal(fh_started("PUT", NULL), 2);
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        assert_string_equal(r->body, "{\"addressBookEntries\":["
                                     "{\"externalId\":\"c-1\",\"firstName\":\"Ann2\"}]}");
        assert_string_not_equal(fh_header(r, "Idempotency-Key"), first_key);
        fh_answer(r, 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.succeeded, 5);
        assert_int_equal(fk_produced_cnt("t.results"), 5);
        assert_int_equal(fk_stored(TC, 0), 5);
        assert_int_equal(f->w->ab_batches, 2);
        assert_int_equal(f->w->ab_requests, 2);
        assert_int_equal(f->w->ab_entries, 5);
        assert_int_equal(f->w->ab_bisect_requests, 0);
        fx_free(f);
}

/* 400 to any body holding c-6, 200 to the others */
static int answer_bad_c6(fh_req_t *r, void *opaque)
{
        int *calls = opaque;

        (*calls)++;
        if (strstr(r->body, "\"c-6\""))
                fh_answer(r, 400,
                          "{\"error\":\"entry 0 (externalId c-6): email: not a valid "
                          "e-mail address\",\"field\":\"email\"}",
                          NULL);
        else
                fh_answer(r, 200, "{}", NULL);
        return 1;
}

/* a batch of 8 with one bad entry: halves until it stands alone, at most
 * 2 log2(8) = 6 extra requests; 7 succeed, c-6 is rejected naming the field */
static void test_bisection_isolates_the_bad_entry(void **state)
{
        fx_t *f = start();
        char id[16];
        int calls = 0;
        json_t *j;

        (void)state;
        for (int i = 1; i <= 8; i++) {
                snprintf(id, sizeof(id), "c-%d", i);
                inject(id, "N");
        }
        fx_round(f, 0);
        assert_int_equal(fh_started("PUT", NULL), 1);
        assert_int_equal(entries_in(fh_open("PUT", NULL)), 8);
        fh_set_responder(answer_bad_c6, &calls);
        assert_true(fx_until(f, no_jobs, 2000));
        fh_set_responder(NULL, NULL);
        assert_int_equal(calls, 7); /* 8, 4+4, 2+2, 1+1 */
        assert_int_equal(f->w->ab_requests, 7);
        assert_int_equal(f->w->ab_bisect_requests, 6);
        assert_int_equal(f->w->stats.succeeded, 7);
        assert_int_equal(f->w->stats.rejected, 1);
        assert_int_equal(fk_produced_cnt("t.results"), 8);
        assert_int_equal(fk_produced_cnt("t.audit"), 8);
        assert_int_equal(fk_produced_cnt("t.dlq"), 1);
        j = outcome_of("c-6");
        assert_string_equal(fx_jstr(j, "status"), "rejected");
        assert_int_equal(jint(j, "httpStatus"), 400);
        assert_int_equal(jint(j, "attempts"), 4);
        assert_non_null(strstr(fx_jstr(j, "error"), "CXone answered HTTP 400"));
        assert_non_null(strstr(fx_jstr(j, "error"), "email"));
        json_decref(j);
        j = outcome_of("c-5"); /* split with c-6 to the last level */
        assert_string_equal(fx_jstr(j, "status"), "succeeded");
        assert_int_equal(jint(j, "attempts"), 4);
        json_decref(j);
        j = outcome_of("c-1"); /* in the good half of the first split */
        assert_int_equal(jint(j, "attempts"), 2);
        json_decref(j);
        j = fx_rec_json("t.dlq", 0);
        json_decref(j);
        assert_string_equal(fk_produced("t.dlq", 0)->key, "c-6");
        assert_int_equal(fk_stored(TC, 0), 8);
        fx_free(f);
}

/* 503: the same entries go again, under the same Idempotency-Key, after a
 * backoff; then 200: every one succeeds after 2 attempts */
static void test_503_retries_the_whole_batch(void **state)
{
        fx_t *f = start();
        char key[128], body[512];
        fh_req_t *r;
        json_t *j;

        (void)state;
        inject("c-1", "A");
        inject("c-2", "B");
        inject("c-3", "C");
        fx_round(f, 0);
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        assert_int_equal(entries_in(r), 3);
        cxw_strlcpy(key, fh_header(r, "Idempotency-Key"), sizeof(key));
        cxw_strlcpy(body, r->body, sizeof(body));
        fh_answer(r, 503, "{\"error\":\"unavailable\"}", NULL);
        fx_round(f, 0);
        assert_int_equal(f->w->stats.http_5xx, 1);
        assert_int_equal(f->w->stats.retries_server, 1);
        assert_int_equal(fk_produced_cnt("t.results"), 0);
        for (int i = 0; i < 400 && fh_open_cnt() == 0; i++)
                fx_round(f, 1);
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        assert_string_equal(r->body, body);
        assert_string_equal(fh_header(r, "Idempotency-Key"), key);
        fh_answer(r, 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.succeeded, 3);
        j = outcome_of("c-2");
        assert_int_equal(jint(j, "attempts"), 2);
        assert_int_equal(jint(j, "httpStatus"), 200);
        json_decref(j);
        assert_int_equal(f->w->ab_requests, 2);
        assert_int_equal(f->w->ab_bisect_requests, 0);
        fx_free(f);
}

/* 429: the class pauses (Retry-After, capped at 40 ms here), then the same
 * entries go again and succeed */
static void test_429_pauses_then_resends_the_batch(void **state)
{
        fx_t *f;
        cxw_config_t *cfg;
        char body[512];
        int64_t answered;
        fh_req_t *r;
        json_t *j;

        (void)state;
        setenv("CXONE_CONTACTS_TARGET", "address-book", 1);
        setenv("CXONE_ADDRESS_BOOK_ID", "1001", 1);
        cfg = fx_config("rate = { rps = 100; };\n");
        unsetenv("CXONE_CONTACTS_TARGET");
        unsetenv("CXONE_ADDRESS_BOOK_ID");
        f = fx_start(cfg);
        inject("c-1", "A");
        inject("c-2", "B");
        fx_round(f, 0);
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        cxw_strlcpy(body, r->body, sizeof(body));
        fh_answer(r, 429, "{\"error\":\"rate limit exceeded\"}", "1");
        answered = cxw_now_ms();
        fx_round(f, 0);
        assert_int_equal(f->w->stats.http_429, 1);
        assert_int_equal(f->w->stats.retries_rate_limited, 1);
        for (int i = 0; i < 400 && fh_open_cnt() == 0; i++)
                fx_round(f, 1);
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        assert_true(r->started_ms - answered >= 39);
        assert_string_equal(r->body, body);
        fh_answer(r, 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.succeeded, 2);
        j = outcome_of("c-1");
        assert_int_equal(jint(j, "attempts"), 2);
        json_decref(j);
        fx_free(f);
}

/* 503 to every send of retry.max_attempts (3): every entry fails with its own outcome
 * and DLQ copy */
static void test_503_until_the_retry_budget_is_spent(void **state)
{
        fx_t *f = start();
        int answered = 0;
        json_t *j;

        (void)state;
        inject("c-1", "A");
        inject("c-2", "B");
        fx_round(f, 0);
        assert_int_equal(f->w->njobs, 2);
        for (int i = 0; i < 2000 && f->w->njobs > 0; i++) {
                fh_req_t *r = fh_open("PUT", NULL);

                if (r) {
                        fh_answer(r, 503, "{}", NULL);
                        answered++;
                }
                fx_round(f, 1);
        }
        assert_int_equal(f->w->njobs, 0);
        assert_int_equal(answered, 3); /* retry.max_attempts, as for one call */
        assert_int_equal(f->w->stats.failed, 2);
        assert_int_equal(fk_produced_cnt("t.dlq"), 2);
        j = outcome_of("c-1");
        assert_string_equal(fx_jstr(j, "status"), "failed");
        assert_int_equal(jint(j, "attempts"), 3);
        assert_int_equal(jint(j, "httpStatus"), 503);
        assert_non_null(strstr(fx_jstr(j, "error"), "gave up after 3 attempts"));
        json_decref(j);
        fx_free(f);
}

/* an update that cannot be an entry (here a bad e-mail address) is rejected
 * before any call, alone; the others go */
static void test_bad_update_is_rejected_before_the_batch(void **state)
{
        fx_t *f;
        json_t *j;

        (void)state;
        f = start();
        fk_inject(TC, 0, "c-1", "{\"contactId\":\"c-1\",\"email\":\"not-an-address\"}",
                  NULL);
        inject("c-2", "B");
        fx_round(f, 0);
        assert_int_equal(f->w->stats.rejected, 1);
        j = outcome_of("c-1");
        assert_string_equal(fx_jstr(j, "status"), "rejected");
        assert_non_null(strstr(fx_jstr(j, "error"), "email"));
        json_decref(j);
        assert_int_equal(entries_in(fh_open("PUT", NULL)), 1);
        fx_free(f);
}

/* revoke: updates waiting in the builder, and a batch waiting for its
 * retry, are handed over (abandoned, offsets not stored), never sent */
static void test_revoke_hands_over_waiting_entries(void **state)
{
        cxw_config_t *cfg;
        fx_t *f;
        fh_req_t *r;

        (void)state;
        setenv("CXONE_CONTACTS_TARGET", "address-book", 1);
        setenv("CXONE_ADDRESS_BOOK_ID", "1001", 1);
        cfg = fx_config(NULL);
        unsetenv("CXONE_CONTACTS_TARGET");
        unsetenv("CXONE_ADDRESS_BOOK_ID");
        cfg->max_in_flight = 1; /* the second batch waits in the builder */
        f = fx_start(cfg);
        inject("c-1", "A");
        inject("c-2", "B");
        inject("c-3", "C");
        fx_round(f, 0);
        r = fh_open("PUT", NULL);
        assert_non_null(r);
        assert_int_equal(entries_in(r), 3);
        inject("c-4", "D");
        inject("c-5", "E");
        fx_round(f, 0);
        assert_int_equal(f->w->njobs, 5);
        assert_int_equal(fh_started("PUT", NULL), 1);

        fh_answer(r, 503, "{}", NULL); /* given inside the revoke's drain */
        fk_revoke(TC, 0);
        assert_int_equal(f->w->stats.abandoned, 5);
        assert_int_equal(f->w->njobs, 0);
        fx_spin(f, 60);
        assert_int_equal(fh_started("PUT", NULL), 1);
        assert_int_equal(fk_produced_cnt("t.results"), 0);
        assert_int_equal(fk_stored(TC, 0), -1);
        fx_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_one_put_one_outcome_per_message, fx_teardown),
            cmocka_unit_test_teardown(test_bisection_isolates_the_bad_entry, fx_teardown),
            cmocka_unit_test_teardown(test_503_retries_the_whole_batch, fx_teardown),
            cmocka_unit_test_teardown(test_429_pauses_then_resends_the_batch,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_503_until_the_retry_budget_is_spent,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_revoke_hands_over_waiting_entries,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_bad_update_is_rejected_before_the_batch,
                                      fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

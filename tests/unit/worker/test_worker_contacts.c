/* test_worker_contacts.c: a contact update's life through the worker's
 * pipeline, on the fake Kafka and HTTP (fakes.h): consumed, called,
 * answered, its records produced and acknowledged, its offset stored; 429,
 * 5xx, 401 and 4xx answers; per-key order; revoke; backpressure. */
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

#define TC "t.contacts"

static int64_t inject(const char *id, const char *name, int32_t partition)
{
        char buf[256];

        return fk_inject(TC, partition, id, fx_update(buf, sizeof(buf), id, name), NULL);
}

static long long jint(json_t *j, const char *name)
{
        return json_integer_value(json_object_get(j, name));
}

static int no_jobs(fx_t *f)
{
        return f->w->njobs == 0;
}

static int one_open(fx_t *f)
{
        (void)f;
        return fh_open_cnt() >= 1;
}

/* consumed → one PATCH → 200 → outcome and audit → acknowledged → stored */
static void test_update_succeeds(void **state)
{
        static const char *const hdrs[] = {"batch-id", "b-1", "correlation-id", "corr-1",
                                           NULL};
        fx_t *f = fx_new(NULL);
        char buf[256], hv[64];
        fh_req_t *r;
        json_t *j;

        (void)state;
        fk_set_auto_ack(0);
        assert_int_equal(
            fk_inject(TC, 0, "c-1", fx_update(buf, sizeof(buf), "c-1", "Ann"), hdrs), 0);
        fx_round(f, 0);
        assert_int_equal(f->w->stats.consumed, 1);
        assert_int_equal(fh_started("PATCH", NULL), 1);
        r = fh_open("PATCH", NULL);
        assert_non_null(r);
        assert_string_equal(r->url, "https://cxone.test/api/v2/contacts/c-1");
        assert_string_equal(r->authorization, "Authorization: Bearer tok-1");
        assert_string_equal(r->content_type, "application/json");
        assert_string_equal(r->body, "{\"firstName\":\"Ann\"}");
        assert_string_equal(fh_header(r, "Idempotency-Key"), "t.contacts:0:0");

        /* no answer yet: nothing produced, nothing stored */
        fx_spin(f, 5);
        assert_int_equal(fk_produced_cnt("t.results"), 0);
        assert_int_equal(fh_started("PATCH", NULL), 1);

        fh_answer(r, 200, "{}", NULL);
        fx_round(f, 0);
        assert_int_equal(f->w->stats.succeeded, 1);
        assert_int_equal(fk_produced_cnt("t.results"), 1);
        assert_int_equal(fk_produced_cnt("t.audit"), 1);
        assert_int_equal(fk_produced_cnt("t.dlq"), 0);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fk_produced("t.results", 0)->key, "c-1");
        assert_string_equal(fx_jstr(j, "type"), "contact-update");
        assert_string_equal(fx_jstr(j, "status"), "succeeded");
        assert_string_equal(fx_jstr(j, "contactId"), "c-1");
        assert_int_equal(jint(j, "httpStatus"), 200);
        assert_int_equal(jint(j, "attempts"), 1);
        assert_string_equal(fx_jstr(j, "batchId"), "b-1");
        assert_string_equal(fx_jstr(j, "correlationId"), "corr-1");
        assert_int_equal(jint(json_object_get(j, "source"), "offset"), 0);
        json_decref(j);
        assert_string_equal(
            fk_rec_header(fk_produced("t.results", 0), "correlation-id", hv, sizeof(hv)),
            "corr-1");
        j = fx_rec_json("t.audit", 0);
        assert_string_equal(fx_jstr(j, "action"), "contact.updated");
        json_decref(j);

        /* stored only once Kafka acknowledged both records */
        fx_spin(f, 5);
        assert_int_equal(fk_stored(TC, 0), -1);
        assert_int_equal(f->w->njobs, 1);
        assert_int_equal(fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR), 2);
        fx_round(f, 0);
        assert_int_equal(fk_stored(TC, 0), 1);
        assert_int_equal(f->w->njobs, 0);
        assert_int_equal(f->w->bytes, 0);
        fx_free(f);
}

/* 429 with Retry-After: the class pauses (capped at retry.max_delay_ms,
 * 40 ms here); no call of any key goes out until the pause ends; then the
 * update is retried and succeeds. */
static void test_429_pauses_then_retries(void **state)
{
        fx_t *f = fx_new("rate = { rps = 100; };\n");
        fh_req_t *r;
        int64_t answered;
        json_t *j;

        (void)state;
        inject("c-1", "Ann", 0);
        fx_round(f, 0);
        r = fh_open("PATCH", "/c-1");
        assert_non_null(r);
        fh_answer(r, 429, "{\"message\":\"slow down\"}", "1");
        answered = cxw_now_ms();
        fx_round(f, 0);
        assert_int_equal(f->w->stats.http_429, 1);
        assert_int_equal(f->w->stats.retries_rate_limited, 1);

        inject("c-2", "Bob", 0); /* another key: waits for the pause too */
        fx_spin(f, 25);
        assert_int_equal(fh_started("PATCH", NULL), 1);
        assert_int_equal(fh_open_cnt(), 0);

        assert_true(fx_until(f, one_open, 1000));
        r = fh_open("PATCH", NULL);
        assert_true(r->started_ms - answered >= 39);
        fh_answer(r, 200, "{}", NULL);
        fx_round(f, 0);
        assert_true(fx_until(f, one_open, 1000));
        fh_answer(fh_open("PATCH", NULL), 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(fh_started("PATCH", "/c-1"), 2);
        assert_int_equal(fh_started("PATCH", "/c-2"), 1);
        assert_int_equal(f->w->stats.succeeded, 2);
        for (size_t i = 0; i < 2; i++) {
                j = fx_rec_json("t.results", i);
                if (strcmp(fx_jstr(j, "contactId"), "c-1") == 0)
                        assert_int_equal(jint(j, "attempts"), 2);
                json_decref(j);
        }
        assert_int_equal(fk_stored(TC, 0), 2);
        fx_free(f);
}

/* 400: rejected at once, no retry; the DLQ gets the message as consumed
 * with headers saying why. */
static void test_400_rejected_with_dlq_copy(void **state)
{
        static const char *const hdrs[] = {"batch-id", "b-9", NULL};
        fx_t *f = fx_new(NULL);
        char buf[256], hv[256];
        fk_rec_t *dlq;
        json_t *j;

        (void)state;
        fk_inject(TC, 0, "c-1", fx_update(buf, sizeof(buf), "c-1", "Ann"), hdrs);
        fx_round(f, 0);
        fh_answer(fh_open("PATCH", NULL), 400, "{\"message\":\"phone is invalid\"}",
                  NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(fh_started("PATCH", NULL), 1);
        assert_int_equal(f->w->stats.rejected, 1);
        assert_int_equal(f->w->stats.dlq_records, 1);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fx_jstr(j, "status"), "rejected");
        assert_int_equal(jint(j, "httpStatus"), 400);
        assert_non_null(strstr(fx_jstr(j, "error"), "HTTP 400: phone is invalid"));
        json_decref(j);
        j = fx_rec_json("t.audit", 0);
        assert_string_equal(fx_jstr(j, "action"), "contact.rejected");
        json_decref(j);

        assert_int_equal(fk_produced_cnt("t.dlq"), 1);
        dlq = fk_produced("t.dlq", 0);
        assert_string_equal(dlq->key, "c-1");
        assert_string_equal(dlq->value, buf);
        assert_string_equal(fk_rec_header(dlq, "dlq-status", hv, sizeof(hv)), "rejected");
        assert_string_equal(fk_rec_header(dlq, "dlq-http-status", hv, sizeof(hv)), "400");
        assert_string_equal(fk_rec_header(dlq, "dlq-source-topic", hv, sizeof(hv)), TC);
        assert_string_equal(fk_rec_header(dlq, "dlq-source-offset", hv, sizeof(hv)), "0");
        assert_string_equal(fk_rec_header(dlq, "dlq-worker", hv, sizeof(hv)), "w-test");
        assert_string_equal(fk_rec_header(dlq, "batch-id", hv, sizeof(hv)), "b-9");
        assert_non_null(
            strstr(fk_rec_header(dlq, "dlq-reason", hv, sizeof(hv)), "phone is invalid"));
        assert_int_equal(fk_stored(TC, 0), 1);
        fx_free(f);
}

/* An update that does not decode is rejected without a call. */
static void test_invalid_rejected_without_call(void **state)
{
        fx_t *f = fx_new(NULL);
        json_t *j;

        (void)state;
        fk_inject(TC, 0, "c-1", "{\"contactId\":\"c-1\",\"shoeSize\":\"44\"}", NULL);
        fx_round(f, 0);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(fh_started("PATCH", NULL), 0);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fx_jstr(j, "status"), "rejected");
        assert_int_equal(jint(j, "attempts"), 0);
        assert_non_null(strstr(fx_jstr(j, "error"), "unknown field 'shoeSize'"));
        json_decref(j);
        assert_int_equal(fk_produced_cnt("t.dlq"), 1);
        assert_int_equal(fk_stored(TC, 0), 1);
        fx_free(f);
}

/* 503 is retried with backoff up to retry.max_attempts (3), then failed. */
static void test_5xx_retried_then_failed(void **state)
{
        fx_t *f = fx_new(NULL);
        json_t *j;

        (void)state;
        inject("c-1", "Ann", 0);
        for (int i = 0; i < 3; i++) {
                assert_true(fx_until(f, one_open, 1000));
                fh_answer(fh_open("PATCH", NULL), 503, "{\"message\":\"busy\"}", NULL);
        }
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(fh_started("PATCH", NULL), 3);
        assert_int_equal(f->w->stats.failed, 1);
        assert_int_equal(f->w->stats.retries_server, 2);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fx_jstr(j, "status"), "failed");
        assert_int_equal(jint(j, "attempts"), 3);
        assert_non_null(strstr(fx_jstr(j, "error"), "gave up after 3 attempts"));
        json_decref(j);
        assert_int_equal(fk_produced_cnt("t.dlq"), 1);
        assert_int_equal(fk_stored(TC, 0), 1);
        fx_free(f);
}

/* 401: the token is dropped, a new one fetched, the call repeated with it. */
static void test_401_fetches_new_token(void **state)
{
        fx_t *f = fx_new(NULL);
        fh_req_t *r;

        (void)state;
        inject("c-1", "Ann", 0);
        fx_round(f, 0);
        fh_answer(fh_open("PATCH", NULL), 401, "{}", NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        assert_null(fh_open("PATCH", NULL)); /* waits for the token */
        r = fh_open("POST", f->cfg->token_url);
        assert_non_null(r);
        fh_answer(r, 200, "{\"access_token\":\"tok-2\",\"expires_in\":3600}", NULL);
        assert_true(fx_until(f, one_open, 1000));
        r = fh_open("PATCH", NULL);
        assert_string_equal(r->authorization, "Authorization: Bearer tok-2");
        fh_answer(r, 204, NULL, NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.succeeded, 1);
        assert_int_equal(f->w->stats.http_401, 1);
        fx_free(f);
}

/* Per-key order: a second update of a contact waits until the first ends;
 * other keys go on; offsets are stored as the contiguous done prefix. */
static void test_per_key_order(void **state)
{
        fx_t *f = fx_new(NULL);
        fh_req_t *a, *c;

        (void)state;
        inject("c-1", "A", 0); /* offset 0 */
        inject("c-1", "B", 0); /* 1 */
        inject("c-2", "C", 0); /* 2 */
        fx_round(f, 0);
        assert_int_equal(fh_open_cnt(), 2);
        a = fh_open("PATCH", "/c-1");
        c = fh_open("PATCH", "/c-2");
        assert_string_equal(a->body, "{\"firstName\":\"A\"}");

        fh_answer(c, 200, "{}", NULL);
        fx_spin(f, 5);
        assert_int_equal(fh_started("PATCH", "/c-1"), 1); /* B still waits for A */
        assert_int_equal(fk_stored(TC, 0), -1);           /* 2 is done, 0 and 1 not */

        fh_answer(a, 200, "{}", NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        assert_int_equal(fk_stored(TC, 0), 1);
        assert_non_null(fh_open("PATCH", "/c-1"));
        assert_string_equal(fh_open("PATCH", "/c-1")->body, "{\"firstName\":\"B\"}");
        fh_answer(fh_open("PATCH", "/c-1"), 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(fk_stored(TC, 0), 3);
        fx_free(f);
}

static int answer_c1(fh_req_t *r, void *opaque)
{
        (void)opaque;
        if (strcmp(r->method, "PATCH") != 0 || !strstr(r->url, "/c-1"))
                return 0;
        fh_answer(r, 200, "{}", NULL);
        return 1;
}

/* Revoke with work queued and in flight: the queued update is dropped (the
 * next owner consumes it), the one in flight is finished inside the hook
 * and its offset stored before the commit, and nothing beyond it; the
 * partition kept goes on. */
static void test_revoke_drops_queued_finishes_in_flight(void **state)
{
        fx_t *f = fx_new(NULL);
        int commits;
        json_t *j;

        (void)state;
        fk_assign(TC, 1);
        inject("c-1", "A", 1); /* P1 @0: in flight */
        inject("c-1", "B", 1); /* P1 @1: queued behind its key */
        inject("c-3", "C", 0); /* P0 @0: kept */
        fx_round(f, 0);
        assert_int_equal(fh_open_cnt(), 2);
        commits = fk_commit_cnt();

        fh_set_responder(answer_c1, NULL); /* answers inside the revoke's drain */
        fk_revoke(TC, 1);
        fh_set_responder(NULL, NULL);
        assert_int_equal(fk_commit_cnt(), commits + 1);
        assert_int_equal(f->w->stats.abandoned, 1);
        assert_int_equal(f->w->stats.succeeded, 1);
        assert_int_equal(fk_stored(TC, 1), 1); /* A done; B goes back to Kafka */
        assert_int_equal(fh_started("PATCH", "/c-1"), 1);
        assert_int_equal(fk_produced_cnt("t.results"), 1);
        j = fx_rec_json("t.results", 0);
        assert_int_equal(jint(json_object_get(j, "source"), "partition"), 1);
        json_decref(j);
        assert_int_equal(f->w->njobs, 1);

        /* after the revoke: B is never called, the kept partition goes on */
        fx_spin(f, 10);
        assert_int_equal(fh_started("PATCH", "/c-1"), 1);
        fh_answer(fh_open("PATCH", "/c-3"), 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(fk_stored(TC, 0), 1);
        assert_int_equal(fk_stored(TC, 1), 1);
        fx_free(f);
}

/* Backpressure: consumption pauses at limits.max_buffered_messages (4) and
 * resumes once the buffered requests fall to resume_ratio (0.5) of it. */
static void test_backpressure_pause_resume(void **state)
{
        fx_t *f =
            fx_new("limits = { max_buffered_messages = 4; resume_ratio = 0.5; };\n");
        char id[16];

        (void)state;
        for (int i = 0; i < 4; i++) {
                snprintf(id, sizeof(id), "c-%d", i);
                inject(id, "X", 0);
        }
        fx_round(f, 0);
        assert_int_equal(f->w->njobs, 4);
        assert_true(fk_is_paused());
        assert_int_equal(fk_pause_cnt(), 1);
        assert_int_equal(f->w->stats.pauses, 1);
        /* (Messages already in the consumer queue when the round began would
         * all be taken: the limit is checked before and after a batch.) */
        inject("c-4", "X", 0);
        inject("c-5", "X", 0);
        fx_spin(f, 5);
        assert_int_equal(fk_queued(), 2);
        assert_int_equal(f->w->njobs, 4);
        assert_int_equal(fh_open_cnt(), 4);

        fh_answer(fh_open("PATCH", "/c-0"), 200, "{}", NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        assert_int_equal(f->w->njobs, 3);
        assert_true(fk_is_paused()); /* 3 > 4 x 0.5 */
        assert_int_equal(fk_queued(), 2);

        fh_answer(fh_open("PATCH", "/c-1"), 200, "{}", NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        assert_int_equal(fk_resume_cnt(), 1);
        assert_int_equal(fk_queued(), 0); /* the two left came in */
        assert_int_equal(f->w->njobs, 4);
        assert_true(fk_is_paused()); /* and filled it again */
        assert_int_equal(fk_pause_cnt(), 2);
        fx_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_update_succeeds, fx_teardown),
            cmocka_unit_test_teardown(test_429_pauses_then_retries, fx_teardown),
            cmocka_unit_test_teardown(test_400_rejected_with_dlq_copy, fx_teardown),
            cmocka_unit_test_teardown(test_invalid_rejected_without_call, fx_teardown),
            cmocka_unit_test_teardown(test_5xx_retried_then_failed, fx_teardown),
            cmocka_unit_test_teardown(test_401_fetches_new_token, fx_teardown),
            cmocka_unit_test_teardown(test_per_key_order, fx_teardown),
            cmocka_unit_test_teardown(test_revoke_drops_queued_finishes_in_flight,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_backpressure_pause_resume, fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

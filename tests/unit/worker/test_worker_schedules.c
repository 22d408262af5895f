/* test_worker_schedules.c: a schedule import's life through the worker's
 * pipeline, on the fake Kafka and HTTP (fakes.h): submitted (POST with an
 * Idempotency-Key), 202 with a jobId, polled on loop timers with growing
 * intervals until COMPLETED or FAILED, its records produced and its offset
 * stored; the cap of imports in progress; polls that fail. Runs in
 * tests/unit (the import fixture is data/schedules/valid.json). */
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

#define TS       "t.schedules"
#define IMPORT   "https://cxone.test/api/v2/wfm/schedules/import"
#define JOBS     "https://cxone.test/api/v2/wfm/async-jobs/"
#define CALENDAR "cal-2026-03.frontline"

static char *valid_import(void)
{
        FILE *f = fopen("data/schedules/valid.json", "r");
        char *buf = calloc(1, 64 * 1024);
        size_t n;

        assert_non_null(f);
        assert_non_null(buf);
        n = fread(buf, 1, 64 * 1024 - 1, f);
        fclose(f);
        assert_true(n > 0);
        return buf;
}

static int64_t inject_import(const char *key, const char *const *headers)
{
        char *v = valid_import();
        int64_t off = fk_inject(TS, 0, key, v, headers);

        free(v);
        return off;
}

static int no_jobs(fx_t *f)
{
        return f->w->njobs == 0;
}

static int poll_open(fx_t *f)
{
        (void)f;
        return fh_open("GET", JOBS) != NULL;
}

/* submitted → 202 jobId → polls on timers (IN_PROGRESS, then COMPLETED) →
 * succeeded, with the submission's and the completion's audit events */
static void test_import_submitted_polled_completed(void **state)
{
        fx_t *f = fx_new(NULL);
        fh_req_t *r, *p1, *p2;
        int64_t answered;
        json_t *j;

        (void)state;
        inject_import(NULL, NULL);
        fx_round(f, 0);
        assert_int_equal(fh_started("POST", IMPORT), 1);
        r = fh_open("POST", IMPORT);
        assert_string_equal(r->url, IMPORT);
        assert_string_equal(r->authorization, "Authorization: Bearer tok-1");
        assert_string_equal(r->content_type, "application/json");
        assert_string_equal(fh_header(r, "Idempotency-Key"), TS "/0/0");
        assert_non_null(strstr(r->body, CALENDAR));
        assert_int_equal(f->w->sched_active, 1);

        fh_answer(r, 202, "{\"jobId\":\"job-1\",\"status\":\"IN_PROGRESS\"}", NULL);
        answered = cxw_now_ms();
        fx_round(f, 0);
        /* the submission's audit event, at once */
        assert_int_equal(fk_produced_cnt("t.audit"), 1);
        j = fx_rec_json("t.audit", 0);
        assert_string_equal(fx_jstr(j, "action"), "schedule.submitted");
        json_decref(j);
        assert_int_equal(fk_produced("t.audit", 0)->keylen, strlen(CALENDAR));
        assert_int_equal(fk_produced_cnt("t.results"), 0);

        /* the first poll after schedules.poll_interval_ms (10) */
        assert_true(fx_until(f, poll_open, 1000));
        p1 = fh_open("GET", JOBS);
        assert_string_equal(p1->url, JOBS "job-1");
        assert_true(p1->started_ms - answered >= 10);
        fh_answer(p1, 200, "{\"jobId\":\"job-1\",\"status\":\"IN_PROGRESS\"}", NULL);
        fx_round(f, 0);
        answered = cxw_now_ms();
        assert_true(fx_until(f, poll_open, 1000));
        p2 = fh_open("GET", JOBS);
        assert_true(p2->started_ms - answered >= 15); /* the interval grew x1.5 */
        fh_answer(p2, 200, "{\"jobId\":\"job-1\",\"status\":\"COMPLETED\"}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));

        assert_int_equal(f->w->stats.sched_succeeded, 1);
        assert_int_equal(f->w->stats.job_polls, 2);
        assert_int_equal(f->w->sched_active, 0);
        assert_int_equal(fh_started("POST", IMPORT), 1);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fx_jstr(j, "type"), "schedule-import");
        assert_string_equal(fx_jstr(j, "status"), "succeeded");
        assert_string_equal(fx_jstr(j, "jobId"), "job-1");
        assert_string_equal(fx_jstr(j, "jobStatus"), "COMPLETED");
        assert_int_equal(json_integer_value(json_object_get(j, "httpStatus")), 202);
        assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 1);
        json_decref(j);
        j = fx_rec_json("t.audit", 1);
        assert_string_equal(fx_jstr(j, "action"), "schedule.completed");
        json_decref(j);
        assert_int_equal(fk_produced_cnt("t.dlq"), 0);
        assert_int_equal(fk_stored(TS, 0), 1);
        fx_free(f);
}

/* CXone processed the import and refused it: rejected, with a DLQ copy;
 * the idempotency-key header of the message is the submission's key. */
static void test_import_job_failed_rejected(void **state)
{
        static const char *const hdrs[] = {"idempotency-key", "imp-42", NULL};
        fx_t *f = fx_new(NULL);
        fh_req_t *r;
        json_t *j;

        (void)state;
        inject_import("k-1", hdrs);
        fx_round(f, 0);
        r = fh_open("POST", IMPORT);
        assert_string_equal(fh_header(r, "Idempotency-Key"), "imp-42");
        fh_answer(r, 202, "{\"jobId\":\"job-2\"}", NULL);
        assert_true(fx_until(f, poll_open, 1000));
        fh_answer(
            fh_open("GET", JOBS "job-2"), 200,
            "{\"status\":\"FAILED\",\"error\":{\"message\":\"agent a-101 unknown\"}}",
            NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.sched_rejected, 1);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fx_jstr(j, "status"), "rejected");
        assert_string_equal(fx_jstr(j, "jobStatus"), "FAILED");
        assert_non_null(
            strstr(fx_jstr(j, "error"), "job job-2 ended FAILED: agent a-101"));
        json_decref(j);
        j = fx_rec_json("t.audit", 1);
        assert_string_equal(fx_jstr(j, "action"), "schedule.rejected");
        json_decref(j);
        assert_int_equal(fk_produced_cnt("t.dlq"), 1);
        assert_string_equal(fk_produced("t.dlq", 0)->key, "k-1");
        assert_int_equal(fk_stored(TS, 0), 1);
        fx_free(f);
}

/* Every byte of s is printable ASCII (0x20-0x7e). */
static void assert_printable(const char *what, const char *s)
{
        assert_non_null(s);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        fail_msg("%s holds byte 0x%02x at %zu: '%s'", what, *p,
                                 (size_t)(p - (const unsigned char *)s), s);
}

/* CXone's error text is not trusted (security finding 6): terminal escapes,
 * BEL, CR/LF, DEL and C1 controls in error.message reach neither the outcome
 * nor the DLQ copy's dlq-reason header raw, through the worker's poll. */
static void test_job_error_text_reaches_outputs_printable(void **state)
{
        fx_t *f = fx_new(NULL);
        const char *err;
        char hv[1024];
        json_t *j;

        (void)state;
        inject_import("k-1", NULL);
        fx_round(f, 0);
        fh_answer(fh_open("POST", IMPORT), 202, "{\"jobId\":\"job-5\"}", NULL);
        assert_true(fx_until(f, poll_open, 1000));
        fh_answer(fh_open("GET", JOBS "job-5"), 200,
                  "{\"status\":\"FAILED\",\"error\":{\"message\":"
                  "\"\\u001b[31mred\\u001b]0;title\\u0007\\r\\nX-Forged: 1"
                  "\\u007f\\u009b2J\\u00e9 end\"}}",
                  NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.sched_rejected, 1);
        j = fx_rec_json("t.results", 0);
        err = fx_jstr(j, "error");
        assert_printable("the outcome's error", err);
        assert_non_null(strstr(err, "job job-5 ended FAILED: "));
        assert_non_null(strstr(err, "red"));
        assert_non_null(strstr(err, "X-Forged: 1"));
        assert_non_null(strstr(err, " end"));
        assert_printable("the outcome's jobStatus", fx_jstr(j, "jobStatus"));
        json_decref(j);
        assert_int_equal(fk_produced_cnt("t.dlq"), 1);
        assert_non_null(
            fk_rec_header(fk_produced("t.dlq", 0), "dlq-reason", hv, sizeof(hv)));
        assert_printable("dlq-reason", hv);
        assert_non_null(strstr(hv, "X-Forged: 1"));
        fx_free(f);
}

/* Polls answered 503 or not at all are retried by the next poll. */
static void test_poll_errors_keep_polling(void **state)
{
        fx_t *f = fx_new(NULL);

        (void)state;
        inject_import(NULL, NULL);
        fx_round(f, 0);
        fh_answer(fh_open("POST", IMPORT), 202, "{\"jobId\":\"job-3\"}", NULL);
        assert_true(fx_until(f, poll_open, 1000));
        fh_answer(fh_open("GET", JOBS), 503, "{}", NULL);
        fx_round(f, 0);
        assert_true(fx_until(f, poll_open, 1000));
        fh_fail(fh_open("GET", JOBS), 7 /* CURLE_COULDNT_CONNECT */, "refused");
        fx_round(f, 0);
        assert_true(fx_until(f, poll_open, 1000));
        fh_answer(fh_open("GET", JOBS), 200, "{\"status\":\"COMPLETED\"}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.job_polls, 3);
        assert_int_equal(f->w->stats.sched_succeeded, 1);
        assert_int_equal(fh_started("POST", IMPORT), 1);
        fx_free(f);
}

/* An unknown job (404 to a poll) fails the import. */
static void test_poll_404_fails(void **state)
{
        fx_t *f = fx_new(NULL);
        json_t *j;

        (void)state;
        inject_import(NULL, NULL);
        fx_round(f, 0);
        fh_answer(fh_open("POST", IMPORT), 202, "{\"jobId\":\"job-4\"}", NULL);
        assert_true(fx_until(f, poll_open, 1000));
        fh_answer(fh_open("GET", JOBS), 404, "{\"message\":\"no such job\"}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.sched_failed, 1);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fx_jstr(j, "status"), "failed");
        assert_non_null(strstr(fx_jstr(j, "error"), "job job-4 is unknown to CXone"));
        json_decref(j);
        fx_free(f);
}

/* A 202 without a usable jobId fails the import without polling. */
static void test_submit_without_job_id_fails(void **state)
{
        fx_t *f = fx_new(NULL);

        (void)state;
        inject_import(NULL, NULL);
        fx_round(f, 0);
        fh_answer(fh_open("POST", IMPORT), 202, "{\"jobId\":\"bad id/..\"}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.sched_failed, 1);
        assert_int_equal(fh_started("GET", NULL), 0);
        fx_free(f);
}

/* schedules.max_concurrent (1): the second import (another key) is
 * submitted only once the first job ended; one key's imports run in order
 * anyway. */
static void test_imports_capped(void **state)
{
        cxw_config_t *cfg = fx_config(NULL);
        fx_t *f;

        (void)state;
        cfg->schedules_max_concurrent = 1;
        f = fx_start(cfg);
        inject_import("k-1", NULL);
        inject_import("k-2", NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        assert_int_equal(fh_started("POST", IMPORT), 1);
        fh_answer(fh_open("POST", IMPORT), 202, "{\"jobId\":\"job-a\"}", NULL);
        assert_true(fx_until(f, poll_open, 1000));
        assert_int_equal(fh_started("POST", IMPORT), 1); /* polling still counts */
        fh_answer(fh_open("GET", JOBS "job-a"), 200, "{\"status\":\"COMPLETED\"}", NULL);
        fx_round(f, 0);
        fx_round(f, 0);
        assert_int_equal(fh_started("POST", IMPORT), 2);
        assert_int_equal(f->w->sched_active, 1);
        fh_answer(fh_open("POST", IMPORT), 202, "{\"jobId\":\"job-b\"}", NULL);
        assert_true(fx_until(f, poll_open, 1000));
        fh_answer(fh_open("GET", JOBS "job-b"), 200, "{\"status\":\"COMPLETED\"}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(f->w->stats.sched_succeeded, 2);
        assert_int_equal(fk_stored(TS, 0), 2);
        fx_free(f);
}

/* An import that fails validation is rejected without a call. */
static void test_invalid_import_rejected(void **state)
{
        fx_t *f = fx_new(NULL);
        json_t *j;

        (void)state;
        fk_inject(TS, 0, NULL, "{\"targetCalendarId\":\"cal-1\"}", NULL);
        fx_round(f, 0);
        assert_true(fx_until(f, no_jobs, 1000));
        assert_int_equal(fh_started("POST", IMPORT), 0);
        assert_int_equal(f->w->stats.sched_rejected, 1);
        j = fx_rec_json("t.results", 0);
        assert_string_equal(fx_jstr(j, "status"), "rejected");
        json_decref(j);
        assert_int_equal(fk_produced_cnt("t.dlq"), 1);
        fx_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(test_import_submitted_polled_completed,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_import_job_failed_rejected, fx_teardown),
            cmocka_unit_test_teardown(test_job_error_text_reaches_outputs_printable,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_poll_errors_keep_polling, fx_teardown),
            cmocka_unit_test_teardown(test_poll_404_fails, fx_teardown),
            cmocka_unit_test_teardown(test_submit_without_job_id_fails, fx_teardown),
            cmocka_unit_test_teardown(test_imports_capped, fx_teardown),
            cmocka_unit_test_teardown(test_invalid_import_rejected, fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

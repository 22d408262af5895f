/* test_outcome.c: outcome and audit records (docs/messages.md), byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/requests/outcome.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1795248000123LL /* 2026-11-21T08:00:00.123Z */

static cxw_outcome_t contact_outcome(void)
{
        cxw_outcome_t o;

        memset(&o, 0, sizeof(o));
        o.type = "contact-update";
        o.status = CXW_OUTCOME_SUCCEEDED;
        o.contact_id = "c-1";
        o.http_status = 200;
        o.attempts = 1;
        o.batch_id = "b-7";
        o.topic = "cxone.contact-updates";
        o.partition = 3;
        o.offset = 12345678901LL;
        o.latency_ms = 17;
        o.finished_wall_ms = T0;
        return o;
}

static void succeeded_contact_outcome_has_every_field_in_order(void **state)
{
        cxw_outcome_t o = contact_outcome();
        char *s = cxw_outcome_json(&o);
        (void)state;

        assert_non_null(s);
        assert_string_equal(
            s,
            "{\"type\":\"contact-update\",\"status\":\"succeeded\",\"contactId\":\"c-1\","
            "\"httpStatus\":200,\"attempts\":1,\"error\":null,\"batchId\":\"b-7\","
            "\"correlationId\":null,\"source\":{\"topic\":\"cxone.contact-updates\","
            "\"partition\":3,\"offset\":12345678901},\"latencyMs\":17,"
            "\"finishedAt\":\"2026-11-21T08:00:00.123Z\"}");
        free(s);
}

static void rejected_without_call_has_null_status_and_escaped_error(void **state)
{
        cxw_outcome_t o = contact_outcome();
        (void)state;

        o.status = CXW_OUTCOME_REJECTED;
        o.http_status = 0;
        o.attempts = 0;
        o.contact_id = NULL;
        o.batch_id = NULL;
        o.correlation_id = "corr\"1";
        o.error = "invalid JSON: \"x\\\n\x01 \xff";
        char *s = cxw_outcome_json(&o);
        assert_non_null(s);
        assert_string_equal(
            s,
            "{\"type\":\"contact-update\",\"status\":\"rejected\",\"httpStatus\":null,"
            "\"attempts\":0,\"error\":\"invalid JSON: \\\"x\\\\\\n\\u0001 \xEF\xBF\xBD\","
            "\"batchId\":null,\"correlationId\":\"corr\\\"1\",\"source\":{\"topic\":"
            "\"cxone.contact-updates\",\"partition\":3,\"offset\":12345678901},"
            "\"latencyMs\":17,\"finishedAt\":\"2026-11-21T08:00:00.123Z\"}");
        /* and it is JSON that jansson reads back */
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        assert_true(json_is_null(json_object_get(j, "httpStatus")));
        json_decref(j);
        free(s);
}

static void schedule_outcome_has_job_fields_and_timings(void **state)
{
        cxw_outcome_t o = contact_outcome();
        (void)state;

        o.type = "schedule-import";
        o.contact_id = NULL;
        o.job_id = "job-9";
        o.job_status = "COMPLETED";
        o.status = CXW_OUTCOME_FAILED;
        o.error = "gave up";
        o.has_timings = 1;
        o.validation_ms = 1;
        o.request_ms = 2;
        o.polling_ms = 3;
        char *s = cxw_outcome_json(&o);
        assert_non_null(s);
        assert_string_equal(
            s, "{\"type\":\"schedule-import\",\"status\":\"failed\",\"jobId\":\"job-9\","
               "\"httpStatus\":200,\"attempts\":1,\"error\":\"gave up\",\"batchId\":"
               "\"b-7\",\"correlationId\":null,\"source\":{\"topic\":"
               "\"cxone.contact-updates\",\"partition\":3,\"offset\":12345678901},"
               "\"latencyMs\":17,\"jobStatus\":\"COMPLETED\",\"validationMs\":1,"
               "\"requestMs\":2,\"pollingMs\":3,\"finishedAt\":"
               "\"2026-11-21T08:00:00.123Z\"}");
        free(s);
}

static void audit_event_names_fields_only(void **state)
{
        cxw_outcome_t o = contact_outcome();
        const char *const fields[] = {"firstName", "email"};
        (void)state;

        char *s = cxw_audit_json("contact.updated", "w-1", &o, fields, 2, -1);
        assert_non_null(s);
        assert_string_equal(
            s, "{\"at\":\"2026-11-21T08:00:00.123Z\",\"action\":\"contact.updated\","
               "\"worker\":\"w-1\",\"contactId\":\"c-1\",\"fields\":[\"firstName\","
               "\"email\"],\"batchId\":\"b-7\",\"source\":{\"topic\":"
               "\"cxone.contact-updates\",\"partition\":3,\"offset\":12345678901}}");
        free(s);

        o.contact_id = NULL;
        o.batch_id = NULL;
        o.job_id = "job-9";
        s = cxw_audit_json("schedule.submitted", "w-1", &o, NULL, 0, 12);
        assert_non_null(s);
        assert_string_equal(
            s, "{\"at\":\"2026-11-21T08:00:00.123Z\",\"action\":\"schedule.submitted\","
               "\"worker\":\"w-1\",\"jobId\":\"job-9\",\"entries\":12,\"source\":{"
               "\"topic\":\"cxone.contact-updates\",\"partition\":3,\"offset\":"
               "12345678901}}");
        free(s);
}

static const char *header(const rd_kafka_headers_t *h, const char *name, char *buf,
                          size_t size)
{
        const void *v;
        size_t n;

        if (rd_kafka_header_get_last(h, name, &v, &n) || n >= size)
                return NULL;
        memcpy(buf, v, n);
        buf[n] = '\0';
        return buf;
}

static void rejected_contact_is_named_in_outcome_audit_and_dlq_headers(void **state)
{
        cxw_outcome_t o = contact_outcome();
        const char *const fields[] = {"firstName"};
        rd_kafka_headers_t *orig = rd_kafka_headers_new(1), *h;
        char buf[256], *s;
        (void)state;

        o.status = CXW_OUTCOME_REJECTED;
        o.http_status = 0;
        o.attempts = 0;
        o.error = "unknown field 'Phone' (allowed: firstName, lastName, email)";
        s = cxw_outcome_json(&o);
        assert_non_null(strstr(s, "\"status\":\"rejected\",\"contactId\":\"c-1\""));
        free(s);
        s = cxw_audit_json("contact.rejected", "w-1", &o, fields, 0, -1);
        assert_non_null(strstr(s, "\"contactId\":\"c-1\""));
        free(s);

        rd_kafka_header_add(orig, "batch-id", -1, "b-7", -1);
        h = cxw_dlq_headers(orig, &o, "w-1");
        assert_string_equal(header(h, "dlq-contact-id", buf, sizeof(buf)), "c-1");
        assert_string_equal(header(h, "dlq-reason", buf, sizeof(buf)), o.error);
        assert_string_equal(header(h, "dlq-status", buf, sizeof(buf)), "rejected");
        assert_string_equal(header(h, "batch-id", buf, sizeof(buf)), "b-7");
        rd_kafka_headers_destroy(h);

        /* no id read: no header */
        o.contact_id = NULL;
        h = cxw_dlq_headers(NULL, &o, "w-1");
        assert_null(header(h, "dlq-contact-id", buf, sizeof(buf)));
        assert_string_equal(header(h, "dlq-worker", buf, sizeof(buf)), "w-1");
        rd_kafka_headers_destroy(h);
        rd_kafka_headers_destroy(orig);
}

static void record_size_counts_key_value_and_headers(void **state)
{
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        (void)state;

        assert_int_equal(cxw_record_size(3, 10, NULL), CXW_RECORD_OVERHEAD + 13);
        rd_kafka_header_add(h, "a", -1, "bc", -1);
        /* name and value, each with a one-byte length */
        assert_int_equal(cxw_record_size(3, 10, h),
                         CXW_RECORD_OVERHEAD + 13 + 1 + 1 + 1 + 2);
        rd_kafka_headers_destroy(h);
}

static void dlq_copy_that_fits_is_whole(void **state)
{
        cxw_outcome_t o = contact_outcome();
        rd_kafka_headers_t *orig = rd_kafka_headers_new(1), *h;
        char buf[32];
        (void)state;

        rd_kafka_header_add(orig, "batch-id", -1, "b-7", -1);
        o.status = CXW_OUTCOME_REJECTED;
        o.error = "invalid JSON";
        h = cxw_dlq_headers(orig, &o, "w-1");
        assert_int_equal(cxw_dlq_fit(h, 3, 990000, 990000, 1000000), 990000);
        assert_null(header(h, "dlq-truncated", buf, sizeof(buf)));
        rd_kafka_headers_destroy(h);
        rd_kafka_headers_destroy(orig);
}

/* The security finding: a rejected value of 1,040,000 bytes (under
 * limits.max_message_bytes at the time) made a DLQ copy the producer
 * refused (message.max.bytes 1,000,000), retried forever. */
static void dlq_copy_too_large_is_truncated_with_its_size(void **state)
{
        cxw_outcome_t o = contact_outcome();
        rd_kafka_headers_t *orig = rd_kafka_headers_new(1), *h;
        char buf[32];
        long long n;
        (void)state;

        rd_kafka_header_add(orig, "batch-id", -1, "b-7", -1);
        o.status = CXW_OUTCOME_REJECTED;
        o.error = "message is 1040000 bytes, over the limit of 1048576";
        h = cxw_dlq_headers(orig, &o, "w-1");
        n = cxw_dlq_fit(h, 3, 1040000, 1040000, 1000000);
        assert_true(n > 990000 && n < 1000000);
        assert_string_equal(header(h, "dlq-truncated", buf, sizeof(buf)), "1040000");
        assert_true(cxw_record_size(3, (size_t)n, h) <= 1000000);
        /* the reason and the original headers are still there */
        assert_string_equal(header(h, "dlq-status", buf, sizeof(buf)), "rejected");
        assert_string_equal(header(h, "batch-id", buf, sizeof(buf)), "b-7");
        rd_kafka_headers_destroy(h);

        /* a value the worker did not keep (over limits.max_message_bytes):
         * no value, its size in the header, even though the rest fits */
        h = cxw_dlq_headers(orig, &o, "w-1");
        assert_int_equal(cxw_dlq_fit(h, 3, 0, 2000000, 1000000), 0);
        assert_string_equal(header(h, "dlq-truncated", buf, sizeof(buf)), "2000000");
        rd_kafka_headers_destroy(h);
        rd_kafka_headers_destroy(orig);
}

static void dlq_copy_whose_headers_do_not_fit_is_refused(void **state)
{
        cxw_outcome_t o = contact_outcome();
        rd_kafka_headers_t *orig = rd_kafka_headers_new(1), *h;
        char *big = calloc(1, 1000000);
        char buf[32];
        (void)state;

        assert_non_null(big);
        memset(big, 'x', 999999);
        rd_kafka_header_add(orig, "huge", -1, big, -1);
        o.status = CXW_OUTCOME_REJECTED;
        o.error = "e";
        h = cxw_dlq_headers(orig, &o, "w-1");
        assert_int_equal(cxw_dlq_fit(h, 3, 10, 10, 1000000), -1);
        assert_null(header(h, "dlq-truncated", buf, sizeof(buf)));
        rd_kafka_headers_destroy(h);
        /* without the original headers it fits */
        h = cxw_dlq_headers(NULL, &o, "w-1");
        assert_int_equal(cxw_dlq_fit(h, 3, 10, 10, 1000000), 10);
        rd_kafka_headers_destroy(h);
        rd_kafka_headers_destroy(orig);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(succeeded_contact_outcome_has_every_field_in_order),
            cmocka_unit_test(rejected_without_call_has_null_status_and_escaped_error),
            cmocka_unit_test(schedule_outcome_has_job_fields_and_timings),
            cmocka_unit_test(audit_event_names_fields_only),
            cmocka_unit_test(rejected_contact_is_named_in_outcome_audit_and_dlq_headers),
            cmocka_unit_test(record_size_counts_key_value_and_headers),
            cmocka_unit_test(dlq_copy_that_fits_is_whole),
            cmocka_unit_test(dlq_copy_too_large_is_truncated_with_its_size),
            cmocka_unit_test(dlq_copy_whose_headers_do_not_fit_is_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

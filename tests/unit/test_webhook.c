/* test_webhook.c: signatures good, bad, expired, missing, malformed; reading
 * a verified body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cxone/requests/webhook.h"

static const char body[] =
    "{\"eventType\":\"WFM_SCHEDULE_IMPORT_COMPLETED\",\"jobId\":\"job-1\",\"status\":"
    "\"COMPLETED\"}";
#define NOW 1795000000LL

static void test_a_good_signature_verifies(void **state)
{
        char sig[80];
        (void)state;
        assert_int_equal(
            cxw_webhook_sign("s3cret", NOW, body, strlen(body), sig, sizeof(sig)), 0);
        assert_int_equal(strncmp(sig, "sha256=", 7), 0);
        assert_int_equal(strlen(sig), 71);
        assert_int_equal(
            cxw_webhook_verify("s3cret", "1795000000", sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_OK);
        /* within the window on both sides */
        assert_int_equal(cxw_webhook_verify("s3cret", "1795000000", sig, body,
                                            strlen(body), NOW + 300, 300),
                         CXW_WEBHOOK_OK);
        assert_int_equal(cxw_webhook_verify("s3cret", "1795000000", sig, body,
                                            strlen(body), NOW - 300, 300),
                         CXW_WEBHOOK_OK);
}

static void test_the_known_answer_matches_openssl_dgst_hmac(void **state)
{
        /* HMAC-SHA256(key "key", "1.x"), computed independently with
         * `printf '1.x' | openssl dgst -sha256 -hmac key`. */
        char sig[80];
        (void)state;
        assert_int_equal(cxw_webhook_sign("key", 1, "x", 1, sig, sizeof(sig)), 0);
        assert_string_equal(
            sig,
            "sha256=fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec");
}

static void test_a_changed_body_secret_or_timestamp_is_a_bad_signature(void **state)
{
        char sig[80];
        char other[sizeof(body)];
        (void)state;
        cxw_webhook_sign("s3cret", NOW, body, strlen(body), sig, sizeof(sig));
        memcpy(other, body, sizeof(body));
        other[40] ^= 1;
        assert_int_equal(cxw_webhook_verify("s3cret", "1795000000", sig, other,
                                            strlen(other), NOW, 300),
                         CXW_WEBHOOK_BAD_SIGNATURE);
        assert_int_equal(
            cxw_webhook_verify("other", "1795000000", sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_BAD_SIGNATURE);
        assert_int_equal(
            cxw_webhook_verify("s3cret", "1795000001", sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_BAD_SIGNATURE);
        sig[20] = sig[20] == 'a' ? 'b' : 'a';
        assert_int_equal(
            cxw_webhook_verify("s3cret", "1795000000", sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_BAD_SIGNATURE);
}

static void test_an_old_or_future_timestamp_is_expired(void **state)
{
        char sig[80];
        (void)state;
        cxw_webhook_sign("s3cret", NOW - 301, body, strlen(body), sig, sizeof(sig));
        assert_int_equal(
            cxw_webhook_verify("s3cret", "1794999699", sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_EXPIRED);
        cxw_webhook_sign("s3cret", NOW + 301, body, strlen(body), sig, sizeof(sig));
        assert_int_equal(
            cxw_webhook_verify("s3cret", "1795000301", sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_EXPIRED);
}

static void test_missing_and_malformed_headers(void **state)
{
        char sig[80];
        (void)state;
        cxw_webhook_sign("s3cret", NOW, body, strlen(body), sig, sizeof(sig));
        assert_int_equal(
            cxw_webhook_verify("s3cret", NULL, sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_MISSING);
        assert_int_equal(cxw_webhook_verify("s3cret", "1795000000", NULL, body,
                                            strlen(body), NOW, 300),
                         CXW_WEBHOOK_MISSING);
        assert_int_equal(
            cxw_webhook_verify("", "1795000000", sig, body, strlen(body), NOW, 300),
            CXW_WEBHOOK_MISSING);
        static const char *const bad_ts[] = {"", "abc", "-5", "1e9", "17950000000000"};
        for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++)
                assert_int_equal(cxw_webhook_verify("s3cret", bad_ts[i], sig, body,
                                                    strlen(body), NOW, 300),
                                 CXW_WEBHOOK_MALFORMED);
        static const char *const bad_sig[] = {
            "",
            "sha256=",
            "sha1=abcd",
            "sha256=zz",
            "sha256=8b69ea7aab2e5a36ca3ec9f9fdc0b4f63f35a3f03ef5"
            "ac48e3b7b6b3d7eaea4aff",
            "sha256=8b69ea7aab2e5a36ca3ec9f9fdc0b4f63f35a3f03ef5"
            "ac48e3b7b6b3d7eaeaXY"};
        for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
                assert_int_equal(cxw_webhook_verify("s3cret", "1795000000", bad_sig[i],
                                                    body, strlen(body), NOW, 300),
                                 CXW_WEBHOOK_MALFORMED);
        assert_string_equal(cxw_webhook_result_str(CXW_WEBHOOK_BAD_SIGNATURE),
                            "bad signature");
}

static cxw_webhook_body_kind_t parse(const char *text, cxw_webhook_body_t *b)
{
        return cxw_webhook_body_parse(text, text ? strlen(text) : 0, b);
}

static void test_a_body_names_its_job_and_status(void **state)
{
        cxw_webhook_body_t b;
        (void)state;
        assert_int_equal(parse(body, &b), CXW_WEBHOOK_BODY_JOB);
        assert_string_equal(b.job_id, "job-1");
        assert_string_equal(b.status, "COMPLETED");
        assert_true(b.ended);
        assert_int_equal(parse("{\"jobId\":\"job-2\",\"status\":\"FAILED\"}", &b),
                         CXW_WEBHOOK_BODY_JOB); /* no eventType: a job event */
        assert_true(b.ended);
        assert_int_equal(parse("{\"jobId\":\"j\",\"status\":\"IN_PROGRESS\","
                               "\"eventType\":7,\"extra\":[1]}",
                               &b),
                         CXW_WEBHOOK_BODY_JOB); /* eventType not a string: absent */
        assert_false(b.ended);
        assert_string_equal(b.status, "IN_PROGRESS");
        assert_int_equal(parse("{\"jobId\":\"j\",\"status\":\"\"}", &b),
                         CXW_WEBHOOK_BODY_JOB);
        assert_false(b.ended);
        assert_int_equal(parse("{\"jobId\":\"j\",\"status\":\"completed\"}", &b),
                         CXW_WEBHOOK_BODY_JOB);
        assert_false(b.ended); /* matched exactly */
        /* another event: answered, not used */
        assert_int_equal(parse("{\"eventType\":\"WFM_OTHER\",\"jobId\":\"job-3\","
                               "\"status\":\"COMPLETED\"}",
                               &b),
                         CXW_WEBHOOK_BODY_IGNORED);
        assert_string_equal(b.job_id, "job-3");
}

static void test_a_body_of_the_wrong_shape_is_malformed(void **state)
{
        static const char *const bad[] = {
            "",
            "not json",
            "[]",
            "\"x\"",
            "{\"jobId\":\"job-1\"}",
            "{\"status\":\"COMPLETED\"}",
            "{\"jobId\":1,\"status\":\"COMPLETED\"}",
            "{\"jobId\":\"job-1\",\"status\":1}",
            "{\"jobId\":\"job-1\",\"status\":null}",
            "{\"jobId\":null,\"status\":\"COMPLETED\"}",
            "{\"jobId\":\"\",\"status\":\"COMPLETED\"}",
            "{\"jobId\":\"job 1\",\"status\":\"COMPLETED\"}",
            "{\"jobId\":\"job/1\",\"status\":\"COMPLETED\"}",
            "{\"jobId\":\"job\\u001b[2J\",\"status\":\"COMPLETED\"}",
            "{\"jobId\":[\"job-1\"],\"status\":\"COMPLETED\"}",
            /* 16 bytes of status */
            "{\"jobId\":\"job-1\",\"status\":\"SIXTEEN_BYTES_XY\"}",
            /* duplicate keys are refused (which one would count?) */
            "{\"jobId\":\"job-1\",\"status\":\"FAILED\",\"status\":\"COMPLETED\"}",
            "{\"jobId\":\"job-1\",\"jobId\":\"job-2\",\"status\":\"COMPLETED\"}",
            "{\"jobId\":\"job-1\",\"status\":\"COMPLETED\"} x",
            "{\"jobId\":\"job-1\",\"status\":\"COMPLETED\\u0000\"}",
            /* the malformed check comes before the event */
            "{\"eventType\":\"WFM_OTHER\",\"jobId\":\"\",\"status\":\"x\"}",
        };
        cxw_webhook_body_t b;
        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(parse(bad[i], &b), CXW_WEBHOOK_BODY_MALFORMED);
                assert_string_equal(b.job_id, "");
                assert_string_equal(b.status, "");
                assert_false(b.ended);
        }
        assert_int_equal(parse(NULL, &b), CXW_WEBHOOK_BODY_MALFORMED);
}

static void test_a_body_keeps_bounded_printable_text(void **state)
{
        cxw_webhook_body_t b;
        char text[512], id[200];
        (void)state;
        /* control characters in the status: '?' */
        assert_int_equal(
            parse("{\"jobId\":\"job-1\",\"status\":\"\\u001b]0;x\\u0007\\r\\n\"}", &b),
            CXW_WEBHOOK_BODY_JOB);
        assert_string_equal(b.status, "?]0;x???");
        assert_false(b.ended);
        assert_int_equal(
            parse("{\"jobId\":\"job-1\",\"status\":\"\\u00e9t\\u007f\"}", &b),
            CXW_WEBHOOK_BODY_JOB);
        assert_string_equal(b.status, "??t?");
        /* 15 bytes of status: kept whole */
        assert_int_equal(
            parse("{\"jobId\":\"job-1\",\"status\":\"FIFTEEN_BYTES_X\"}", &b),
            CXW_WEBHOOK_BODY_JOB);
        assert_string_equal(b.status, "FIFTEEN_BYTES_X");
        /* jobId: 127 bytes fine, 128 refused */
        memset(id, 'a', 127);
        id[127] = '\0';
        snprintf(text, sizeof(text), "{\"jobId\":\"%s\",\"status\":\"FAILED\"}", id);
        assert_int_equal(parse(text, &b), CXW_WEBHOOK_BODY_JOB);
        assert_string_equal(b.job_id, id);
        id[127] = 'a';
        id[128] = '\0';
        snprintf(text, sizeof(text), "{\"jobId\":\"%s\",\"status\":\"FAILED\"}", id);
        assert_int_equal(parse(text, &b), CXW_WEBHOOK_BODY_MALFORMED);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_a_good_signature_verifies),
            cmocka_unit_test(test_the_known_answer_matches_openssl_dgst_hmac),
            cmocka_unit_test(test_a_changed_body_secret_or_timestamp_is_a_bad_signature),
            cmocka_unit_test(test_an_old_or_future_timestamp_is_expired),
            cmocka_unit_test(test_missing_and_malformed_headers),
            cmocka_unit_test(test_a_body_names_its_job_and_status),
            cmocka_unit_test(test_a_body_of_the_wrong_shape_is_malformed),
            cmocka_unit_test(test_a_body_keeps_bounded_printable_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_webhook.c: signatures good, bad, expired, missing, malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_a_good_signature_verifies),
            cmocka_unit_test(test_the_known_answer_matches_openssl_dgst_hmac),
            cmocka_unit_test(test_a_changed_body_secret_or_timestamp_is_a_bad_signature),
            cmocka_unit_test(test_an_old_or_future_timestamp_is_expired),
            cmocka_unit_test(test_missing_and_malformed_headers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

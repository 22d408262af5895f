/* test_token_login.c: the token module's login request (both grants, both
 * forms of client authentication, secrets with + / = : %) and the id_token's
 * tenantId (base64url with and without padding, missing claim, garbage),
 * also through the cache's answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/io/token.h"

/* base64url of s, without padding (pad = 0) or with it. */
static char *b64url(const char *s, int pad)
{
        size_t n = strlen(s), m = 4 * ((n + 2) / 3);
        char *out = malloc(m + 1);

        assert_non_null(out);
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
        for (char *c = out; *c; c++)
                *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
        if (!pad)
                out[strcspn(out, "=")] = '\0';
        return out;
}

static char *jwt_of(const char *payload, int pad)
{
        char *h = b64url("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", pad);
        char *p = b64url(payload, pad);
        char *out = NULL;

        assert_true(asprintf(&out, "%s.%s.c2lnbmF0dXJl", h, p) > 0);
        free(h);
        free(p);
        return out;
}

static void test_basic_form_encodes_secrets_with_special_characters(void **state)
{
        cxw_token_login_t l = {CXW_TOKEN_GRANT_PASSWORD,
                               CXW_TOKEN_AUTH_BASIC,
                               "app:id",
                               "s+c/r=t:%",
                               "AK+ID",
                               "p@ss w/=:%+",
                               NULL};
        char *body = NULL, *auth = NULL, err[200];
        unsigned char dec[256];
        int n;

        (void)state;
        assert_int_equal(cxw_token_login_request(&l, &body, &auth, err, sizeof(err)), 0);
        assert_string_equal(body, "grant_type=password&username=AK%2BID&password=p%40ss+"
                                  "w%2F%3D%3A%25%2B");
        assert_non_null(auth);
        assert_true(!strncmp(auth, "Authorization: Basic ", 21));
        n = EVP_DecodeBlock(dec, (const unsigned char *)auth + 21,
                            (int)strlen(auth + 21));
        assert_true(n > 0);
        dec[n] = '\0';
        /* RFC 6749 2.3.1: each form-urlencoded, then joined by ':' */
        assert_string_equal((char *)dec, "app%3Aid:s%2Bc%2Fr%3Dt%3A%25");
        assert_null(strstr(body, "client_secret"));
        free(body);
        free(auth);
}

static void test_post_puts_client_in_body_and_no_authorization(void **state)
{
        cxw_token_login_t l = {CXW_TOKEN_GRANT_PASSWORD,
                               CXW_TOKEN_AUTH_POST,
                               "app",
                               "s+c/r=t:%",
                               "AKID",
                               "pw",
                               "openid"};
        char *body = NULL, *auth = (char *)1, err[200];

        (void)state;
        assert_int_equal(cxw_token_login_request(&l, &body, &auth, err, sizeof(err)), 0);
        assert_null(auth);
        assert_string_equal(body,
                            "grant_type=password&username=AKID&password=pw&scope="
                            "openid&client_id=app&client_secret=s%2Bc%2Fr%3Dt%3A%25");
        free(body);
}

static void test_client_credentials_is_todays_body(void **state)
{
        cxw_token_login_t l = {CXW_TOKEN_GRANT_CLIENT_CREDENTIALS,
                               CXW_TOKEN_AUTH_BASIC,
                               "c",
                               "s",
                               NULL,
                               NULL,
                               "a b"};
        char *body = NULL, *auth = NULL, *old = cxw_token_form_body("a b");
        char *old_auth = cxw_token_basic_auth("c", "s"), err[200];

        (void)state;
        assert_int_equal(cxw_token_login_request(&l, &body, &auth, err, sizeof(err)), 0);
        assert_string_equal(body, old);
        assert_string_equal(auth, old_auth);
        free(body);
        free(auth);
        free(old);
        free(old_auth);
}

static void test_password_grant_needs_the_key(void **state)
{
        cxw_token_login_t l = {
            CXW_TOKEN_GRANT_PASSWORD, CXW_TOKEN_AUTH_BASIC, "c", "s", "", "pw", NULL};
        char *body = NULL, *auth = NULL, err[200];

        (void)state;
        assert_int_equal(cxw_token_login_request(&l, &body, &auth, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "access key"));
        assert_null(body);
        assert_null(auth);
}

static void test_grant_and_client_auth_parse(void **state)
{
        cxw_token_grant_t g;
        cxw_token_client_auth_t a;

        (void)state;
        assert_int_equal(cxw_token_grant_parse("password", &g), 0);
        assert_int_equal(g, CXW_TOKEN_GRANT_PASSWORD);
        assert_int_equal(cxw_token_grant_parse("implicit", &g), -1);
        assert_int_equal(cxw_token_client_auth_parse("post", &a), 0);
        assert_int_equal(a, CXW_TOKEN_AUTH_POST);
        assert_int_equal(cxw_token_client_auth_parse("", &a), -1);
}

static void test_jwt_tenant_with_and_without_padding(void **state)
{
        /* payload lengths 0, 1, 2 mod 3: every padding case */
        static const char *const payloads[] = {
            "{\"tenantId\":\"11EA-abc\",\"iss\":\"https://x\"}",
            "{\"tenantId\":\"11EA-abcd\",\"iss\":\"https://x\"}",
            "{\"tenantId\":\"11EA-abcde\",\"iss\":\"https://x\"}",
        };
        static const char *const want[] = {"11EA-abc", "11EA-abcd", "11EA-abcde"};
        char out[CXW_TENANT_ID_SIZE], err[200];

        (void)state;
        for (int i = 0; i < 3; i++) {
                for (int pad = 0; pad < 2; pad++) {
                        char *j = jwt_of(payloads[i], pad);

                        assert_int_equal(cxw_jwt_claim_str(j, strlen(j), "tenantId", out,
                                                           sizeof(out), err, sizeof(err)),
                                         0);
                        assert_string_equal(out, want[i]);
                        free(j);
                }
        }
}

static void test_jwt_missing_claim_and_garbage_are_named(void **state)
{
        char out[CXW_TENANT_ID_SIZE], err[200];
        char *j = jwt_of("{\"iss\":\"https://x\"}", 0);
        char *k = jwt_of("[1,2]", 0);
        char *m = jwt_of("{\"tenantId\":42}", 0);
        static const struct {
                const char *jwt, *says;
        } bad[] = {
            {"", "empty"},
            {"abc", "not a JWT"},
            {"a.b", "not a JWT"},
            {"a.b.c.d", "not a JWT"},
            {"eyJ.!!!.sig", "not base64url"},
            {"eyJ.e30+.sig", "not base64url"}, /* '+' is standard base64, not url */
            {"eyJ.a.sig", "not base64url"},    /* one char: 6 bits, no byte */
            {"eyJ.bm90IGpzb24.sig", "not a JSON object"},
        };

        (void)state;
        assert_int_equal(cxw_jwt_claim_str(j, strlen(j), "tenantId", out, sizeof(out),
                                           err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "no tenantId claim"));
        assert_int_equal(cxw_jwt_claim_str(k, strlen(k), "tenantId", out, sizeof(out),
                                           err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "not a JSON object"));
        assert_int_equal(cxw_jwt_claim_str(m, strlen(m), "tenantId", out, sizeof(out),
                                           err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "not a string"));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(cxw_jwt_claim_str(bad[i].jwt, strlen(bad[i].jwt),
                                                   "tenantId", out, sizeof(out), err,
                                                   sizeof(err)),
                                 -1);
                if (!strstr(err, bad[i].says))
                        fail_msg("'%s': '%s' does not say '%s'", bad[i].jwt, err,
                                 bad[i].says);
                assert_string_equal(out, "");
        }
        free(j);
        free(k);
        free(m);
}

static char *answer_with(const char *id_token)
{
        char *a = NULL;

        if (id_token)
                assert_true(asprintf(&a,
                                     "{\"access_token\":\"AT\",\"token_type\":\"Bearer\","
                                     "\"expires_in\":3600,\"id_token\":\"%s\"}",
                                     id_token) > 0);
        else
                a = strdup("{\"access_token\":\"AT\",\"expires_in\":3600}");
        return a;
}

static void test_cache_reads_tenant_and_refuses_without_it_when_required(void **state)
{
        cxw_token_t *t = cxw_token_new(60000, 100, 1000);
        char *j = jwt_of("{\"tenantId\":\"T-1\"}", 0);
        char *a = answer_with(j), *none = answer_with(NULL), *bad = answer_with("x.y.z");
        char *slash = NULL, err[300];
        char *js = jwt_of("{\"tenantId\":\"../x\"}", 0);

        (void)state;
        /* not required: an answer without id_token is fine (the seed's) */
        assert_int_equal(
            cxw_token_fetch_done(t, 200, none, strlen(none), 0, err, sizeof(err)), 0);
        assert_string_equal(cxw_token_tenant_id(t), "");
        assert_int_equal(cxw_token_lifetime_ms(t), 3600000);
        cxw_token_require_tenant(t, 1);
        assert_int_equal(
            cxw_token_fetch_done(t, 200, none, strlen(none), 10, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "no id_token"));
        assert_int_equal(
            cxw_token_fetch_done(t, 200, bad, strlen(bad), 10, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "not base64url"));
        assert_null(strstr(err, "AT"));
        slash = answer_with(js);
        assert_int_equal(
            cxw_token_fetch_done(t, 200, slash, strlen(slash), 10, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "tenantId is not"));
        assert_int_equal(
            cxw_token_fetch_done(t, 200, a, strlen(a), 100000, err, sizeof(err)), 0);
        assert_string_equal(cxw_token_tenant_id(t), "T-1");
        assert_string_equal(cxw_token_get(t, 100001, NULL), "AT");
        cxw_token_destroy(t);
        free(j);
        free(js);
        free(a);
        free(none);
        free(bad);
        free(slash);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_basic_form_encodes_secrets_with_special_characters),
            cmocka_unit_test(test_post_puts_client_in_body_and_no_authorization),
            cmocka_unit_test(test_client_credentials_is_todays_body),
            cmocka_unit_test(test_password_grant_needs_the_key),
            cmocka_unit_test(test_grant_and_client_auth_parse),
            cmocka_unit_test(test_jwt_tenant_with_and_without_padding),
            cmocka_unit_test(test_jwt_missing_claim_and_garbage_are_named),
            cmocka_unit_test(
                test_cache_reads_tenant_and_refuses_without_it_when_required),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

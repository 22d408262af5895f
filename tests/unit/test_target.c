/* test_target.c: the request template of each contact target: the seed's
 * body kept as it is, the DFO custom-fields body (map, no map, an unmapped
 * field, 1,024 vs 1,025 characters, JSON escaping), path and method. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/requests/target.h"

static const char *const allowed[] = {"firstName", "lastName", "email"};

static void decode(const char *json, cxw_contact_update_t *u)
{
        char err[300];

        memset(u, 0, sizeof(*u));
        if (cxw_contact_decode(json, strlen(json), NULL, 0, allowed, 3, 1 << 20, u, err,
                               sizeof(err)) != 0)
                fail_msg("decode: %s", err);
}

static void test_seed_keeps_body_method_and_path(void **state)
{
        char err[300];
        cxw_contact_target_t *t = cxw_contact_target_new(
            "seed", "PATCH", "/api/v2/contacts/{contactId}", NULL, 0, err, sizeof(err));
        cxw_contact_update_t u;
        char *path;

        (void)state;
        assert_non_null(t);
        decode("{\"contactId\":\"c-1\",\"firstName\":\"Ann\"}", &u);
        assert_int_equal(cxw_contact_target_body(t, &u, err, sizeof(err)), 0);
        assert_string_equal(u.body, "{\"firstName\":\"Ann\"}");
        assert_string_equal(cxw_contact_target_method(t), "PATCH");
        assert_int_equal(cxw_contact_target_base(t), CXW_TARGET_BASE_API);
        path = cxw_contact_target_path(t, "c-1");
        assert_string_equal(path, "/api/v2/contacts/c-1");
        free(path);
        cxw_contact_update_clear(&u);
        cxw_contact_target_destroy(t);
}

static void test_dfo_with_map(void **state)
{
        static const char *const map[] = {"firstName=first_name", "lastName=last_name",
                                          "email=email_address"};
        char err[300];
        cxw_contact_target_t *t = cxw_contact_target_new(
            "dfo-custom-fields", "PATCH", "/x/{contactId}", map, 3, err, sizeof(err));
        cxw_contact_update_t u;
        char *path;

        (void)state;
        assert_non_null(t);
        decode("{\"contactId\":\"c.9\",\"firstName\":\"Ann \\\"Q\\\" \\\\ \\u00e9\","
               "\"email\":\"a@b.co\"}",
               &u);
        assert_int_equal(cxw_contact_target_body(t, &u, err, sizeof(err)), 0);
        assert_string_equal(u.body,
                            "[{\"ident\":\"first_name\",\"value\":\"Ann \\\"Q\\\" "
                            "\\\\ \xc3\xa9\"},{\"ident\":\"email_address\","
                            "\"value\":\"a@b.co\"}]");
        assert_int_equal(u.body_len, strlen(u.body));
        assert_true(u.body_cap > u.body_len);
        assert_string_equal(cxw_contact_target_method(t), "PUT");
        assert_int_equal(cxw_contact_target_base(t), CXW_TARGET_BASE_DFO);
        path = cxw_contact_target_path(t, "c.9");
        assert_string_equal(path, "/dfo/3.0/customers/c.9/custom-fields");
        free(path);
        cxw_contact_update_clear(&u);
        cxw_contact_target_destroy(t);
}

static void test_dfo_without_map_uses_field_names(void **state)
{
        char err[300];
        cxw_contact_target_t *t = cxw_contact_target_new(
            "dfo-custom-fields", "PATCH", "/x/{contactId}", NULL, 0, err, sizeof(err));
        cxw_contact_update_t u;

        (void)state;
        decode("{\"contactId\":\"c\",\"lastName\":\"Lee\",\"firstName\":\"Bo\"}", &u);
        assert_int_equal(cxw_contact_target_body(t, &u, err, sizeof(err)), 0);
        assert_non_null(strstr(u.body, "{\"ident\":\"lastName\",\"value\":\"Lee\"}"));
        assert_non_null(strstr(u.body, "{\"ident\":\"firstName\",\"value\":\"Bo\"}"));
        assert_int_equal(u.body[0], '[');
        cxw_contact_update_clear(&u);
        cxw_contact_target_destroy(t);
}

static void test_dfo_unmapped_field_is_rejected_by_name(void **state)
{
        static const char *const map[] = {"firstName=first_name"};
        char err[300];
        cxw_contact_target_t *t = cxw_contact_target_new(
            "dfo-custom-fields", "PATCH", "/x/{contactId}", map, 1, err, sizeof(err));
        cxw_contact_update_t u;
        char *before;

        (void)state;
        decode("{\"contactId\":\"c\",\"firstName\":\"A\",\"lastName\":\"B\"}", &u);
        before = strdup(u.body);
        assert_int_equal(cxw_contact_target_body(t, &u, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "field lastName has no custom field ident"));
        assert_string_equal(u.body, before); /* unchanged */
        free(before);
        cxw_contact_update_clear(&u);
        cxw_contact_target_destroy(t);
}

/* 1,024 characters go, 1,025 do not; multi-byte characters count once. */
static void test_dfo_value_limit_is_1024_characters(void **state)
{
        char err[300];
        cxw_contact_target_t *t = cxw_contact_target_new(
            "dfo-custom-fields", "PATCH", "/x/{contactId}", NULL, 0, err, sizeof(err));
        char *json = malloc(4096 + 100), *v;
        cxw_contact_update_t u;

        (void)state;
        for (int n = 1024; n <= 1025; n++) {
                v = json + sprintf(json, "{\"contactId\":\"c\",\"lastName\":\"");
                for (int i = 0; i < n; i++) {
                        memcpy(v, "\xc3\xa9", 2); /* é: 2 bytes, 1 character */
                        v += 2;
                }
                strcpy(v, "\"}");
                decode(json, &u);
                if (n == 1024) {
                        assert_int_equal(cxw_contact_target_body(t, &u, err, sizeof(err)),
                                         0);
                } else {
                        assert_int_equal(cxw_contact_target_body(t, &u, err, sizeof(err)),
                                         -1);
                        assert_non_null(strstr(err, "lastName is 1025 characters"));
                }
                cxw_contact_update_clear(&u);
        }
        free(json);
        cxw_contact_target_destroy(t);
}

static void test_unknown_target_and_bad_map_are_named(void **state)
{
        static const char *const bad[] = {"firstName"};
        char err[300];

        (void)state;
        assert_null(cxw_contact_target_new("address-books", "PATCH", "/x/{contactId}",
                                           NULL, 0, err, sizeof(err)));
        assert_non_null(strstr(err, "unknown contacts target 'address-books'"));
        assert_null(cxw_contact_target_new("dfo-custom-fields", "PATCH", "/x/{contactId}",
                                           bad, 1, err, sizeof(err)));
        assert_non_null(strstr(err, "not field=ident"));
}

/* address-book: PUT below the API base, batched, the body kept as it is */
static void test_address_book_is_batched(void **state)
{
        cxw_contact_target_t *t;
        char err[300];

        (void)state;
        t = cxw_contact_target_new("address-book", "PATCH", "/x/{contactId}", NULL, 0,
                                   err, sizeof(err));
        assert_non_null(t);
        assert_string_equal(cxw_contact_target_method(t), "PUT");
        assert_int_equal(cxw_contact_target_base(t), CXW_TARGET_BASE_API);
        assert_int_equal(cxw_contact_target_batched(t), 1);
        cxw_contact_target_destroy(t);
        t = cxw_contact_target_new("seed", "PATCH", "/x/{contactId}", NULL, 0, err,
                                   sizeof(err));
        assert_non_null(t);
        assert_int_equal(cxw_contact_target_batched(t), 0);
        cxw_contact_target_destroy(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_seed_keeps_body_method_and_path),
            cmocka_unit_test(test_dfo_with_map),
            cmocka_unit_test(test_dfo_without_map_uses_field_names),
            cmocka_unit_test(test_dfo_unmapped_field_is_rejected_by_name),
            cmocka_unit_test(test_dfo_value_limit_is_1024_characters),
            cmocka_unit_test(test_unknown_target_and_bad_map_are_named),
            cmocka_unit_test(test_address_book_is_batched),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_contacts.c: decoding and validating contact updates, building the call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/requests/contacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const allowed[] = {"firstName", "lastName", "email"};
#define NALLOWED 3
#define MAXB     65536

/* Decodes a NUL-terminated value with an optional NUL-terminated key. */
static int decode(const char *value, const char *key, cxw_contact_update_t *u, char *err,
                  size_t errsize)
{
        return cxw_contact_decode(value, value ? strlen(value) : 0, key,
                                  key ? strlen(key) : 0, allowed, NALLOWED, MAXB, u, err,
                                  errsize);
}

/* Asserts a rejection whose message contains want. */
static void expect_rejected(const char *value, const char *key, const char *want)
{
        cxw_contact_update_t u;
        char err[256];

        memset(err, 'X', sizeof(err));
        if (decode(value, key, &u, err, sizeof(err)) != -1)
                fail_msg("accepted: %s", value ? value : "(null)");
        assert_non_null(memchr(err, '\0', sizeof(err)));
        if (!strstr(err, want))
                fail_msg("error '%s' does not contain '%s'", err, want);
        /* nothing is left allocated on failure */
        assert_null(u.body);
        assert_null(u.fields);
        assert_int_equal(u.nfields, 0);
        cxw_contact_update_clear(&u);
}

static void valid_update_with_all_fields_builds_body_without_contact_id(void **state)
{
        cxw_contact_update_t u;
        char err[256];
        (void)state;

        const char *v = "{\"contactId\":\"c-123\",\"firstName\":\"Ann\",\"lastName\":"
                        "\"O'Neil \\\"Q\\\"\",\"email\":\"ann@example.com\"}";
        assert_int_equal(decode(v, "c-123", &u, err, sizeof(err)), 0);
        assert_string_equal(u.contact_id, "c-123");
        assert_string_equal(u.body, "{\"firstName\":\"Ann\",\"lastName\":\"O'Neil "
                                    "\\\"Q\\\"\",\"email\":\"ann@example.com\"}");
        assert_int_equal(u.nfields, 3);
        assert_string_equal(u.fields[0], "firstName");
        assert_string_equal(u.fields[1], "lastName");
        assert_string_equal(u.fields[2], "email");
        cxw_contact_update_clear(&u);
        assert_null(u.body);
        assert_int_equal(u.nfields, 0);
        cxw_contact_update_clear(&u); /* twice is fine */
        cxw_contact_update_clear(NULL);
}

static void body_keeps_the_order_of_the_message(void **state)
{
        cxw_contact_update_t u;
        char err[256];
        (void)state;

        const char *v = "{\"email\":\"z@ex.io\",\"lastName\":\"Zed\",\"contactId\":\"9\","
                        "\"firstName\":\"\xc3\x89lodie\"}";
        assert_int_equal(decode(v, NULL, &u, err, sizeof(err)), 0);
        assert_string_equal(u.body,
                            "{\"email\":\"z@ex.io\",\"lastName\":\"Zed\",\"firstName\":"
                            "\"\xc3\x89lodie\"}");
        assert_int_equal(u.nfields, 3);
        assert_string_equal(u.fields[0], "email");
        assert_string_equal(u.fields[1], "lastName");
        assert_string_equal(u.fields[2], "firstName");
        cxw_contact_update_clear(&u);
}

static void empty_strings_and_nulls_are_left_out(void **state)
{
        cxw_contact_update_t u;
        char err[256];
        (void)state;

        assert_int_equal(
            decode("{\"contactId\":\"a\",\"firstName\":\"\",\"lastName\":null,"
                   "\"email\":\"a@b.co\"}",
                   NULL, &u, err, sizeof(err)),
            0);
        assert_string_equal(u.body, "{\"email\":\"a@b.co\"}");
        assert_int_equal(u.nfields, 1);
        assert_string_equal(u.fields[0], "email");
        cxw_contact_update_clear(&u);
        /* an empty email is left out, not validated */
        assert_int_equal(
            decode("{\"contactId\":\"a\",\"firstName\":\"A\",\"email\":\"\"}", NULL, &u,
                   err, sizeof(err)),
            0);
        assert_string_equal(u.body, "{\"firstName\":\"A\"}");
        cxw_contact_update_clear(&u);
}

static void key_equal_or_absent_is_accepted_and_different_is_rejected(void **state)
{
        cxw_contact_update_t u;
        char err[256];
        const char *v = "{\"contactId\":\"c-1\",\"firstName\":\"A\"}";
        (void)state;

        assert_int_equal(decode(v, "c-1", &u, err, sizeof(err)), 0);
        cxw_contact_update_clear(&u);
        assert_int_equal(decode(v, NULL, &u, err, sizeof(err)), 0);
        cxw_contact_update_clear(&u);
        /* a zero-length key counts as absent */
        assert_int_equal(cxw_contact_decode(v, strlen(v), "", 0, allowed, NALLOWED, MAXB,
                                            &u, err, sizeof(err)),
                         0);
        cxw_contact_update_clear(&u);
        expect_rejected(v, "c-2", "key 'c-2' does not match contactId 'c-1'");
        expect_rejected(v, "c-10", "does not match");
        expect_rejected(v, "c-", "does not match");
        /* the key is raw bytes: compared by length, binary echoed safely */
        assert_int_equal(cxw_contact_decode(v, strlen(v), "c-1\0x", 5, allowed, NALLOWED,
                                            MAXB, &u, err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "key 'c-1?x' does not match"));
        /* a long key is truncated in the message */
        char longkey[300];
        memset(longkey, 'k', sizeof(longkey) - 1);
        longkey[sizeof(longkey) - 1] = '\0';
        assert_int_equal(decode(v, longkey, &u, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "kkk...' does not match contactId 'c-1'"));
        assert_true(strlen(err) < 150);
}

static void each_rejection_names_its_problem(void **state)
{
        (void)state;
        expect_rejected("{\"firstName\":\"A\"}", NULL, "contactId is missing");
        expect_rejected("{\"contactId\":42,\"firstName\":\"A\"}", NULL,
                        "contactId must be a string");
        expect_rejected("{\"contactId\":null,\"firstName\":\"A\"}", NULL,
                        "contactId must be a string");
        expect_rejected("{\"contactId\":\"\",\"firstName\":\"A\"}", NULL,
                        "contactId must be 1-128 characters of A-Z a-z 0-9 . _ -, "
                        "not only dots");
        /* ".." would be sent as PATCH /api/v2/ (security finding 2) */
        expect_rejected("{\"contactId\":\"..\",\"firstName\":\"A\"}", NULL,
                        "contactId must be 1-128 characters of A-Z a-z 0-9 . _ -, "
                        "not only dots");
        expect_rejected("{\"contactId\":\"a\",\"firstName\":\"A\",\"foo\":\"x\"}", NULL,
                        "unknown field 'foo' (allowed: firstName, lastName, email)");
        expect_rejected("{\"contactId\":\"a\",\"email\":\"not an address\"}", NULL,
                        "field 'email' is not a valid e-mail address");
        expect_rejected("{\"contactId\":\"a\"}", NULL, "no fields to update");
        expect_rejected("{\"contactId\":\"a\",\"firstName\":\"\",\"lastName\":null}",
                        NULL, "no fields to update");
        expect_rejected("{\"contactId\":\"a\",\"firstName\":7}", NULL,
                        "field 'firstName' must be a string or null");
        expect_rejected("{\"contactId\":\"a\",\"firstName\":{\"x\":\"y\"}}", NULL,
                        "field 'firstName' must be a string or null");
        expect_rejected("{\"contactId\":\"a\",\"firstName\":[\"A\"]}", NULL,
                        "field 'firstName' must be a string or null");
        expect_rejected("{\"contactId\":\"a\",\"firstName\":true}", NULL,
                        "field 'firstName' must be a string or null");
        expect_rejected("{\"contactId\":\"a\",", NULL, "invalid JSON at line 1 column");
        expect_rejected("not json", NULL, "invalid JSON at line 1 column 3");
        expect_rejected("{\"contactId\":\"a\"}\n{}", NULL, "invalid JSON at line 2");
        expect_rejected("[{\"contactId\":\"a\"}]", NULL, "not a JSON object");
        expect_rejected("", NULL, "message is empty");
        expect_rejected(NULL, NULL, "message is empty");
        /* a duplicate key is named */
        expect_rejected("{\"contactId\":\"a\",\"firstName\":\"A\",\"firstName\":\"B\"}",
                        NULL, "duplicate key 'firstName'");
        expect_rejected("{\"contactId\":\"a\",\"contactId\":\"b\",\"email\":\"a@b.co\"}",
                        NULL, "duplicate key 'contactId'");
        expect_rejected("{\"contactId\":\"a\",\"x\\\"y\":1,  \"x\\\"y\" :2}", NULL,
                        "duplicate key 'x\"y'");
        /* the unknown-field rejection names the field even among valid ones */
        expect_rejected("{\"contactId\":\"a\",\"firstName\":\"A\",\"phone\":\"1\"}", NULL,
                        "unknown field 'phone'");
        /* a value over CXW_CONTACT_VALUE_MAX */
        char *big = malloc(CXW_CONTACT_VALUE_MAX + 100);
        assert_non_null(big);
        int n = snprintf(big, 64, "{\"contactId\":\"a\",\"lastName\":\"");
        memset(big + n, 'x', CXW_CONTACT_VALUE_MAX + 1);
        strcpy(big + n + CXW_CONTACT_VALUE_MAX + 1, "\"}");
        expect_rejected(big, NULL,
                        "field 'lastName' is 4097 bytes, over the limit of 4096");
        /* exactly the maximum is fine */
        strcpy(big + n + CXW_CONTACT_VALUE_MAX, "\"}");
        cxw_contact_update_t u;
        char err[256];
        assert_int_equal(decode(big, NULL, &u, err, sizeof(err)), 0);
        cxw_contact_update_clear(&u);
        free(big);
}

static void binary_and_invalid_utf8_are_reported_not_crashed_on(void **state)
{
        cxw_contact_update_t u;
        char err[256];
        (void)state;

        expect_rejected("{\"contactId\":\"a\",\"firstName\":\"\xff\xfe\"}", NULL,
                        "invalid UTF-8");
        expect_rejected("{\"contactId\":\"\xc3\"}", NULL, "invalid UTF-8");
        /* a NUL inside the value: jansson refuses \u0000 by default */
        expect_rejected("{\"contactId\":\"a\",\"firstName\":\"x\\u0000y\"}", NULL,
                        "invalid JSON");
        /* raw binary with NUL bytes */
        static const unsigned char bin[] = {0x00, 0x01, 0x7b, 0xff,
                                            0x22, 0x0a, 0x80, 0x00};
        assert_int_equal(cxw_contact_decode(bin, sizeof(bin), NULL, 0, allowed, NALLOWED,
                                            MAXB, &u, err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "invalid JSON"));
        /* every error message is printable ASCII */
        for (const char *p = err; *p; p++)
                assert_true(*p >= 0x20 && *p < 0x7f);
        /* a non-ASCII unknown field name is echoed as printable text */
        expect_rejected("{\"contactId\":\"a\",\"f\xc3\xa9\\n\":\"x\"}", NULL,
                        "unknown field 'f\?\?\?'");
        /* a tiny errstr is NUL-terminated, and NULL errstr is allowed */
        char tiny[8];
        assert_int_equal(decode("{\"firstName\":\"A\"}", NULL, &u, tiny, sizeof(tiny)),
                         -1);
        assert_int_equal(strlen(tiny), 7);
        assert_int_equal(decode("{\"firstName\":\"A\"}", NULL, &u, NULL, 0), -1);
        assert_int_equal(cxw_contact_decode("{}", 2, NULL, 0, allowed, NALLOWED, MAXB,
                                            NULL, err, sizeof(err)),
                         -1);
}

static void every_unknown_field_is_named_at_once(void **state)
{
        (void)state;
        /* a CRM export's extra columns, as cxonectl passed them through */
        expect_rejected("{\"contactId\":\"c-1\",\"firstName\":\"A\",\"Company\":\"X\","
                        "\"email\":\"a@b.co\",\"Notes\":\"\",\"Phone\":null}",
                        NULL,
                        "unknown fields 'Company', 'Notes', 'Phone' (allowed: firstName, "
                        "lastName, email)");
        /* one is still "field" */
        expect_rejected("{\"contactId\":\"c-1\",\"Phone\":\"1\"}", NULL,
                        "unknown field 'Phone' (allowed");
}

/* Decodes value (key optional) expecting a rejection; returns the id kept. */
static const char *id_of_rejected(const char *value, const char *key,
                                  cxw_contact_update_t *u)
{
        char err[256];

        assert_int_equal(decode(value, key, u, err, sizeof(err)), -1);
        assert_null(u->body);
        assert_null(u->fields);
        return u->contact_id;
}

static void a_rejection_keeps_the_contact_id_when_it_can_be_read(void **state)
{
        cxw_contact_update_t u;
        (void)state;

        /* the contactId is valid, something else is not */
        assert_string_equal(
            id_of_rejected("{\"contactId\":\"c-7\",\"Phone\":\"1\"}", NULL, &u), "c-7");
        assert_string_equal(
            id_of_rejected("{\"contactId\":\"c-7\",\"email\":\"nope\"}", "c-7", &u),
            "c-7");
        assert_string_equal(id_of_rejected("{\"contactId\":\"c-7\"}", NULL, &u), "c-7");
        assert_string_equal(
            id_of_rejected("{\"firstName\":\"A\",\"contactId\":\"c-7\",\"x\":[1]}", NULL,
                           &u),
            "c-7");
        /* key and contactId differ: the contactId */
        assert_string_equal(
            id_of_rejected("{\"contactId\":\"c-7\",\"firstName\":\"A\"}", "c-8", &u),
            "c-7");
        /* no usable contactId: the key, when it is a valid id */
        assert_string_equal(id_of_rejected("{\"firstName\":\"A\"}", "c-9", &u), "c-9");
        assert_string_equal(
            id_of_rejected("{\"contactId\":\"bad id\",\"firstName\":\"A\"}", "c-9", &u),
            "c-9");
        /* nothing readable */
        assert_string_equal(
            id_of_rejected("{\"contactId\":\"bad id\",\"firstName\":\"A\"}", NULL, &u),
            "");
        assert_string_equal(id_of_rejected("{\"firstName\":\"A\"}", "bad key", &u), "");
        assert_string_equal(id_of_rejected("not json", "c-9", &u), "c-9");
        assert_string_equal(id_of_rejected("not json", NULL, &u), "");
        cxw_contact_update_clear(&u);
        assert_string_equal(u.contact_id, "");
}

static void contact_id_edge_cases(void **state)
{
        char id[200];
        char v[400];
        cxw_contact_update_t u;
        char err[256];
        (void)state;

        memset(id, 'a', 128);
        id[128] = '\0';
        assert_true(cxw_contact_id_valid(id, 128));
        snprintf(v, sizeof(v), "{\"contactId\":\"%s\",\"firstName\":\"A\"}", id);
        assert_int_equal(decode(v, id, &u, err, sizeof(err)), 0);
        assert_string_equal(u.contact_id, id);
        cxw_contact_update_clear(&u);

        memset(id, 'a', 129);
        id[129] = '\0';
        assert_false(cxw_contact_id_valid(id, 129));
        snprintf(v, sizeof(v), "{\"contactId\":\"%s\",\"firstName\":\"A\"}", id);
        expect_rejected(v, NULL, "contactId must be 1-128 characters");

        static const char *const good[] = {
            "a",   "Z", "0",   "A-z_0.9",
            ".a.", "-", "_x_", "00000000-0000-0000-0000-000000000000"};
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                if (!cxw_contact_id_valid(good[i], strlen(good[i])))
                        fail_msg("'%s' should be valid", good[i]);
        }
        static const char *const bad[] = {
            "../x", "a b", "\xc3\xa9", "a/b", "a%2F", "a?b", "a#b", "a\\b", "a\tb", "a+b",
            "a:b", " a", "a\"b", "a@b", "a;b", "~a",
            /* only dots: "." and ".." are dot segments that libcurl or a
             * proxy would resolve into another URL (PATCH /api/v2/) */
            ".", "..", "..."};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (cxw_contact_id_valid(bad[i], strlen(bad[i])))
                        fail_msg("'%s' should be invalid", bad[i]);
        }
        assert_false(cxw_contact_id_valid("", 0));
        assert_false(cxw_contact_id_valid(NULL, 3));
        /* length is what counts, not a NUL */
        assert_false(cxw_contact_id_valid("ab\0c", 4));
        assert_true(cxw_contact_id_valid("ab\0c", 2));

        expect_rejected("{\"contactId\":\"../x\",\"firstName\":\"A\"}", NULL,
                        "contactId must be 1-128");
        expect_rejected("{\"contactId\":\"a b\",\"firstName\":\"A\"}", NULL,
                        "contactId must be 1-128");
        expect_rejected("{\"contactId\":\"\xc3\xa9\",\"firstName\":\"A\"}", NULL,
                        "contactId must be 1-128");
        expect_rejected("{\"contactId\":\"a/b\",\"firstName\":\"A\"}", NULL,
                        "contactId must be 1-128");
        expect_rejected("{\"contactId\":\"a%2F\",\"firstName\":\"A\"}", NULL,
                        "contactId must be 1-128");
}

static void email_validation_table(void **state)
{
        static const char *const good[] = {
            "ann@example.com",
            "a@b.co",
            "first.last@sub.example.co.uk",
            "user+tag@example.org",
            "o'neil@example.ie",
            "x_y-z@ex-ample.com",
            "1234@123.example",
            "\xc3\xa9l\xc3\xa8ve@\xc3\xa9"
            "cole.fr",
        };
        static const char *const bad[] = {
            "",
            "plain",
            "@example.com",
            "ann@",
            "ann@example",
            "ann@@example.com",
            "ann@ex@ample.com",
            "ann @example.com",
            "ann@exa mple.com",
            " ann@example.com",
            "ann@example.com ",
            "ann@.example.com",
            "ann@example..com",
            "ann@example.com.",
            "ann@-example.com",
            "ann@example-.com",
            "ann@example.c",
            "ann@example.123",
            ".ann@example.com",
            "ann.@example.com",
            "an..n@example.com",
            "ann@exam_ple.com",
            "a<b>@example.com",
            "ann\t@example.com",
            "ann@example.com\n",
            "\"ann\"@example.com",
            "ann(x)@example.com",
            "ann,b@example.com",
        };
        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (!cxw_email_valid(good[i]))
                        fail_msg("'%s' should be valid", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (cxw_email_valid(bad[i]))
                        fail_msg("'%s' should be invalid", bad[i]);
        assert_false(cxw_email_valid(NULL));
        /* length limits: local part 64, whole address 254 */
        char e[400];
        memset(e, 'a', 64);
        strcpy(e + 64, "@example.com");
        assert_true(cxw_email_valid(e));
        memset(e, 'a', 65);
        strcpy(e + 65, "@example.com");
        assert_false(cxw_email_valid(e));
        strcpy(e, "a@");
        for (int i = 0; i < 5; i++)
                strcat(e, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
        strcat(e, "com");
        assert_false(cxw_email_valid(e)); /* 260 characters */
}

static void message_over_max_bytes_is_rejected_with_both_sizes(void **state)
{
        cxw_contact_update_t u;
        char err[256];
        const char *v = "{\"contactId\":\"a\",\"firstName\":\"A\"}"; /* 33 bytes */
        (void)state;

        assert_int_equal(cxw_contact_decode(v, strlen(v), NULL, 0, allowed, NALLOWED, 32,
                                            &u, err, sizeof(err)),
                         -1);
        assert_string_equal(err, "message is 33 bytes, over the limit of 32");
        assert_int_equal(cxw_contact_decode(v, strlen(v), NULL, 0, allowed, NALLOWED, 33,
                                            &u, err, sizeof(err)),
                         0);
        cxw_contact_update_clear(&u);
}

static void allowed_list_comes_from_the_caller(void **state)
{
        static const char *const only_email[] = {"email"};
        cxw_contact_update_t u;
        char err[256];
        const char *v = "{\"contactId\":\"a\",\"firstName\":\"A\"}";
        (void)state;

        assert_int_equal(cxw_contact_decode(v, strlen(v), NULL, 0, only_email, 1, MAXB,
                                            &u, err, sizeof(err)),
                         -1);
        assert_string_equal(err, "unknown field 'firstName' (allowed: email)");
        static const char *const more[] = {"firstName", "lastName", "email", "phone"};
        v = "{\"contactId\":\"a\",\"phone\":\"+1 555\"}";
        assert_int_equal(cxw_contact_decode(v, strlen(v), NULL, 0, more, 4, MAXB, &u, err,
                                            sizeof(err)),
                         0);
        assert_string_equal(u.body, "{\"phone\":\"+1 555\"}");
        cxw_contact_update_clear(&u);
}

static void deeply_nested_and_huge_json_do_not_crash(void **state)
{
        enum { DEPTH = 100000 };
        char *deep = malloc(2 * DEPTH + 64);
        cxw_contact_update_t u;
        char err[256];
        size_t n = 0;
        (void)state;

        assert_non_null(deep);
        /* {"contactId":"a","firstName":[[[[...]]]]} */
        n += (size_t)sprintf(deep, "{\"contactId\":\"a\",\"firstName\":");
        for (int i = 0; i < DEPTH; i++)
                deep[n++] = '[';
        for (int i = 0; i < DEPTH; i++)
                deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = '\0';
        assert_int_equal(cxw_contact_decode(deep, n, NULL, 0, allowed, NALLOWED,
                                            4 * DEPTH, &u, err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "invalid JSON"));
        /* and refused before parsing when over the limit */
        assert_int_equal(cxw_contact_decode(deep, n, NULL, 0, allowed, NALLOWED, 1000, &u,
                                            err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "over the limit of 1000"));
        free(deep);

        /* a huge object with many unknown keys: rejected on the first */
        enum { KEYS = 20000 };
        char *huge = malloc((size_t)KEYS * 24 + 64);
        assert_non_null(huge);
        n = (size_t)sprintf(huge, "{\"contactId\":\"a\"");
        for (int i = 0; i < KEYS; i++)
                n += (size_t)sprintf(huge + n, ",\"k%d\":\"v\"", i);
        huge[n++] = '}';
        huge[n] = '\0';
        assert_int_equal(cxw_contact_decode(huge, n, NULL, 0, allowed, NALLOWED, n, &u,
                                            err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "unknown fields 'k0', 'k1', "));
        char big_err[1024];
        assert_int_equal(cxw_contact_decode(huge, n, NULL, 0, allowed, NALLOWED, n, &u,
                                            big_err, sizeof(big_err)),
                         -1);
        assert_non_null(strstr(big_err, " more (allowed: firstName, lastName, email)"));
        free(huge);
}

static void path_replaces_the_first_placeholder(void **state)
{
        char *p;
        (void)state;

        p = cxw_contact_path("/api/v2/contacts/{contactId}", "c-123");
        assert_string_equal(p, "/api/v2/contacts/c-123");
        free(p);
        p = cxw_contact_path("/x/{contactId}/fields?c={contactId}", "ab");
        assert_string_equal(p, "/x/ab/fields?c={contactId}");
        free(p);
        p = cxw_contact_path("{contactId}", "");
        assert_string_equal(p, "");
        free(p);
        assert_null(cxw_contact_path("/api/v2/contacts/", "c"));
        assert_null(cxw_contact_path("/api/{contactid}", "c"));
        assert_null(cxw_contact_path(NULL, "c"));
        assert_null(cxw_contact_path("/{contactId}", NULL));
}

/* The plain messages are read without jansson; the same message written
 * with an escape (which only jansson reads) must give the same update or
 * the same error, byte for byte. */
static void plain_and_escaped_messages_decode_alike(void **state)
{
        static const char *const pairs[][2] = {
            {"{\"contactId\":\"c-1\",\"firstName\":\"Ann\",\"email\":\"a@b.example\"}",
             "{\"contactId\":\"c-1\",\"firstName\":\"\\u0041nn\",\"email\":\"a@b."
             "example\"}"},
            {" {\n\t\"contactId\" : \"c-1\" ,\r\"lastName\":null, "
             "\"email\":\"a@b.example\" } \n",
             "{\"contactId\":\"c\\u002d1\",\"lastName\":null,\"email\":\"a@b.example\"}"},
            {"{\"contactId\":\"c-1\",\"nick\":\"x\"}",
             "{\"contactId\":\"c-1\",\"nick\":\"\\u0078\"}"},
            {"{\"contactId\":\"c-1\",\"firstName\":\"\",\"lastName\":null}",
             "{\"contactId\":\"c\\u002d1\",\"firstName\":\"\",\"lastName\":null}"},
            {"{\"contactId\":\"c-1\",\"email\":\"not an address\"}",
             "{\"contactId\":\"c-1\",\"email\":\"not an addres\\u0073\"}"},
            {"{\"firstName\":\"Ann\"}", "{\"firstName\":\"\\u0041nn\"}"},
            {"{\"contactId\":null,\"firstName\":\"Ann\"}",
             "{\"contactId\":null,\"firstName\":\"\\u0041nn\"}"},
            {"{\"contactId\":\"c 1\",\"firstName\":\"Ann\"}",
             "{\"contactId\":\"c\\u00201\",\"firstName\":\"Ann\"}"},
            {"{}", "{ }"},
        };
        (void)state;

        for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
                cxw_contact_update_t a, b;
                char ea[256], eb[256];
                int ra = decode(pairs[i][0], NULL, &a, ea, sizeof(ea));
                int rb = decode(pairs[i][1], NULL, &b, eb, sizeof(eb));
                if (ra != rb)
                        fail_msg("pair %zu: %d (%s) vs %d (%s)", i, ra, ea, rb, eb);
                if (ra == 0) {
                        assert_string_equal(a.contact_id, b.contact_id);
                        assert_string_equal(a.body, b.body);
                        assert_int_equal(a.body_len, strlen(a.body));
                        assert_int_equal(a.nfields, b.nfields);
                        for (size_t f = 0; f < a.nfields; f++)
                                assert_ptr_equal(a.fields[f], b.fields[f]);
                } else {
                        assert_string_equal(ea, eb);
                }
                cxw_contact_update_clear(&a);
                cxw_contact_update_clear(&b);
        }
}

/* Messages just outside the plain shape still decode (through jansson). */
static void unusual_but_valid_messages_still_decode(void **state)
{
        cxw_contact_update_t u;
        char err[256], msg[1024];
        size_t off;
        (void)state;

        /* UTF-8 in a value, and DEL */
        assert_int_equal(
            decode("{\"contactId\":\"c-1\",\"firstName\":\"Zo\xc3\xab\x7f\"}", NULL, &u,
                   err, sizeof(err)),
            0);
        assert_string_equal(u.body, "{\"firstName\":\"Zo\xc3\xab\x7f\"}");
        cxw_contact_update_clear(&u);

        /* more members than the plain reader takes: all null but one */
        off = (size_t)snprintf(msg, sizeof(msg), "{\"contactId\":\"c-1\"");
        for (int i = 0; i < 20; i++)
                off += (size_t)snprintf(msg + off, sizeof(msg) - off, ",\"f%d\":null", i);
        snprintf(msg + off, sizeof(msg) - off, "}");
        assert_int_equal(decode(msg, NULL, &u, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "unknown fields 'f0', 'f1', "));

        /* a duplicate is named whichever reader sees it first */
        assert_int_equal(decode("{\"contactId\":\"c-1\",\"email\":\"a@b.example\","
                                "\"email\":\"c@d.example\"}",
                                NULL, &u, err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "duplicate key 'email'"));
        /* trailing garbage after a plain object */
        assert_int_equal(decode("{\"contactId\":\"c-1\",\"firstName\":\"A\"} x", NULL, &u,
                                err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "invalid JSON"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(valid_update_with_all_fields_builds_body_without_contact_id),
            cmocka_unit_test(body_keeps_the_order_of_the_message),
            cmocka_unit_test(empty_strings_and_nulls_are_left_out),
            cmocka_unit_test(key_equal_or_absent_is_accepted_and_different_is_rejected),
            cmocka_unit_test(each_rejection_names_its_problem),
            cmocka_unit_test(binary_and_invalid_utf8_are_reported_not_crashed_on),
            cmocka_unit_test(every_unknown_field_is_named_at_once),
            cmocka_unit_test(a_rejection_keeps_the_contact_id_when_it_can_be_read),
            cmocka_unit_test(contact_id_edge_cases),
            cmocka_unit_test(email_validation_table),
            cmocka_unit_test(message_over_max_bytes_is_rejected_with_both_sizes),
            cmocka_unit_test(allowed_list_comes_from_the_caller),
            cmocka_unit_test(deeply_nested_and_huge_json_do_not_crash),
            cmocka_unit_test(path_replaces_the_first_placeholder),
            cmocka_unit_test(plain_and_escaped_messages_decode_alike),
            cmocka_unit_test(unusual_but_valid_messages_still_decode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_addressbook.c: the address-book target's request. The field map
 * (default, parsed, refused), the path (never fullLoad=true, the book id and
 * prefix validated), the body (map order, escaping, limits), and an entry's
 * outcome from its batch result. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/requests/addressbook.h"
#include "cxone/requests/contacts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(n, v)                                                                          \
        {                                                                                \
                .name = (n), .value = (v)                                                \
        }

static char *body_ok(const cxw_ab_map_t *m, const cxw_ab_entry_t *e, size_t n)
{
        char err[512] = "";
        size_t len = 0, bad = 7;
        char *body = cxw_ab_body(m, e, n, 1 << 20, &len, &bad, err, sizeof(err));

        if (!body)
                fail_msg("cxw_ab_body: %s", err);
        assert_int_equal(len, strlen(body));
        return body;
}

/* Refused: returns the error text (static) and checks the entry at fault. */
static const char *body_refused(const cxw_ab_map_t *m, const cxw_ab_entry_t *e, size_t n,
                                size_t max_bytes, size_t want_bad)
{
        static char err[512];
        size_t bad = 12345;

        err[0] = '\0';
        assert_null(cxw_ab_body(m, e, n, max_bytes, NULL, &bad, err, sizeof(err)));
        assert_int_equal(bad, want_bad);
        assert_true(err[0] != '\0');
        return err;
}

static void default_map_sends_contact_id_as_external_id_and_the_rest_by_name(void **state)
{
        cxw_ab_map_t m;
        const cxw_ab_field_t f1[] = {F("email", "ann@example.com"), F("firstName", "Ann"),
                                     F("lastName", ""), F("mobile", "+15550001")};
        const cxw_ab_field_t f2[] = {F("phone", "555-1"), F("lastName", NULL)};
        const cxw_ab_entry_t e[] = {{"c-1", f1, 4}, {"c.2", f2, 2}, {"c_3", NULL, 0}};
        char *body;

        (void)state;
        cxw_ab_map_default(&m);
        body = body_ok(&m, e, 3);
        /* map order, empty and NULL values left out */
        assert_string_equal(body,
                            "{\"addressBookEntries\":["
                            "{\"externalId\":\"c-1\",\"firstName\":\"Ann\","
                            "\"email\":\"ann@example.com\",\"mobile\":\"+15550001\"},"
                            "{\"externalId\":\"c.2\",\"phone\":\"555-1\"},"
                            "{\"externalId\":\"c_3\"}]}");
        free(body);
}

static void parsed_map_renames_and_limits_the_fields(void **state)
{
        const char *items[] = {"contactId=externalId", "email=emailAddress", "phone",
                               "firstName=first_name"};
        const cxw_ab_field_t f[] = {F("phone", "1"), F("email", "a@b.co"),
                                    F("firstName", "Bo")};
        const cxw_ab_field_t extra[] = {F("lastName", "X")};
        const cxw_ab_entry_t e[] = {{"k", f, 3}};
        const cxw_ab_entry_t e2[] = {{"k", f, 1}, {"j", extra, 1}};
        const char *names[8];
        char err[256] = "";
        cxw_ab_map_t m;
        char *body;

        (void)state;
        assert_int_equal(cxw_ab_map_parse(items, 4, &m, err, sizeof(err)), 0);
        assert_int_equal(m.n, 4);
        assert_int_equal(cxw_ab_map_fields(&m, names, 8), 3);
        assert_string_equal(names[0], "email");
        assert_string_equal(names[1], "phone");
        assert_string_equal(names[2], "firstName");
        assert_int_equal(cxw_ab_map_fields(&m, names, 1), 3); /* count beyond cap */
        body = body_ok(&m, e, 1);
        assert_string_equal(body, "{\"addressBookEntries\":[{\"externalId\":\"k\","
                                  "\"emailAddress\":\"a@b.co\",\"phone\":\"1\","
                                  "\"first_name\":\"Bo\"}]}");
        free(body);
        /* a field the map does not send is refused, naming entry and field */
        assert_non_null(strstr(body_refused(&m, e2, 2, 1 << 20, 1), "entry 1 (j)"));
        assert_non_null(strstr(body_refused(&m, e2, 2, 1 << 20, 1), "\"lastName\""));
}

static void bad_maps_are_refused_naming_the_item(void **state)
{
        static const struct {
                const char *items[4];
                size_t n;
                const char *want;
        } cases[] = {
            {{"email"}, 1, "lacks contactId=externalId"},
            {{"contactId=externalId", "email=externalId"}, 2, "entry field given twice"},
            {{"contactId=externalId", "phone=externalId2", "phone=x"},
             3,
             "message field given twice"},
            {{"contactId=id"}, 1, "contactId goes to externalId"},
            {{"contactId=externalId", "email=externalId"}, 2, "email=externalId"},
            {{"contactId"}, 1, "contactId goes to externalId"},
            {{"contactId=externalId", "a=b=c"}, 2, "a=b=c"},
            {{"contactId=externalId", ""}, 2, "expected from=to"},
            {{"contactId=externalId", "=x"}, 2, "expected from=to"},
            {{"contactId=externalId", "e mail"}, 2, "e mail"},
            {{"contactId=externalId", "email="}, 2, "expected from=to"},
            {{"contactId=externalId", NULL}, 2, "expected from=to"},
        };
        const char *many[CXW_AB_FIELDS_MAX + 1];
        char names[CXW_AB_FIELDS_MAX + 1][16];
        char err[256];
        cxw_ab_map_t m;

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                err[0] = '\0';
                memset(&m, 0xAB, sizeof(m));
                assert_int_equal(
                    cxw_ab_map_parse(cases[i].items, cases[i].n, &m, err, sizeof(err)),
                    -1);
                if (!strstr(err, cases[i].want))
                        fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].want);
                assert_int_equal(m.n, 0);
        }
        for (int i = 0; i <= CXW_AB_FIELDS_MAX; i++) {
                snprintf(names[i], sizeof(names[i]), "f%d", i);
                many[i] = names[i];
        }
        many[0] = "contactId=externalId";
        assert_int_equal(cxw_ab_map_parse(many, CXW_AB_FIELDS_MAX, &m, err, sizeof(err)),
                         0);
        assert_int_equal(
            cxw_ab_map_parse(many, CXW_AB_FIELDS_MAX + 1, &m, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "more than"));
}

static void values_are_escaped_and_invalid_utf8_replaced(void **state)
{
        cxw_ab_map_t m;
        const cxw_ab_field_t f[] = {F("firstName", "A \"q\" \\ b\n\t\x01 é"),
                                    F("lastName", "bad \xff\xfe end")};
        const cxw_ab_entry_t e[] = {{"c1", f, 2}};
        json_error_t jerr;
        json_t *j;
        char *body;

        (void)state;
        cxw_ab_map_default(&m);
        body = body_ok(&m, e, 1);
        assert_non_null(
            strstr(body, "\"firstName\":\"A \\\"q\\\" \\\\ b\\n\\t\\u0001 é\""));
        /* the whole body is valid JSON and reads back */
        j = json_loads(body, 0, &jerr);
        assert_non_null(j);
        assert_string_equal(
            json_string_value(json_object_get(
                json_array_get(json_object_get(j, "addressBookEntries"), 0),
                "firstName")),
            "A \"q\" \\ b\n\t\x01 é");
        assert_string_equal(
            json_string_value(json_object_get(
                json_array_get(json_object_get(j, "addressBookEntries"), 0), "lastName")),
            "bad \xef\xbf\xbd\xef\xbf\xbd end");
        json_decref(j);
        free(body);
}

static void field_and_batch_limits_are_enforced(void **state)
{
        cxw_ab_map_t m;
        static char big[CXW_CONTACT_VALUE_MAX + 2];
        cxw_ab_field_t f[] = {F("email", big)};
        const cxw_ab_field_t dup[] = {F("email", "a@b.co"), F("email", "c@d.co")};
        const cxw_ab_field_t idf[] = {F("contactId", "x")};
        cxw_ab_entry_t e[] = {{"ok", NULL, 0}, {"k", f, 1}};
        static cxw_ab_entry_t many[CXW_AB_ENTRIES_MAX + 1];
        const char *err;
        char *body;

        (void)state;
        cxw_ab_map_default(&m);
        memset(big, 'v', CXW_CONTACT_VALUE_MAX);
        big[CXW_CONTACT_VALUE_MAX] = '\0';
        body = body_ok(&m, e, 2); /* exactly the limit */
        free(body);
        big[CXW_CONTACT_VALUE_MAX] = 'v';
        big[CXW_CONTACT_VALUE_MAX + 1] = '\0';
        err = body_refused(&m, e, 2, 1 << 20, 1);
        assert_non_null(strstr(err, "\"email\" is longer than"));
        assert_null(strstr(err, "vvvv")); /* values never echoed */

        e[1].fields = dup;
        e[1].nfields = 2;
        assert_non_null(strstr(body_refused(&m, e, 2, 1 << 20, 1), "given twice"));
        e[1].fields = idf; /* the id goes as externalId, never as a field */
        e[1].nfields = 1;
        assert_non_null(strstr(body_refused(&m, e, 2, 1 << 20, 1), "\"contactId\""));
        e[1].nfields = 0;
        e[1].contact_id = "a/b";
        assert_non_null(strstr(body_refused(&m, e, 2, 1 << 20, 1), "contactId"));
        e[1].contact_id = NULL;
        (void)body_refused(&m, e, 2, 1 << 20, 1);
        e[1].contact_id = "..";
        (void)body_refused(&m, e, 2, 1 << 20, 1);

        /* the batch as a whole */
        (void)body_refused(&m, e, 0, 1 << 20, (size_t)-1);
        (void)body_refused(&m, NULL, 1, 1 << 20, (size_t)-1);
        for (size_t i = 0; i <= CXW_AB_ENTRIES_MAX; i++)
                many[i].contact_id = "same-is-fine-here";
        body = body_ok(&m, many, CXW_AB_ENTRIES_MAX);
        free(body);
        (void)body_refused(&m, many, CXW_AB_ENTRIES_MAX + 1, 1 << 20, (size_t)-1);
        /* max_bytes: {"addressBookEntries":[{"externalId":"ok"}]} is 44 bytes */
        e[1].contact_id = "k";
        e[1].nfields = 0;
        body = body_ok(&m, e, 1);
        assert_int_equal(strlen(body), 44);
        free(body);
        assert_non_null(strstr(body_refused(&m, e, 1, 43, (size_t)-1), "over 43 bytes"));
        body = cxw_ab_body(&m, e, 1, 44, NULL, NULL, NULL, 0);
        assert_non_null(body);
        free(body);
}

static void path_is_the_dynamic_entries_upsert_and_never_a_full_load(void **state)
{
        static const char *const bad_prefixes[] = {
            "nolead", "/trailing/", "//x",  "/a//b", "/a/../b", "/a/./b",
            "/..",    "/a?x=1",     "/a#f", "/a b",  "/a%2e",   "/a\n"};
        static const char *const bad_ids[] = {"",    "1/2", "..",  "a?b",
                                              "a b", "1.2", "%31", "12\n"};
        char longid[CXW_AB_BOOK_ID_MAX + 2];
        char longprefix[CXW_AB_PREFIX_MAX + 2];
        char err[512];
        char *p;

        (void)state;
        p = cxw_ab_path(NULL, "12345", err, sizeof(err));
        assert_string_equal(p, "/inContactAPI/services/v30.0/address-books/12345/"
                               "dynamic-entries?fullLoad=false");
        free(p);
        p = cxw_ab_path("", "book_A-1", err, sizeof(err));
        assert_string_equal(p, "/address-books/book_A-1/dynamic-entries?fullLoad=false");
        free(p);
        p = cxw_ab_path("/api/v31.0~x", "7", err, sizeof(err));
        assert_string_equal(
            p, "/api/v31.0~x/address-books/7/dynamic-entries?fullLoad=false");
        free(p);
        for (size_t i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++) {
                err[0] = '\0';
                assert_null(cxw_ab_path(bad_prefixes[i], "7", err, sizeof(err)));
                assert_non_null(strstr(err, "prefix"));
                assert_null(strchr(err, '\n')); /* echoed printable only */
        }
        for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
                err[0] = '\0';
                assert_null(cxw_ab_path(NULL, bad_ids[i], err, sizeof(err)));
                assert_non_null(strstr(err, "addressBookId"));
                assert_null(strchr(err, '\n'));
        }
        assert_null(cxw_ab_path(NULL, NULL, err, sizeof(err)));
        memset(longid, '1', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        assert_null(cxw_ab_path(NULL, longid, err, sizeof(err)));
        longid[CXW_AB_BOOK_ID_MAX] = '\0';
        p = cxw_ab_path(NULL, longid, err, sizeof(err));
        assert_non_null(p);
        free(p);
        longprefix[0] = '/';
        memset(longprefix + 1, 'p', sizeof(longprefix) - 2);
        longprefix[sizeof(longprefix) - 1] = '\0';
        assert_null(cxw_ab_path(longprefix, "1", err, sizeof(err)));
        longprefix[CXW_AB_PREFIX_MAX] = '\0';
        p = cxw_ab_path(longprefix, "1", err, sizeof(err));
        assert_non_null(p);
        assert_null(strstr(p, "fullLoad=true"));
        free(p);
}

/* A batch of 5 with entry 3 bad, through bisect.h, to outcome fields. */
static void batch_results_become_outcome_fields(void **state)
{
        cxw_bisect_t *b = cxw_bisect_new(5, 5);
        int64_t consumed[5] = {100, 100, 101, 102, 103};
        cxw_batch_result_t res[5];
        const cxw_batch_call_t *calls;
        size_t ncalls, lo, hi;
        int64_t now = 200;
        cxw_outcome_t o;
        char *json;
        json_t *j;

        (void)state;
        for (int guard = 0; guard < 50 && !cxw_bisect_finished(b); guard++) {
                int c = cxw_bisect_next(b, now, &lo, &hi);
                assert_true(c >= 0);
                now += 10;
                (void)cxw_bisect_answer(b, c, now, lo <= 3 && 3 < hi ? 400 : 200, 0,
                                        "entry c3: email is invalid");
        }
        calls = cxw_bisect_calls(b, &ncalls);
        assert_int_equal(cxw_batch_results(calls, ncalls, 5, consumed, res), 5);

        memset(&o, 0, sizeof(o));
        o.type = "contact-update";
        o.contact_id = "c3";
        o.topic = "cxone.contact-updates";
        assert_int_equal(cxw_ab_outcome(&res[3], &o), 0);
        assert_int_equal(o.status, CXW_OUTCOME_REJECTED);
        assert_int_equal(o.http_status, 400);
        assert_int_equal(o.attempts, 4); /* [0,5) [2,5) [3,5) [3,4) */
        assert_int_equal(o.latency_ms, res[3].finished_ms - 102);
        assert_string_equal(o.error,
                            "CXone answered HTTP 400: entry c3: email is invalid");
        json = cxw_outcome_json(&o);
        assert_non_null(json);
        j = json_loads(json, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "status")), "rejected");
        assert_int_equal(json_integer_value(json_object_get(j, "attempts")), 4);
        json_decref(j);
        free(json);

        memset(&o, 0, sizeof(o));
        assert_int_equal(cxw_ab_outcome(&res[0], &o), 0);
        assert_int_equal(o.status, CXW_OUTCOME_SUCCEEDED);
        assert_int_equal(o.attempts, 2);
        assert_int_equal(o.http_status, 200);
        assert_null(o.error);
        assert_true(o.latency_ms > 0);

        res[1].verdict = CXW_BATCH_CALL_FAILED;
        res[1].error = NULL;
        assert_int_equal(cxw_ab_outcome(&res[1], &o), 0);
        assert_int_equal(o.status, CXW_OUTCOME_FAILED);
        assert_non_null(o.error);

        res[2].verdict = CXW_BATCH_CALL_RETRY; /* not final: untouched */
        o.attempts = 99;
        assert_int_equal(cxw_ab_outcome(&res[2], &o), -1);
        assert_int_equal(o.attempts, 99);
        cxw_bisect_destroy(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(
                default_map_sends_contact_id_as_external_id_and_the_rest_by_name),
            cmocka_unit_test(parsed_map_renames_and_limits_the_fields),
            cmocka_unit_test(bad_maps_are_refused_naming_the_item),
            cmocka_unit_test(values_are_escaped_and_invalid_utf8_replaced),
            cmocka_unit_test(field_and_batch_limits_are_enforced),
            cmocka_unit_test(path_is_the_dynamic_entries_upsert_and_never_a_full_load),
            cmocka_unit_test(batch_results_become_outcome_fields),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

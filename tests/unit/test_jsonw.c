/* test_jsonw.c: the small JSON writer: escaping, bad UTF-8, structure, and a
 * round trip through jansson's parser (and byte equality with its dumper). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/base/jsonw.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The JSON text of one string value of n bytes. */
static char *str_json(const char *s, size_t n)
{
        cxw_jsonw_t w;

        cxw_jsonw_init(&w, 0);
        cxw_jsonw_strn(&w, s, n);
        return cxw_jsonw_finish(&w, NULL);
}

static void expect_str(const char *in, size_t n, const char *want)
{
        char *got = str_json(in, n);

        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
}

static void quotes_backslashes_and_control_chars_are_escaped(void **state)
{
        (void)state;
        expect_str("plain", 5, "\"plain\"");
        expect_str("", 0, "\"\"");
        expect_str("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
        expect_str("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
        expect_str("\x01\x1f", 2, "\"\\u0001\\u001F\"");
        /* NUL inside the given length, DEL and '/' as they are */
        expect_str("a\0b", 3, "\"a\\u0000b\"");
        expect_str("\x7f/", 2, "\"\x7f/\"");
}

static void valid_utf8_passes_unchanged(void **state)
{
        (void)state;
        /* é (2 bytes), € (3), U+10FFFF (4), an emoji (4), U+FFFD itself */
        const char *s =
            "\xC3\xA9\xE2\x82\xAC\xF4\x8F\xBF\xBF\xF0\x9F\x98\x80\xEF\xBF\xBD";
        char want[64];

        snprintf(want, sizeof(want), "\"%s\"", s);
        expect_str(s, strlen(s), want);
}

static void invalid_utf8_becomes_replacement_chars(void **state)
{
        (void)state;
#define R "\xEF\xBF\xBD"
        expect_str("a\x80z", 3, "\"a" R "z\"");         /* lone continuation */
        expect_str("\xE2\x82", 2, "\"" R R "\"");       /* truncated at the end */
        expect_str("\xE2\x82z", 3, "\"" R R "z\"");     /* truncated in the middle */
        expect_str("\xC0\xAF", 2, "\"" R R "\"");       /* overlong '/' */
        expect_str("\xE0\x80\xAF", 3, "\"" R R R "\""); /* overlong, 3 bytes */
        expect_str("\xED\xA0\x80", 3, "\"" R R R "\""); /* a UTF-16 surrogate */
        expect_str("\xF4\x90\x80\x80", 4, "\"" R R R R "\""); /* above U+10FFFF */
        expect_str("\xF5\xFF", 2, "\"" R R "\"");             /* never valid bytes */
        expect_str("\xC3\"", 2, "\"" R "\\\"\""); /* lead byte, then a quote */
#undef R
}

/* Random bytes, valid or not: the output always parses (jansson rejects
 * invalid UTF-8 and bad escapes) and, when the input was valid UTF-8 (what
 * jansson itself accepts), gives the input back and the same bytes as
 * json_dumps. */
static void random_strings_round_trip_through_jansson(void **state)
{
        uint64_t x = 0x9E3779B97F4A7C15ULL;
        int valid_seen = 0;
        (void)state;

        for (int round = 0; round < 20000; round++) {
                char in[40];
                size_t n;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                n = (size_t)(x % sizeof(in));
                for (size_t i = 0; i < n; i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        /* mostly ASCII, some high and control bytes */
                        unsigned r = (unsigned)(x >> 32);
                        in[i] =
                            (char)(r % 4 == 0 ? (r >> 8) & 0xFF : 0x20 + (r >> 8) % 95);
                }
                char *out = str_json(in, n);
                assert_non_null(out);
                json_error_t jerr;
                json_t *j = json_loads(out, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
                if (!j)
                        fail_msg("jansson cannot parse %s: %s", out, jerr.text);
                assert_true(json_is_string(j));
                json_t *ref = json_stringn(in, n); /* NULL unless valid UTF-8 */
                if (ref) {
                        valid_seen++;
                        assert_int_equal(json_string_length(j), n);
                        assert_memory_equal(json_string_value(j), in, n);
                        char *dumped = json_dumps(ref, JSON_ENCODE_ANY | JSON_COMPACT);
                        assert_string_equal(out, dumped);
                        free(dumped);
                        json_decref(ref);
                }
                json_decref(j);
                free(out);
        }
        assert_true(valid_seen > 100); /* both kinds were tried */
}

static void objects_arrays_and_numbers_match_jansson(void **state)
{
        cxw_jsonw_t w;
        char *out;
        size_t len = 0;
        (void)state;

        cxw_jsonw_init(&w, 8); /* small: it has to grow */
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_kstr(&w, "type", "contact-update");
        cxw_jsonw_kstr(&w, "error", NULL);
        cxw_jsonw_key(&w, "fields");
        cxw_jsonw_arr_begin(&w);
        cxw_jsonw_str(&w, "a");
        cxw_jsonw_str(&w, "b\n");
        cxw_jsonw_arr_begin(&w);
        cxw_jsonw_arr_end(&w);
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_obj_end(&w);
        cxw_jsonw_arr_end(&w);
        cxw_jsonw_key(&w, "source");
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_kint(&w, "min", LLONG_MIN);
        cxw_jsonw_kint(&w, "max", LLONG_MAX);
        cxw_jsonw_kint(&w, "zero", 0);
        cxw_jsonw_kint(&w, "neg", -42);
        cxw_jsonw_obj_end(&w);
        cxw_jsonw_key(&w, "k\"ey");
        cxw_jsonw_null(&w);
        cxw_jsonw_obj_end(&w);
        out = cxw_jsonw_finish(&w, &len);
        assert_non_null(out);
        assert_int_equal(len, strlen(out));

        json_t *j = json_loads(out, 0, NULL);
        assert_non_null(j);
        char *again = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(out, again);
        assert_string_equal(out, "{\"type\":\"contact-update\",\"error\":null,\"fields\":"
                                 "[\"a\",\"b\\n\",[],{}],\"source\":{\"min\":"
                                 "-9223372036854775808,\"max\":9223372036854775807,"
                                 "\"zero\":0,\"neg\":-42},\"k\\\"ey\":null}");
        free(again);
        json_decref(j);
        free(out);
}

static void misuse_and_depth_fail_without_output(void **state)
{
        cxw_jsonw_t w;
        (void)state;

        /* a key outside an object */
        cxw_jsonw_init(&w, 0);
        cxw_jsonw_key(&w, "k");
        assert_null(cxw_jsonw_finish(&w, NULL));

        /* unclosed */
        cxw_jsonw_init(&w, 0);
        cxw_jsonw_obj_begin(&w);
        assert_null(cxw_jsonw_finish(&w, NULL));

        /* a key without a value */
        cxw_jsonw_init(&w, 0);
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_key(&w, "k");
        cxw_jsonw_obj_end(&w);
        assert_null(cxw_jsonw_finish(&w, NULL));

        /* deeper than CXW_JSONW_DEPTH; the error sticks */
        cxw_jsonw_init(&w, 0);
        for (int i = 0; i <= CXW_JSONW_DEPTH; i++)
                cxw_jsonw_arr_begin(&w);
        for (int i = 0; i <= CXW_JSONW_DEPTH; i++)
                cxw_jsonw_arr_end(&w);
        assert_null(cxw_jsonw_finish(&w, NULL));

        /* exactly CXW_JSONW_DEPTH is fine */
        cxw_jsonw_init(&w, 0);
        for (int i = 0; i < CXW_JSONW_DEPTH; i++)
                cxw_jsonw_arr_begin(&w);
        for (int i = 0; i < CXW_JSONW_DEPTH; i++)
                cxw_jsonw_arr_end(&w);
        char *out = cxw_jsonw_finish(&w, NULL);
        assert_non_null(out);
        assert_int_equal(strlen(out), 2 * CXW_JSONW_DEPTH);
        free(out);

        /* free is NULL-safe and a freed writer can start again */
        cxw_jsonw_free(NULL);
        cxw_jsonw_init(&w, 0);
        cxw_jsonw_free(&w);
        cxw_jsonw_init(&w, 0);
        cxw_jsonw_str(&w, "x");
        out = cxw_jsonw_finish(&w, NULL);
        assert_string_equal(out, "\"x\"");
        free(out);
}

static void long_strings_grow_the_buffer(void **state)
{
        size_t n = 100000;
        char *in = malloc(n);
        (void)state;

        assert_non_null(in);
        for (size_t i = 0; i < n; i++)
                in[i] = (char)(i % 7 == 0 ? '"' : 'a' + i % 26);
        char *out = str_json(in, n);
        assert_non_null(out);
        json_t *j = json_loads(out, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        assert_int_equal(json_string_length(j), n);
        assert_memory_equal(json_string_value(j), in, n);
        json_decref(j);
        free(out);
        free(in);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(quotes_backslashes_and_control_chars_are_escaped),
            cmocka_unit_test(valid_utf8_passes_unchanged),
            cmocka_unit_test(invalid_utf8_becomes_replacement_chars),
            cmocka_unit_test(random_strings_round_trip_through_jansson),
            cmocka_unit_test(objects_arrays_and_numbers_match_jansson),
            cmocka_unit_test(misuse_and_depth_fail_without_output),
            cmocka_unit_test(long_strings_grow_the_buffer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

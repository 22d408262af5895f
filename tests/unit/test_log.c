/* test_log.c: one JSON object per line, fields as members, the level
 * checked before formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxone/base/log.h"

/* Runs fn with stderr sent to a temp file; returns the first line, parsed. */
static json_t *capture(void (*fn)(void))
{
        char path[] = "/tmp/cxw-test-log.XXXXXX";
        int fd = mkstemp(path);
        int saved = dup(2);
        char buf[8192] = {0};
        json_error_t err;
        json_t *j;
        FILE *f;

        assert_true(fd >= 0);
        fflush(stderr);
        dup2(fd, 2);
        fn();
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        close(fd);
        f = fopen(path, "r");
        assert_non_null(f);
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        unlink(path);
        if (!buf[0])
                return NULL;
        assert_non_null(strchr(buf, '\n'));
        j = json_loads(buf, 0, &err);
        if (!j)
                fail_msg("not JSON: %s (%s)", buf, err.text);
        return j;
}

static void write_fields(void)
{
        static const char *const kv[] = {"topic",      "cxone.contact-updates",
                                         "partition",  "3",
                                         "offset",     "1234567",
                                         "contactId",  "c\"1\n",
                                         "jobId",      NULL,
                                         "httpStatus", "-1",
                                         NULL};
        cxw_log_kv(CXW_LOG_WARN, "outcome", kv, "rejected: %s", "bad \"email\"");
}

static void test_fields_are_members_and_numbers_are_numbers(void **state)
{
        json_t *j = capture(write_fields);

        (void)state;
        assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
        assert_string_equal(json_string_value(json_object_get(j, "component")),
                            "outcome");
        assert_string_equal(json_string_value(json_object_get(j, "msg")),
                            "rejected: bad \"email\"");
        assert_string_equal(json_string_value(json_object_get(j, "topic")),
                            "cxone.contact-updates");
        assert_int_equal(json_integer_value(json_object_get(j, "partition")), 3);
        assert_int_equal(json_integer_value(json_object_get(j, "offset")), 1234567);
        assert_int_equal(json_integer_value(json_object_get(j, "httpStatus")), -1);
        assert_string_equal(json_string_value(json_object_get(j, "contactId")), "c\"1\n");
        assert_null(json_object_get(j, "jobId")); /* NULL values are left out */
        assert_non_null(json_string_value(json_object_get(j, "time")));
        json_decref(j);
}

static void write_debug_below_threshold(void)
{
        cxw_log_set_level("info");
        CXW_DEBUG("x", "must not appear");
        CXW_INFO("x", "plain %d", 7);
}

static void test_the_level_is_checked_and_plain_lines_are_json(void **state)
{
        json_t *j = capture(write_debug_below_threshold);

        (void)state;
        assert_string_equal(json_string_value(json_object_get(j, "msg")), "plain 7");
        assert_int_equal(json_object_size(j), 4);
        json_decref(j);
        assert_int_equal(cxw_log_set_level("verbose"), -1);
}

static void write_long(void)
{
        char big[5000];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        CXW_ERROR("x", "%s", big);
}

static void test_a_long_message_is_cut_but_stays_json(void **state)
{
        json_t *j = capture(write_long);

        (void)state;
        assert_true(strlen(json_string_value(json_object_get(j, "msg"))) > 1000);
        json_decref(j);
}

/* The line buffer is 6144 bytes. A message of many control characters
 * (each escaped to 6 bytes) fills it; with k plain characters in front the
 * escaped message ends at every byte from 6137 to 6142, the last one
 * leaving no room for the closing quote, '}' and newline before the fix
 * (one byte past the buffer: ASan stops the test there). Every length of
 * the control run around the boundary is written, with and without fields. */
static char boundary_msg[2048];
static int boundary_with_fields;

static void write_boundary(void)
{
        static const char *const kv[] = {"partition", "3", "contactId", "c-1", NULL};

        if (boundary_with_fields)
                cxw_log_kv(CXW_LOG_ERROR, "x", kv, "%s", boundary_msg);
        else
                CXW_ERROR("x", "%s", boundary_msg);
}

static void test_a_message_filling_the_line_ends_inside_it(void **state)
{
        (void)state;
        for (int fields = 0; fields <= 1; fields++) {
                for (size_t k = 0; k < 12; k++) {
                        for (size_t m = 1000; m <= 1030; m++) {
                                json_t *j;
                                const char *msg;

                                memset(boundary_msg, 'x', k);
                                memset(boundary_msg + k, '\x01', m);
                                boundary_msg[k + m] = '\0';
                                boundary_with_fields = fields;
                                j = capture(write_boundary);
                                assert_non_null(j);
                                msg = json_string_value(json_object_get(j, "msg"));
                                assert_non_null(msg);
                                /* cut at a whole character, never past it */
                                assert_true(strlen(msg) <= k + m);
                                assert_memory_equal(msg, boundary_msg, strlen(msg));
                                json_decref(j);
                        }
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fields_are_members_and_numbers_are_numbers),
            cmocka_unit_test(test_the_level_is_checked_and_plain_lines_are_json),
            cmocka_unit_test(test_a_long_message_is_cut_but_stays_json),
            cmocka_unit_test(test_a_message_filling_the_line_ends_inside_it),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

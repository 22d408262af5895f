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

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fields_are_members_and_numbers_are_numbers),
            cmocka_unit_test(test_the_level_is_checked_and_plain_lines_are_json),
            cmocka_unit_test(test_a_long_message_is_cut_but_stays_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_schedules_job_fields.c: the names in CXone's job answers are
 * configurable (cxone.schedules.job_id_field, status_field, done_value,
 * failed_value, error_field); the defaults are the seed's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cxone/requests/schedules.h"

static const cxw_schedule_job_fields_t other = {"id", "state", "Succeeded", "Failed",
                                                "failure"};

static void test_defaults_are_the_seeds(void **state)
{
        cxw_schedule_job_answer_t a;
        const char *ok = "{\"jobId\":\"j-1\",\"status\":\"COMPLETED\"}";
        char id[CXW_SCHED_JOB_ID_MAX + 1];

        (void)state;
        assert_int_equal(cxw_schedule_job_answer_parse_with(ok, strlen(ok), NULL, &a), 0);
        assert_true(a.ended);
        assert_true(a.done);
        assert_string_equal(cxw_schedule_job_id_get(ok, strlen(ok), NULL, id, sizeof(id)),
                            "j-1");
}

static void test_other_names_are_read(void **state)
{
        cxw_schedule_job_answer_t a;
        const char *done =
            "{\"id\":\"J.2\",\"state\":\"Succeeded\",\"status\":\"FAILED\"}";
        const char *failed =
            "{\"state\":\"Failed\",\"failure\":{\"message\":\"no shift\"},"
            "\"error\":\"not this\"}";
        const char *running = "{\"state\":\"Running\",\"status\":\"COMPLETED\"}";
        const char *seedid = "{\"jobId\":\"j-1\"}";
        char id[CXW_SCHED_JOB_ID_MAX + 1];

        (void)state;
        assert_int_equal(
            cxw_schedule_job_answer_parse_with(done, strlen(done), &other, &a), 0);
        assert_true(a.ended);
        assert_true(a.done);
        assert_string_equal(a.status, "Succeeded");
        assert_int_equal(
            cxw_schedule_job_answer_parse_with(failed, strlen(failed), &other, &a), 0);
        assert_true(a.ended);
        assert_false(a.done);
        assert_string_equal(a.detail, "no shift");
        assert_int_equal(
            cxw_schedule_job_answer_parse_with(running, strlen(running), &other, &a), 0);
        assert_false(a.ended);
        assert_string_equal(a.status, "Running");
        assert_string_equal(
            cxw_schedule_job_id_get(done, strlen(done), &other, id, sizeof(id)), "J.2");
        assert_null(
            cxw_schedule_job_id_get(seedid, strlen(seedid), &other, id, sizeof(id)));
}

static void test_job_id_still_validated(void **state)
{
        static const char *const bad[] = {"{\"jobId\":\"..\"}", "{\"jobId\":\"a/b\"}",
                                          "{\"jobId\":7}", "not json", "{}"};
        char id[CXW_SCHED_JOB_ID_MAX + 1], tiny[3];
        const char *ok = "{\"jobId\":\"abcd\"}";

        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_null(cxw_schedule_job_id_get(bad[i], strlen(bad[i]), NULL, id,
                                                    sizeof(id)));
        assert_null(cxw_schedule_job_id_get(ok, strlen(ok), NULL, tiny, sizeof(tiny)));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults_are_the_seeds),
            cmocka_unit_test(test_other_names_are_read),
            cmocka_unit_test(test_job_id_still_validated),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

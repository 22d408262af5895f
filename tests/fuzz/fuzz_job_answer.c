/* fuzz_job_answer.c: CXone's answer to a job-status poll through
 * cxw_schedule_job_answer_parse(). Input: the answer body.
 *
 * Beyond not crashing: status and detail are NUL-terminated within their
 * sizes and printable ASCII only (security finding 6: they reach the
 * outcome, the dlq-reason header and `cxonectl results`); against jansson
 * reading the same bytes: the answer is an object exactly when 0 is
 * returned, has_status exactly when "status" is a string, ended exactly
 * when it is COMPLETED or FAILED, a printable status of at most 15 bytes
 * and a printable error text of at most CXW_SCHED_JOB_DETAIL_MAX bytes are
 * kept as they are, longer ones cut with "...", and a detail only for an
 * ended job. */
#include "fuzz_common.h"

#include "cxone/requests/schedules.h"

#include <jansson.h>

static int printable(const char *s, size_t size)
{
        const char *end = memchr(s, '\0', size);

        if (!end)
                return 0;
        for (; s < end; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
                        return 0;
        return 1;
}

/* got is the filtered copy of want, kept whole up to whole bytes, else cut
 * to cut bytes and "...". */
static void check_copy(const char *got, const char *want, size_t whole, size_t cut)
{
        size_t n = strlen(want), g = strlen(got);
        size_t keep = n <= whole ? n : cut;

        FUZZ_CHECK(g == (n <= whole ? n : cut + 3));
        for (size_t i = 0; i < keep; i++) {
                unsigned char c = (unsigned char)want[i];
                FUZZ_CHECK(got[i] == (c >= 0x20 && c < 0x7f ? (char)c : '?'));
        }
        if (n > whole)
                FUZZ_CHECK(memcmp(got + cut, "...", 3) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cxw_schedule_job_answer_t a;
        json_t *j, *e;
        const char *status, *detail;
        int rc;

        memset(&a, 0x5a, sizeof(a)); /* the parser fills every field */
        rc = cxw_schedule_job_answer_parse(data, size, &a);
        FUZZ_CHECK(rc == 0 || rc == -1);
        FUZZ_CHECK(printable(a.status, sizeof(a.status)));
        FUZZ_CHECK(printable(a.detail, sizeof(a.detail)));
        FUZZ_CHECK(a.has_status == 0 || a.has_status == 1);
        FUZZ_CHECK(a.ended == 0 || a.ended == 1);

        j = json_loadb((const char *)data, size, 0, NULL);
        FUZZ_CHECK((rc == 0) == (json_is_object(j) != 0));
        status = json_string_value(json_object_get(j, "status"));
        FUZZ_CHECK(a.has_status == (status != NULL));
        if (!status) {
                FUZZ_CHECK(a.status[0] == '\0' && !a.ended && a.detail[0] == '\0');
                json_decref(j);
                return 0;
        }
        check_copy(a.status, status, CXW_SCHED_JOB_STATUS_SIZE - 1,
                   CXW_SCHED_JOB_STATUS_SIZE - 4);
        FUZZ_CHECK(a.ended ==
                   (strcmp(status, "COMPLETED") == 0 || strcmp(status, "FAILED") == 0));
        if (a.ended)
                FUZZ_CHECK(strcmp(a.status, status) == 0);
        e = json_object_get(j, "error");
        detail = json_is_object(e) ? json_string_value(json_object_get(e, "message"))
                                   : json_string_value(e);
        if (a.ended && detail)
                check_copy(a.detail, detail, CXW_SCHED_JOB_DETAIL_MAX,
                           CXW_SCHED_JOB_DETAIL_MAX);
        else
                FUZZ_CHECK(a.detail[0] == '\0');
        json_decref(j);
        return 0;
}

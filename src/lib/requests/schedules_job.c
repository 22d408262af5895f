/* schedules_job.c: CXone's async import job: its id and its answer. */
#include "cxone/requests/schedules.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <string.h>

/* ---- CXone's async job ------------------------------------------------- */

int cxw_schedule_job_id_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        /* ".", "..": dot segments would take the URL elsewhere */
        if (n == 0 || n > CXW_SCHED_JOB_ID_MAX || strspn(s, ".") == n)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

/* A status for outputs: printable, 15 bytes whole, longer cut to 12 + "...". */
static void job_status_copy(const char *s, char out[CXW_SCHED_JOB_STATUS_SIZE])
{
        char tmp[CXW_SCHED_JOB_STATUS_SIZE + 4];
        size_t n = strlen(s);

        cxw_printable(
            s, n, n < CXW_SCHED_JOB_STATUS_SIZE ? n : CXW_SCHED_JOB_STATUS_SIZE - 4, tmp);
        cxw_strlcpy(out, tmp, CXW_SCHED_JOB_STATUS_SIZE);
}

static const cxw_schedule_job_fields_t default_fields = {"jobId", "status", "COMPLETED",
                                                         "FAILED", "error"};

int cxw_schedule_job_answer_parse(const void *body, size_t len,
                                  cxw_schedule_job_answer_t *out)
{
        return cxw_schedule_job_answer_parse_with(body, len, &default_fields, out);
}

int cxw_schedule_job_answer_parse_with(const void *body, size_t len,
                                       const cxw_schedule_job_fields_t *f,
                                       cxw_schedule_job_answer_t *out)
{
        json_t *j, *e;
        const char *status, *detail;

        memset(out, 0, sizeof(*out));
        if (!f)
                f = &default_fields;
        j = body ? json_loadb(body, len, 0, NULL) : NULL;
        if (!json_is_object(j)) {
                json_decref(j);
                return -1;
        }
        status = json_string_value(json_object_get(j, f->status));
        if (status) {
                out->has_status = 1;
                out->done = strcmp(status, f->done) == 0;
                out->ended = out->done || strcmp(status, f->failed) == 0;
                job_status_copy(status, out->status);
        }
        if (out->ended) {
                e = json_object_get(j, f->error);
                detail = json_is_object(e)
                             ? json_string_value(json_object_get(e, "message"))
                             : json_string_value(e);
                if (detail)
                        cxw_printable(detail, strlen(detail), CXW_SCHED_JOB_DETAIL_MAX,
                                      out->detail);
        }
        json_decref(j);
        return 0;
}

const char *cxw_schedule_job_id_get(const void *body, size_t len,
                                    const cxw_schedule_job_fields_t *f, char *out,
                                    size_t out_size)
{
        json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(j, f ? f->job_id : "jobId"));
        const char *rc = NULL;

        if (cxw_schedule_job_id_ok(id) && strlen(id) < out_size) {
                memcpy(out, id, strlen(id) + 1);
                rc = out;
        }
        json_decref(j);
        return rc;
}

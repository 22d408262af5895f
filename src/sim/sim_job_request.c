/* sim_job_request.c: reading a schedule-import request into a job: its
 * validationMode, conflictResolution, targetCalendarId and each entry's
 * agent and times. A request the simulator would refuse does not fail here:
 * it marks the job bad, and the job ends FAILED with VALIDATION_ERROR when
 * its time comes, as a real asynchronous import reports it. */
#include "sim_jobs_int.h"

#include "cxone/requests/schedules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 256 /* targetCalendarId, agentId, validationMode */

const char *const cxw_sim_job_status_names[] = {"IN_PROGRESS", "COMPLETED", "FAILED"};
const char *const cxw_sim_job_resolution_names[] = {"FAIL", "OVERWRITE", "SKIP",
                                                    "AUTO_RESOLVE"};

void cxw_sim_job_free(cxw_sim_job_t *jb)
{
        if (!jb)
                return;
        for (size_t i = 0; i < jb->n_entries; i++)
                free(jb->entries[i].key);
        free(jb->entries);
        free(jb->calendar);
        free(jb->validation_mode);
        free(jb->idem_key);
        free(jb->invalid);
        free(jb->err_msg);
        free(jb);
}

static void set_invalid(cxw_sim_job_t *jb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_invalid(cxw_sim_job_t *jb, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        jb->bad = true;
        free(jb->invalid);
        jb->invalid = strdup(msg); /* NULL: the job still fails, reason shorter */
}

/* A string value of 1..TEXT_MAX bytes without NULs, or NULL. */
static const char *short_text(json_t *v)
{
        const char *s = json_string_value(v);

        if (!s || !*s || json_string_length(v) > TEXT_MAX ||
            strlen(s) != json_string_length(v))
                return NULL;
        return s;
}

static int parse_time(json_t *v, int64_t *ms, const char **why)
{
        if (!json_is_string(v)) {
                *why = "must be an RFC 3339 date-time string";
                return -1;
        }
        return cxw_schedule_parse_time(json_string_value(v), json_string_length(v), ms,
                                       why);
}

/* Reads the request into jb. Problems with the request make the job fail
 * later (VALIDATION_ERROR), as a real asynchronous import reports them.
 * @returns 0, or -1 when out of memory. */
int cxw_sim_job_parse(cxw_sim_job_t *jb, json_t *body)
{
        json_t *cal = json_object_get(body, "targetCalendarId");
        json_t *mode = json_object_get(body, "validationMode");
        json_t *res = json_object_get(body, "conflictResolution");
        json_t *list = json_object_get(body, "scheduleEntries");
        const char *cal_s = short_text(cal), *s;
        size_t cal_len;

        jb->n_request_entries = json_array_size(list);
        if ((s = short_text(mode)) && !(jb->validation_mode = strdup(s)))
                return -1;
        if (!mode || json_is_null(mode)) {
                set_invalid(jb, "validationMode is missing");
                return 0;
        }
        if (!s) {
                set_invalid(jb, "validationMode must be a string of 1-%d characters",
                            TEXT_MAX);
                return 0;
        }
        {
                const char *r = json_string_value(res);
                size_t i;
                for (i = 0; r && i < RES__CNT; i++) {
                        if (strcmp(r, cxw_sim_job_resolution_names[i]) == 0)
                                break;
                }
                if (!res || json_is_null(res)) {
                        set_invalid(jb, "conflictResolution is missing");
                        return 0;
                }
                if (!r || i == RES__CNT) {
                        set_invalid(jb, "conflictResolution must be AUTO_RESOLVE, FAIL, "
                                        "OVERWRITE or SKIP");
                        return 0;
                }
                jb->resolution = (cxw_sim_job_resolution_t)i;
        }
        if (!cal_s) {
                set_invalid(jb, "targetCalendarId must be a string of 1-%d characters",
                            TEXT_MAX);
                return 0;
        }
        jb->calendar = strdup(cal_s);
        if (!jb->calendar)
                return -1;
        cal_len = strlen(cal_s);
        if (jb->n_request_entries == 0)
                return 0;
        jb->entries = calloc(jb->n_request_entries, sizeof(*jb->entries));
        if (!jb->entries)
                return -1;
        for (size_t i = 0; i < jb->n_request_entries; i++) {
                json_t *e = json_array_get(list, i);
                const char *agent = short_text(json_object_get(e, "agentId"));
                const char *why = NULL;
                cxw_sim_job_entry_t *en = &jb->entries[i];
                size_t alen;

                if (!json_is_object(e)) {
                        set_invalid(jb, "scheduleEntries[%zu]: must be an object", i);
                        goto invalid;
                }
                if (!agent) {
                        set_invalid(jb,
                                    "scheduleEntries[%zu]: agentId must be a string of "
                                    "1-%d characters",
                                    i, TEXT_MAX);
                        goto invalid;
                }
                if (parse_time(json_object_get(e, "startDateTime"), &en->start_ms,
                               &why) != 0) {
                        set_invalid(jb, "scheduleEntries[%zu]: startDateTime %s", i,
                                    why ? why : "is not a valid date-time");
                        goto invalid;
                }
                if (parse_time(json_object_get(e, "endDateTime"), &en->end_ms, &why) !=
                    0) {
                        set_invalid(jb, "scheduleEntries[%zu]: endDateTime %s", i,
                                    why ? why : "is not a valid date-time");
                        goto invalid;
                }
                if (en->end_ms <= en->start_ms) {
                        set_invalid(jb,
                                    "scheduleEntries[%zu]: endDateTime must be after "
                                    "startDateTime",
                                    i);
                        goto invalid;
                }
                alen = strlen(agent);
                en->klen = cal_len + 1 + alen;
                en->key = malloc(en->klen + 1);
                if (!en->key)
                        return -1; /* job_free frees the keys made so far */
                memcpy(en->key, cal_s, cal_len + 1);
                memcpy(en->key + cal_len + 1, agent, alen + 1);
                jb->n_entries = i + 1;
        }
        return 0;
invalid:
        for (size_t i = 0; i < jb->n_entries; i++)
                free(jb->entries[i].key);
        free(jb->entries);
        jb->entries = NULL;
        jb->n_entries = 0;
        return 0;
}

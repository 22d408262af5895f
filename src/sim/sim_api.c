/* sim_api.c: the seed profile's /api/ endpoints: contact PATCHes, schedule
 * imports (the job store is sim_jobs.c) and async-job polls. The fault
 * layer (sim_http.c) has run before any of these. */
#include "sim_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A plausible address: one '@', a non-empty local part, a domain with a
 * '.', no spaces or control characters. */
static bool email_plausible(const char *s)
{
        const char *at = strchr(s, '@');

        if (!at || at == s || strchr(at + 1, '@'))
                return false;
        for (const char *p = s; *p; p++) {
                if ((unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        }
        return strchr(at + 1, '.') != NULL;
}

static bool field_allowed(cxw_sim_t *sim, const char *name)
{
        for (size_t i = 0; i < sim->opts->n_allowed; i++) {
                if (strcmp(sim->opts->allowed[i], name) == 0)
                        return true;
        }
        return false;
}

/* PATCH /api/v2/contacts/{contactId} */
void cxw_sim_on_patch_contact(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        char msg[160];
        const char *reqkey, *k;
        json_t *body, *v, *out;
        json_error_t jerr;

        if (!cxw_sim_bearer_or_401(sim, r))
                return;
        if (r->param_too_long || !cxw_sim_id_valid(r->param)) {
                cxw_sim_answer_error(r, 400,
                                     "invalid contactId: must be 1-128 characters of "
                                     "[A-Za-z0-9._-]");
                return;
        }
        if (r->http->too_large) {
                cxw_sim_answer_error(r, 413, "body larger than 64 KiB");
                return;
        }
        if (!cxw_sim_request_key(r, &reqkey))
                return;
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(body)) {
                json_decref(body);
                cxw_sim_answer_error(r, 400, "body must be a JSON object");
                return;
        }
        if (json_object_get(body, "contactId")) {
                json_decref(body);
                atomic_fetch_add(&sim->bodies_with_contact_id, 1);
                cxw_sim_answer_error(r, 400, "contactId must not be in the body");
                return;
        }
        if (!cxw_sim_contact_exists(sim, r->param)) {
                json_decref(body);
                cxw_sim_answer_error2(r, 404, "contact not found", "contactId", r->param);
                return;
        }
        json_object_foreach(body, k, v)
        {
                const char *why = NULL;
                if (!field_allowed(sim, k))
                        why = "field not allowed";
                else if (!json_is_string(v))
                        why = "field must be a string";
                else if (strcmp(k, "email") == 0 && sim->opts->email_validation &&
                         !email_plausible(json_string_value(v)))
                        why = "not a plausible email address in field";
                if (why) {
                        snprintf(msg, sizeof(msg), "%s: %.100s", why, k);
                        cxw_sim_answer_error2(r, 400, msg, "field", k);
                        json_decref(body);
                        return;
                }
        }
        out = cxw_sim_contact_apply(sim, r->param, body, reqkey);
        json_decref(body);
        if (!out) {
                cxw_sim_answer_error(r, 500, "out of memory");
                return;
        }
        cxw_sim_answer_json(r, 200, out);
}

/* POST /api/v2/wfm/schedules/import: checks the envelope only (a JSON object
 * with a scheduleEntries array); the content is checked by the job, which
 * fails with VALIDATION_ERROR, as an asynchronous import reports it. */
void cxw_sim_on_schedule_import(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        char job_id[48];
        const char *key, *status = NULL;
        json_t *body;
        json_error_t jerr;

        if (!cxw_sim_bearer_ok(sim, r)) {
                cxw_sim_set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
                cxw_sim_answer_error(r, 401, "invalid_token");
                return;
        }
        if (r->http->too_large) {
                cxw_sim_answer_error(r, 413, "body larger than 4 MiB");
                return;
        }
        key = cxw_sim_header(r, "Idempotency-Key");
        if (key && strlen(key) > CXW_SIM_REQKEY_MAX) {
                cxw_sim_answer_error(r, 400, "Idempotency-Key longer than 256");
                return;
        }
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(body)) {
                json_decref(body);
                cxw_sim_answer_error(r, 400, "body must be a JSON object");
                return;
        }
        if (!json_is_array(json_object_get(body, "scheduleEntries"))) {
                json_decref(body);
                cxw_sim_answer_error2(r, 400, "scheduleEntries must be an array", "field",
                                      "scheduleEntries");
                return;
        }
        switch (
            cxw_sim_jobs_submit(sim->jobs, body, key, job_id, sizeof(job_id), &status)) {
        case CXW_SIM_JOB_CREATED:
        case CXW_SIM_JOB_DUPLICATE:
                cxw_sim_answer_json(
                    r, 202, json_pack("{s:s, s:s}", "jobId", job_id, "status", status));
                break;
        case CXW_SIM_JOB_FULL:
                cxw_sim_set_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
                cxw_sim_answer_error(r, 503, "too many import jobs in progress");
                break;
        case CXW_SIM_JOB_NOMEM:
        default:
                cxw_sim_answer_error(r, 500, "out of memory");
                break;
        }
        json_decref(body);
}

json_t *cxw_sim_job_of(cxw_sim_t *sim, cxw_sim_req_t *r, bool internal)
{
        json_t *j = NULL;

        if (!r->param_too_long && cxw_sim_id_valid(r->param))
                j = cxw_sim_jobs_get(sim->jobs, r->param, internal);
        if (!j)
                cxw_sim_answer_error2(r, 404, "job not found", "jobId",
                                      r->param_too_long ? "" : r->param);
        return j;
}

/* GET /api/v2/wfm/async-jobs/{jobId} */
void cxw_sim_on_async_job(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        json_t *j;

        if (!cxw_sim_bearer_ok(sim, r)) {
                cxw_sim_set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
                cxw_sim_answer_error(r, 401, "invalid_token");
                return;
        }
        atomic_fetch_add(&sim->job_polls, 1);
        if ((j = cxw_sim_job_of(sim, r, false)))
                cxw_sim_answer_json(r, 200, j);
}

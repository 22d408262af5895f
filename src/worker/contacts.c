/* contacts.c: the contact-update path, mirroring schedules.c: a consumed
 * update is decoded and queued under its contactId; the pump starts calls
 * as the in-flight limit, the token and the budget allow (retries first);
 * the answer ends the job or hands it to the shared retry logic (calls.c). */
#include "worker_int.h"
#include "cxone/base/util.h"
#include "cxone/flow/budget.h"
#include "cxone/flow/dispatch.h"
#include "cxone/flow/retry.h"
#include "cxone/io/http.h"
#include "cxone/io/token.h"
#include "cxone/requests/contacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void call_done(const cxw_http_response_t *r, void *opaque)
{
        job_t *job = opaque;
        cxw_worker_t *w = job->w;
        cxw_result_class_t cls = cxw_result_classify(r->status, r->transport_error);

        job->http_status = r->status;
        worker_metrics_call(w, "contacts", r->status, r->elapsed_ms);
        if (cls != CXW_RESULT_OK) {
                worker_call_failed(job, r, cls, CXW_CLASS_CONTACTS);
                return;
        }
        worker_cxone_answered(w);
        cxw_budget_on_success(w->budget, CXW_CLASS_CONTACTS, r->sent_ms, cxw_now_ms());
        worker_job_finish(job, CXW_OUTCOME_SUCCEEDED, NULL);
}

static int start_call(cxw_worker_t *w, job_t *job, const char *token, uint64_t gen)
{
        cxw_http_request_t req = {0};
        char *path = cxw_contact_target_path(w->target, job->upd.contact_id);
        const char *base = cxw_contact_target_base(w->target) == CXW_TARGET_BASE_DFO
                               ? w->dfo_base
                               : w->api_base;
        char url[2048];
        char idem[300];
        const char *extra[2];

        if (!path)
                return -1;
        snprintf(url, sizeof(url), "%s%s", base, path); /* known: the gate checked */
        free(path);
        /* Lets a server that honours it drop a replayed request. */
        snprintf(idem, sizeof(idem), "Idempotency-Key: %s:%d:%lld", job->part->topic,
                 (int)job->part->partition, (long long)job->offset);
        extra[0] = idem;
        extra[1] = NULL;
        req.method = cxw_contact_target_method(w->target);
        req.url = url;
        req.content_type = "application/json";
        req.body = job->upd.body;
        req.body_len = job->upd.body_len;
        req.headers = extra;
        return worker_start_call(job, &req, token, gen, call_done, 1);
}

static void pump_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        (void)loop;
        (void)t;
        worker_contacts_pump(opaque);
}

/* Starts as many calls as the in-flight limit, the token and the budget
 * allow: retries first (they are older), then keys the dispatcher has ready. */
void worker_contacts_pump(cxw_worker_t *w)
{
        const cxw_config_t *cfg = w->cfg;

        if (w->stopping) /* what waits is handed over, nothing starts */
                return;
        if (w->batcher) { /* address-book: many updates per request */
                worker_batches_pump(w);
                return;
        }
        /* the token fetch and a discovery fetch are not contact calls */
        while (cxw_http_in_flight(w->http) - (size_t)w->token_in_flight -
                   (size_t)w->disc_in_flight <
               (size_t)cfg->max_in_flight) {
                int64_t now = cxw_now_ms();
                uint64_t gen = 0;
                const char *token;
                job_t *job;

                if (!w->ready.head && cxw_dispatch_ready(w->dispatch) == 0)
                        break;
                token = worker_call_gate(w, CXW_CLASS_CONTACTS, now, &gen, &w->pump_timer,
                                         pump_timer_cb);
                if (!token)
                        break;
                job = worker_ready_pop(&w->ready);
                if (!job)
                        job = cxw_dispatch_pop(w->dispatch);
                if (start_call(w, job, token, gen) == -1) {
                        /* out of memory: try again shortly rather than fail it */
                        job->state = JOB_WAITING;
                        cxw_timer_start(w->loop, &job->timer, now + 100,
                                        worker_retry_timer_cb, job);
                        break;
                }
        }
}

/* Decodes a consumed update and queues it under its contactId (or
 * finishes it, rejected). */
void worker_contact_on_message(cxw_worker_t *w, job_t *job)
{
        const cxw_config_t *cfg = w->cfg;
        char err[ERROR_MAX];

        if (job->len < job->orig_len) { /* over the limit: the value was not kept */
                worker_job_finish(job, CXW_OUTCOME_REJECTED,
                                  "message is %zu bytes, over the limit of %zu",
                                  job->orig_len, (size_t)cfg->max_message_bytes);
                return;
        }
        if (cxw_contact_decode(job->value, job->len, job->key, job->keylen,
                               (const char *const *)cfg->contact_fields.v,
                               cfg->contact_fields.cnt, (size_t)cfg->max_message_bytes,
                               &job->upd, err, sizeof(err)) == -1) {
                worker_job_finish(job, CXW_OUTCOME_REJECTED, "%s", err);
                return;
        }
        /* the target's body (DFO: [{ident,value}]); what cannot go is
         * rejected here, before any call */
        if (cxw_contact_target_body(w->target, &job->upd, err, sizeof(err)) == -1) {
                worker_job_finish(job, CXW_OUTCOME_REJECTED, "%s", err);
                return;
        }
        if (w->batcher && worker_entry_check(w, job, err, sizeof(err)) == -1) {
                worker_job_finish(job, CXW_OUTCOME_REJECTED, "%s", err);
                return;
        }
        worker_job_account(job); /* its request body */
        if (cxw_dispatch_push(w->dispatch, job->upd.contact_id, job) == -1) {
                worker_job_finish(job, CXW_OUTCOME_FAILED, "out of memory");
                return;
        }
        job->dispatched = 1;
        job->state = JOB_QUEUED;
}

/* schedules.c: schedule imports through the replica's pipeline.
 *
 * consume → decode + validate (schedules.c) → per-key queue (calendar) →
 * cap of imports in progress → budget (schedules) → POST the import with an
 * Idempotency-Key → 202 + jobId → poll the async job on loop timers, with
 * growing intervals, within the polls budget, up to schedules.max_wait_ms →
 * outcome. A verified webhook for a tracked job ends it at once.
 *
 * Nothing here blocks: a job between polls is a timer in the loop, so any
 * number of imports wait for CXone while contact updates keep flowing. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/flow/retry.h"
#include "cxone/base/util.h"
#include "cxone/requests/webhook.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_RETRY_MS 500 /* no token or no call slot: look again then */
/* Refused webhooks: one log line at most per interval, with the count. */
#define WEBHOOK_LOG_INTERVAL_MS 10000

static void poll_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque);

static int64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void worker_sched_on_message(cxw_worker_t *w, job_t *job)
{
        const cxw_config_t *cfg = w->cfg;
        cxw_schedule_limits_t lim;
        sched_t *sc = calloc(1, sizeof(*sc));
        char err[CXW_SCHED_ERRSTR_SIZE];
        const void *hdr = NULL;
        size_t hdrlen = 0;
        int64_t t0 = now_us();
        int rc;

        if (!sc) {
                /* Not stored, so it comes again after a restart. */
                CXW_ERROR("schedules", "out of memory");
                w->fatal = 1;
                return;
        }
        job->sched = sc;
        if (job->len < job->orig_len) { /* over the limit: the value was not kept */
                worker_job_finish(job, CXW_OUTCOME_REJECTED,
                                  "message is %zu bytes, over the limit of %zu",
                                  job->orig_len, (size_t)cfg->max_message_bytes);
                return;
        }
        cxw_schedule_limits_default(&lim);
        lim.max_bytes = (size_t)cfg->max_message_bytes;
        lim.max_entries = (size_t)cfg->schedules_max_entries;
        lim.max_shift_minutes = cfg->schedules_max_shift_minutes;
        lim.validation_modes = (const char *const *)cfg->schedules_validation_modes.v;
        lim.nvalidation_modes = cfg->schedules_validation_modes.cnt;
        lim.conflict_resolutions =
            (const char *const *)cfg->schedules_conflict_resolutions.v;
        lim.nconflict_resolutions = cfg->schedules_conflict_resolutions.cnt;
        rc = cxw_schedule_decode(job->value, job->len, &lim, &sc->imp, NULL, err,
                                 sizeof(err));
        sc->validation_ms = (now_us() - t0) / 1000;
        if (rc == -2) {
                worker_job_finish(job, CXW_OUTCOME_FAILED, "out of memory");
                return;
        }
        if (rc == -1) {
                worker_job_finish(job, CXW_OUTCOME_REJECTED, "%s", err);
                return;
        }
        /* Imports of one key (the message key, else the calendar) run in order. */
        if (job->key && job->keylen > 0 && job->keylen <= CXW_SCHED_ID_MAX)
                cxw_strlcpy(sc->key, job->key, sizeof(sc->key));
        else
                cxw_strlcpy(sc->key, sc->imp.calendar_id, sizeof(sc->key));
        if (job->headers)
                rd_kafka_header_get_last(job->headers, "idempotency-key", &hdr, &hdrlen);
        if (cxw_schedule_idempotency_key(hdr, hdrlen, job->part->topic,
                                         job->part->partition, job->offset, sc->idem,
                                         sizeof(sc->idem), err, sizeof(err)) == -1) {
                worker_job_finish(job, CXW_OUTCOME_REJECTED, "%s", err);
                return;
        }
        if (cxw_dispatch_push(w->sched_dispatch, sc->key, job) == -1) {
                worker_job_finish(job, CXW_OUTCOME_FAILED, "out of memory");
                return;
        }
        job->dispatched = 1;
        job->state = JOB_QUEUED;
}

/* ------------------------------------------------------------------ */
/* the end of a job                                                    */

/* The names in CXone's job answers (cxone.schedules.*). */
static void job_fields(const cxw_config_t *cfg, cxw_schedule_job_fields_t *f)
{
        f->job_id = cfg->sched_job_id_field;
        f->status = cfg->sched_status_field;
        f->done = cfg->sched_done_value;
        f->failed = cfg->sched_failed_value;
        f->error = cfg->sched_error_field;
}

/* Ends a tracked import from CXone's job status (by poll or webhook). */
static void end_with_status(job_t *job, const char *status, const char *detail, int done)
{
        sched_t *sc = job->sched;

        cxw_strlcpy(sc->job_status, status, sizeof(sc->job_status));
        if (done)
                worker_job_finish(job, CXW_OUTCOME_SUCCEEDED, NULL);
        else /* CXone processed the import and refused it: not retryable */
                worker_job_finish(job, CXW_OUTCOME_REJECTED, "job %s ended %s%s%s",
                                  sc->job_id, status, detail && *detail ? ": " : "",
                                  detail ? detail : "");
}

static void next_poll(job_t *job)
{
        cxw_worker_t *w = job->w;
        sched_t *sc = job->sched;
        int64_t now = cxw_now_ms();

        job->state = JOB_WAITING;
        cxw_timer_start(w->loop, &job->timer, now + sc->poll_interval, poll_timer_cb,
                        job);
        sc->poll_interval = sc->poll_interval * 3 / 2;
        if (sc->poll_interval > w->cfg->schedules_poll_max_interval_ms)
                sc->poll_interval = w->cfg->schedules_poll_max_interval_ms;
}

/* ------------------------------------------------------------------ */
/* polling                                                             */

static void poll_done(const cxw_http_response_t *r, void *opaque)
{
        job_t *job = opaque;
        cxw_worker_t *w = job->w;
        sched_t *sc = job->sched;
        cxw_result_class_t cls = cxw_result_classify(r->status, r->transport_error);
        char why[300];
        cxw_schedule_job_answer_t ans;
        cxw_schedule_job_fields_t fields;

        worker_metrics_call(w, "jobs", r->status, r->elapsed_ms);
        if (sc->webhook_status[0]) {
                /* A verified webhook said it while this poll was out. */
                end_with_status(job, sc->webhook_status, NULL,
                                strcmp(sc->webhook_status, "COMPLETED") == 0);
                return;
        }
        switch (cls) {
        case CXW_RESULT_OK:
                cxw_budget_on_success(w->budget, CXW_CLASS_POLLS, r->sent_ms,
                                      cxw_now_ms());
                /* status and detail come printable and bounded */
                job_fields(w->cfg, &fields);
                cxw_schedule_job_answer_parse_with(r->body, r->body_len, &fields, &ans);
                if (ans.ended) {
                        end_with_status(job, ans.status, ans.detail, ans.done);
                        return;
                }
                if (ans.has_status)
                        cxw_strlcpy(sc->job_status, ans.status, sizeof(sc->job_status));
                break;
        case CXW_RESULT_UNAUTHORIZED:
                cxw_token_invalidate(w->token, job->token_gen);
                break;
        case CXW_RESULT_RATE_LIMITED: {
                int64_t ra = cxw_retry_after_ms(r->retry_after, cxw_wall_ms(),
                                                w->cfg->retry_max_delay_ms);
                if (ra < 0 && w->cfg->rate_retry_after_missing_ms > 0)
                        ra = w->cfg->rate_retry_after_missing_ms;
                w->stats.http_429++;
                worker_budget_429(w, CXW_CLASS_POLLS, ra, r->sent_ms);
                break;
        }
        case CXW_RESULT_SERVER:
        case CXW_RESULT_NETWORK:
                break; /* the next poll is the retry; max_wait bounds it */
        default:
                worker_describe_answer(r, why, sizeof(why));
                if (r->status == 404)
                        worker_job_finish(job, CXW_OUTCOME_FAILED,
                                          "job %s is unknown to CXone: %s", sc->job_id,
                                          why);
                else
                        worker_job_finish(job, CXW_OUTCOME_FAILED,
                                          "polling job %s: HTTP %ld: %s", sc->job_id,
                                          r->status, why);
                return;
        }
        next_poll(job);
}

static void poll_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        job_t *job = opaque;
        cxw_worker_t *w = job->w;
        sched_t *sc = job->sched;
        int64_t now = cxw_now_ms();
        cxw_http_request_t req = {0};
        uint64_t gen = 0;
        const char *token;
        int64_t wait;
        char *url;
        int rc;

        (void)t;
        if (w->stopping) /* no new call: the job is handed over as it waits */
                return;
        if (now - sc->polling_since > w->cfg->schedules_max_wait_ms) {
                worker_job_finish(job, CXW_OUTCOME_FAILED,
                                  "job %s did not end within %d ms (last status %s)",
                                  sc->job_id, w->cfg->schedules_max_wait_ms,
                                  sc->job_status[0] ? sc->job_status : "unknown");
                return;
        }
        token = cxw_token_get(w->token, now, &gen);
        if (!token) {
                worker_ensure_token(w);
                cxw_timer_start(loop, &job->timer, now + POLL_RETRY_MS, poll_timer_cb,
                                job);
                return;
        }
        wait = cxw_budget_take(w->budget, CXW_CLASS_POLLS, now);
        if (wait > 0) {
                cxw_timer_start(loop, &job->timer, now + wait, poll_timer_cb, job);
                return;
        }
        url = worker_url(w, w->cfg->schedules_job_path, "jobId", sc->job_id);
        req.method = "GET";
        req.url = url;
        /* a poll is not an attempt: the retry budget counts submissions */
        rc = url ? worker_start_call(job, &req, token, gen, poll_done, 0) : -1;
        free(url);
        if (rc == -1) {
                cxw_timer_start(loop, &job->timer, now + POLL_RETRY_MS, poll_timer_cb,
                                job);
                return;
        }
        sc->polls++;
        w->stats.job_polls++;
}

/* ------------------------------------------------------------------ */
/* submission                                                          */

static void submit_done(const cxw_http_response_t *r, void *opaque)
{
        job_t *job = opaque;
        cxw_worker_t *w = job->w;
        const cxw_config_t *cfg = w->cfg;
        sched_t *sc = job->sched;
        int64_t now = cxw_now_ms();
        cxw_result_class_t cls = cxw_result_classify(r->status, r->transport_error);

        sc->request_ms += r->elapsed_ms;
        job->http_status = r->status;
        worker_metrics_call(w, "schedules", r->status, r->elapsed_ms);
        switch (cls) {
        case CXW_RESULT_OK: {
                cxw_schedule_job_fields_t fields;

                worker_cxone_answered(w);
                cxw_budget_on_success(w->budget, CXW_CLASS_SCHEDULES, r->sent_ms, now);
                job_fields(w->cfg, &fields);
                if (!cxw_schedule_job_id_get(r->body, r->body_len, &fields, sc->job_id,
                                             sizeof(sc->job_id))) {
                        worker_job_finish(job, CXW_OUTCOME_FAILED,
                                          "CXone answered HTTP %ld without a valid %s",
                                          r->status, fields.job_id);
                        return;
                }
                cxw_strlcpy(sc->job_status, "IN_PROGRESS", sizeof(sc->job_status));
                sc->tracked_next = w->tracked;
                w->tracked = job;
                job->recs[REC_AUDIT_SUBMIT].state = REC_NONE;
                worker_produce_records(job);
                sc->polling_since = now;
                /* With webhooks on, CXone tells us when the job ends: polls
                 * are only the safety net, at the longest interval. */
                sc->poll_interval = w->admin && *cfg->webhook_secret
                                        ? cfg->schedules_poll_max_interval_ms
                                        : cfg->schedules_poll_interval_ms;
                CXW_DEBUG("schedules", "calendar %s: job %s submitted (%zu entries)",
                          sc->key, sc->job_id, sc->imp.nentries);
                next_poll(job);
                break;
        }
        default:
                worker_call_failed(job, r, cls, CXW_CLASS_SCHEDULES);
                break;
        }
}

static int submit(cxw_worker_t *w, job_t *job, const char *token, uint64_t gen)
{
        sched_t *sc = job->sched;
        cxw_http_request_t req = {0};
        char idem[CXW_SCHED_IDEMKEY_SIZE + 32];
        const char *extra[2];
        char *url = worker_url(w, w->cfg->schedules_import_path, "", "");
        int rc;

        if (!url)
                return -1;
        snprintf(idem, sizeof(idem), "Idempotency-Key: %s", sc->idem);
        extra[0] = idem;
        extra[1] = NULL;
        req.method = "POST";
        req.url = url;
        req.content_type = "application/json";
        req.body = sc->imp.body;
        req.body_len = sc->imp.body_len;
        req.headers = extra;
        rc = worker_start_call(job, &req, token, gen, submit_done, 1);
        free(url);
        return rc;
}

static void sched_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        (void)loop;
        (void)t;
        worker_sched_pump(opaque);
}

static void retry_soon(cxw_worker_t *w, job_t *job);

void worker_sched_pump(cxw_worker_t *w)
{
        const cxw_config_t *cfg = w->cfg;

        if (w->stopping) /* what waits is handed over, nothing starts */
                return;
        for (;;) {
                int64_t now = cxw_now_ms();
                int retry = w->sched_ready.head != NULL;
                uint64_t gen = 0;
                const char *token;
                job_t *job;

                /* Retries are imports already in progress: the cap counts
                 * them already. New ones wait for a free place. */
                if (!retry && (w->sched_active >= cfg->schedules_max_concurrent ||
                               cxw_dispatch_ready(w->sched_dispatch) == 0))
                        break;
                if (cxw_http_in_flight(w->http) >= (size_t)cfg->max_in_flight)
                        break;
                token = worker_call_gate(w, CXW_CLASS_SCHEDULES, now, &gen,
                                         &w->sched_timer, sched_timer_cb);
                if (!token)
                        break;
                if (retry) {
                        job = w->sched_ready.head;
                        w->sched_ready.head = job->ready_next;
                        if (!w->sched_ready.head)
                                w->sched_ready.tail = NULL;
                        job->ready_next = NULL;
                } else {
                        job = cxw_dispatch_pop(w->sched_dispatch);
                }
                if (!job->sched->active) {
                        job->sched->active = 1;
                        w->sched_active++;
                }
                if (submit(w, job, token, gen) == -1) {
                        retry_soon(w, job);
                        break;
                }
        }
}

static void retry_soon_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        job_t *job = opaque;

        (void)loop;
        (void)t;
        worker_ready_push(job->w, job);
        worker_sched_pump(job->w);
}

static void retry_soon(cxw_worker_t *w, job_t *job)
{
        job->state = JOB_WAITING;
        cxw_timer_start(w->loop, &job->timer, cxw_now_ms() + 100, retry_soon_cb, job);
}

/* ------------------------------------------------------------------ */
/* webhooks                                                            */

/* Logs the refusals not logged yet, as one line. */
static void webhook_log_flush(cxw_worker_t *w, int64_t now)
{
        uint64_t n = w->webhook_refused_unlogged;

        if (n == 0)
                return;
        if (w->webhook_logged_at == 0)
                CXW_WARN("webhook",
                         "refused: %s; later refusals are logged at most once "
                         "per %d s, with their count",
                         w->webhook_refused_last, WEBHOOK_LOG_INTERVAL_MS / 1000);
        else
                CXW_WARN("webhook",
                         "refused %llu webhook%s in the last %lld s; the last: %s",
                         (unsigned long long)n, n == 1 ? "" : "s",
                         (long long)((now - w->webhook_logged_at + 999) / 1000),
                         w->webhook_refused_last);
        w->webhook_refused_unlogged = 0;
        w->webhook_logged_at = now;
}

static void webhook_log_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        cxw_worker_t *w = opaque;

        (void)loop;
        (void)t;
        w->webhook_log_armed = 0;
        webhook_log_flush(w, cxw_now_ms());
}

/* Counts a refused webhook; logs it now if nothing was logged within the
 * interval, else with the others when the interval is over. */
static void webhook_refused(cxw_worker_t *w, const char *reason, const char *extra)
{
        int64_t now = cxw_now_ms();

        w->stats.webhooks_refused++;
        w->webhook_refused_unlogged++;
        snprintf(w->webhook_refused_last, sizeof(w->webhook_refused_last), "%s%s", reason,
                 extra);
        if (w->webhook_logged_at == 0 ||
            now - w->webhook_logged_at >= WEBHOOK_LOG_INTERVAL_MS) {
                webhook_log_flush(w, now);
        } else if (!w->webhook_log_armed) {
                w->webhook_log_armed = 1;
                cxw_timer_start(w->loop, &w->webhook_log_timer,
                                w->webhook_logged_at + WEBHOOK_LOG_INTERVAL_MS,
                                webhook_log_timer_cb, w);
        }
}

int worker_sched_webhook(void *opaque, const cxw_admin_request_t *req, const char *body,
                         size_t len, char *answer, size_t answer_size)
{
        cxw_worker_t *w = opaque;
        const cxw_config_t *cfg = w->cfg;
        cxw_webhook_result_t v;
        cxw_webhook_body_kind_t kind;
        cxw_webhook_body_t b;
        job_t *job;

        v = cxw_webhook_verify(cfg->webhook_secret,
                               cxw_admin_request_header(req, "X-CXone-Timestamp"),
                               cxw_admin_request_header(req, "X-CXone-Signature"), body,
                               len, cxw_wall_ms() / 1000, cfg->webhook_tolerance_s);
        if (v != CXW_WEBHOOK_OK) {
                webhook_refused(w, cxw_webhook_result_str(v),
                                *cfg->webhook_secret ? ""
                                                     : " (webhooks.secret is not set)");
                snprintf(answer, answer_size, "{\"error\":\"%s\"}",
                         cxw_webhook_result_str(v));
                return 401;
        }
        kind = cxw_webhook_body_parse(body, len, &b);
        if (kind == CXW_WEBHOOK_BODY_MALFORMED) {
                webhook_refused(w, "malformed webhook body", "");
                snprintf(answer, answer_size, "{\"error\":\"malformed webhook body\"}");
                return 400;
        }
        w->stats.webhooks_accepted++;
        if (kind == CXW_WEBHOOK_BODY_IGNORED) {
                snprintf(answer, answer_size, "{\"ok\":true,\"ignored\":true}");
                return 200;
        }
        for (job = w->tracked; job; job = job->sched->tracked_next)
                if (strcmp(job->sched->job_id, b.job_id) == 0)
                        break;
        if (job && b.ended && job->state != JOB_FINISHING) {
                CXW_DEBUG("webhook", "job %s %s", b.job_id, b.status);
                if (job->state == JOB_IN_FLIGHT) {
                        /* A poll is out: its answer ends the job with this. */
                        cxw_strlcpy(job->sched->webhook_status, b.status,
                                    sizeof(job->sched->webhook_status));
                } else {
                        cxw_timer_stop(w->loop, &job->timer);
                        end_with_status(job, b.status, NULL,
                                        strcmp(b.status, "COMPLETED") == 0);
                }
        }
        snprintf(answer, answer_size, "{\"ok\":true,\"tracked\":%s}",
                 job ? "true" : "false");
        return 200;
}

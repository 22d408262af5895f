/* calls.c: what every call to CXone shares: the access token (fetched
 * ahead of expiry, one fetch at a time), starting a call with it, and what
 * an answer other than 2xx does (a new token on 401, a pause on 429,
 * backoff on 5xx and network trouble, else a rejection), within the retry
 * budget. The pipeline files (contacts.c, schedules.c) build their calls
 * and call down into these; nothing here calls back up: a job made ready
 * again is started by the loop round's pump. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/flow/budget.h"
#include "cxone/flow/retry.h"
#include "cxone/io/http.h"
#include "cxone/io/token.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the access token */
static void token_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque);

static void arm_token_timer(cxw_worker_t *w)
{
        int64_t at = cxw_token_next_fetch_at(w->token);

        if (at != INT64_MAX)
                cxw_timer_start(w->loop, &w->token_timer, at, token_timer_cb, w);
}

static void token_done(const cxw_http_response_t *r, void *opaque)
{
        cxw_worker_t *w = opaque;
        int64_t now = cxw_now_ms();
        char err[512];

        w->token_in_flight = 0;
        worker_metrics_call(w, "token", r->status, r->elapsed_ms);
        if (r->transport_error) {
                cxw_token_fetch_failed(w->token, now);
                snprintf(w->token_error, sizeof(w->token_error),
                         "token endpoint unreachable: %s", r->error);
                CXW_WARN("token", "token endpoint %s unreachable: %s", w->token_url,
                         r->error);
                worker_discover_token_lost(w, "unreachable");
        } else if (r->status == 404) {
                cxw_token_fetch_failed(w->token, now);
                snprintf(w->token_error, sizeof(w->token_error),
                         "token endpoint answered HTTP 404");
                CXW_WARN("token", "token endpoint %s answered HTTP 404", w->token_url);
                worker_discover_token_lost(w, "HTTP 404");
        } else if (cxw_token_fetch_done(w->token, r->status, r->body, r->body_len, now,
                                        err, sizeof(err)) == -1) {
                cxw_strlcpy(w->token_error, err, sizeof(w->token_error));
                CXW_WARN("token", "token fetch failed: %s", err);
        } else {
                w->token_error[0] = '\0';
                CXW_DEBUG("token", "new access token obtained");
                worker_discover_step(w); /* the hosts wait for the tenant */
        }
        arm_token_timer(w); /* the loop round's pump starts the waiting calls */
}

void worker_ensure_token(cxw_worker_t *w)
{
        cxw_http_request_t req = {0};

        if (!w->token_url) { /* not discovered yet */
                worker_discover_step(w);
                return;
        }
        if (w->token_in_flight || !cxw_token_need_fetch(w->token, cxw_now_ms())) {
                arm_token_timer(w);
                return;
        }
        req.method = "POST";
        req.url = w->token_url;
        req.authorization = w->token_auth;
        req.content_type = "application/x-www-form-urlencoded";
        req.body = w->token_body;
        req.body_len = strlen(w->token_body);
        req.timeout_ms = w->cfg->token_timeout_ms;
        req.urgent = 1;    /* every call waits for it */
        req.sensitive = 1; /* the answer holds the access token: wiped after */
        if (cxw_http_start(w->http, &req, token_done, w) == -1) {
                CXW_ERROR("token", "cannot start the token request (out of memory)");
                return;
        }
        cxw_token_fetch_started(w->token, cxw_now_ms());
        w->token_in_flight = 1;
}

static void token_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        (void)loop;
        (void)t;
        worker_ensure_token(opaque);
}

/* calls */
void worker_retry_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        job_t *job = opaque;

        (void)loop;
        (void)t;
        worker_ready_push(job->w, job); /* started by the loop round's pump */
}

/* Short, printable description of an error answer: CXone's "error" /
 * "message" field if the body is JSON, else the start of the body. */
void worker_describe_answer(const cxw_http_response_t *r, char *out, size_t size)
{
        json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
        const char *text = NULL;
        size_t n;

        if (j && json_is_object(j)) {
                static const char *const keys[] = {"error_description", "message",
                                                   "error", "description"};
                for (size_t i = 0; i < 4 && !text; i++)
                        text = json_string_value(json_object_get(j, keys[i]));
        }
        if (!text)
                text = r->body_len ? r->body : "";
        n = (size_t)snprintf(out, size, "%s", text);
        if (n >= size)
                n = size - 1;
        if (n > 200)
                n = 200;
        out[n] = '\0';
        for (size_t i = 0; i < n; i++)
                if (!isprint((unsigned char)out[i]))
                        out[i] = ' ';
        json_decref(j);
}

/* Retries job after delay_ms if its retry budget allows (counting the retry
 * in *reason); else fails it. */
void worker_retry_or_fail(job_t *job, int64_t delay_ms, const char *why, uint64_t *reason)
{
        cxw_worker_t *w = job->w;
        const cxw_config_t *cfg = w->cfg;
        int64_t now = cxw_now_ms();

        if (job->failures >= cfg->retry_max_attempts ||
            now + delay_ms - job->first_attempt_at > cfg->retry_max_elapsed_ms) {
                worker_job_finish(
                    job, CXW_OUTCOME_FAILED, "gave up after %d attempts in %lld ms: %s",
                    job->attempts, (long long)(now - job->first_attempt_at), why);
                return;
        }
        w->stats.retries++;
        (*reason)++;
        worker_log_job(job, CXW_LOG_DEBUG, "http", "attempt %d: %s; retrying in %lld ms",
                       job->attempts, why, (long long)delay_ms);
        job->state = JOB_WAITING;
        cxw_timer_start(w->loop, &job->timer, now + delay_ms, worker_retry_timer_cb, job);
}

/* A call of job got an answer other than 2xx (or none): a 401 drops the
 * token and repeats the call once; a 429 pauses class c for Retry-After and
 * retries; 5xx and network trouble retry with backoff within the retry
 * budget; anything else rejects the request. Shared by every kind of call. */
static int outage_failure(job_t *job, const char *why, uint64_t *reason);

void worker_call_failed(job_t *job, const cxw_http_response_t *r, cxw_result_class_t cls,
                        cxw_budget_class_t c)
{
        cxw_worker_t *w = job->w;
        const cxw_config_t *cfg = w->cfg;
        char why[300];
        int64_t delay;

        if (cls != CXW_RESULT_SERVER && cls != CXW_RESULT_NETWORK)
                worker_cxone_answered(w);
        switch (cls) {
        case CXW_RESULT_UNAUTHORIZED:
                w->stats.http_401++;
                cxw_token_invalidate(w->token, job->token_gen);
                if (job->reauths++ >= 1) {
                        worker_describe_answer(r, why, sizeof(why));
                        worker_job_finish(
                            job, CXW_OUTCOME_REJECTED,
                            "CXone answered HTTP 401 again with a new token: %s", why);
                        break;
                }
                w->stats.retries++;
                w->stats.retries_unauthorized++;
                worker_ready_push(w, job); /* at once, with the next token */
                break;
        case CXW_RESULT_RATE_LIMITED:
                w->stats.http_429++;
                delay = cxw_retry_after_ms(r->retry_after, cxw_wall_ms(),
                                           cfg->retry_max_delay_ms);
                /* No Retry-After (CXone promises none): the configured pause,
                 * if any, stands in for it; else the budget's own measure. */
                if (delay < 0 && cfg->rate_retry_after_missing_ms > 0)
                        delay = cfg->rate_retry_after_missing_ms;
                worker_budget_429(w, c, delay, r->sent_ms);
                if (delay < 0)
                        delay = cxw_backoff_ms(job->attempts, cfg->retry_base_delay_ms,
                                               cfg->retry_max_delay_ms, &w->rng);
                worker_retry_or_fail(job, delay, "HTTP 429",
                                     &w->stats.retries_rate_limited);
                break;
        case CXW_RESULT_SERVER:
        case CXW_RESULT_NETWORK:
                if (cls == CXW_RESULT_SERVER) {
                        w->stats.http_5xx++;
                        worker_describe_answer(r, why, sizeof(why));
                        snprintf(why + strlen(why), sizeof(why) - strlen(why),
                                 " (HTTP %ld)", r->status);
                } else {
                        w->stats.http_network++;
                        snprintf(why, sizeof(why), "%s",
                                 r->error ? r->error : "no answer");
                }
                if (outage_failure(job, why,
                                   cls == CXW_RESULT_SERVER ? &w->stats.retries_server
                                                            : &w->stats.retries_network))
                        break;
                job->failures++;
                worker_retry_or_fail(
                    job,
                    cxw_backoff_ms(job->failures, cfg->retry_base_delay_ms,
                                   cfg->retry_max_delay_ms, &w->rng),
                    why,
                    cls == CXW_RESULT_SERVER ? &w->stats.retries_server
                                             : &w->stats.retries_network);
                break;
        default:
                worker_describe_answer(r, why, sizeof(why));
                worker_job_finish(job, CXW_OUTCOME_REJECTED,
                                  "CXone answered HTTP %ld: %s", r->status, why);
                break;
        }
}

const char *worker_call_gate(cxw_worker_t *w, cxw_budget_class_t c, int64_t now,
                             uint64_t *gen, cxw_timer_t *t, cxw_timer_cb *cb)
{
        const char *token = cxw_token_get(w->token, now, gen);
        int64_t wait;

        if (!token) {
                worker_ensure_token(w); /* its answer wakes the loop */
                return NULL;
        }
        if (!worker_endpoints_known(w)) {
                worker_discover_step(w); /* its answer wakes the loop */
                return NULL;
        }
        wait = cxw_breaker_allow(&w->breaker, now); /* before a budget token goes */
        if (wait == 0) {
                wait = cxw_budget_take(w->budget, c, now);
                if (wait > 0)
                        w->breaker.probing = 0; /* the probe did not go out */
        }
        if (wait == 0)
                return token;
        if (!cxw_timer_armed(t) || t->at > now + wait)
                cxw_timer_start(w->loop, t, now + wait, cb, w);
        return NULL;
}

void worker_cxone_answered(cxw_worker_t *w)
{
        if (!cxw_breaker_on_success(&w->breaker))
                return;
        CXW_INFO("http", "CXone answers again after %lld ms: calls resume",
                 (long long)(cxw_now_ms() - w->breaker.opened_at));
        worker_check_backpressure(w);
}

/* A 5xx or no answer while CXone is down (or the one that showed it): the
 * request is not to blame; it waits for the outage to end, within its time
 * budget only. @returns 1 when handled so. */
static int outage_failure(job_t *job, const char *why, uint64_t *reason)
{
        cxw_worker_t *w = job->w;
        int64_t now = cxw_now_ms();
        int was_open = cxw_breaker_is_open(&w->breaker);

        if (!cxw_breaker_on_failure(&w->breaker, now, job->probe))
                return 0;
        if (!was_open) {
                CXW_WARN("http",
                         "CXone looks down: %d calls in a row failed, the last with %s; "
                         "new calls wait, one probe at a time (first in %lld ms), "
                         "consumption pauses",
                         w->breaker.threshold, why, (long long)w->breaker.wait_ms);
                worker_check_backpressure(w);
        }
        if (now - job->first_attempt_at > w->cfg->retry_max_elapsed_ms) {
                worker_job_finish(job, CXW_OUTCOME_FAILED,
                                  "gave up after %d attempts in %lld ms: %s (CXone down)",
                                  job->attempts, (long long)(now - job->first_attempt_at),
                                  why);
                return 1;
        }
        w->stats.retries++;
        (*reason)++;
        worker_ready_push(w, job); /* started when a probe allows it */
        return 1;
}

int worker_http_call(cxw_worker_t *w, cxw_http_request_t *req, const char *token,
                     cxw_http_done_cb *cb, void *opaque)
{
        char auth[8300];
        int rc, n;

        n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        req->authorization = auth;
        rc = cxw_http_start(w->http, req, cb, opaque);
        /* http has its own (wiped) copy; wipe what was written, not 8 KiB */
        explicit_bzero(auth,
                       n < 0 || (size_t)n >= sizeof(auth) ? sizeof(auth) : (size_t)n + 1);
        req->authorization = NULL;
        return rc;
}

int worker_start_call(job_t *job, cxw_http_request_t *req, const char *token,
                      uint64_t gen, cxw_http_done_cb *cb, int attempt)
{
        cxw_worker_t *w = job->w;

        if (worker_http_call(w, req, token, cb, job) == -1) {
                if (attempt)
                        w->breaker.probing = 0; /* a probe that never went out */
                return -1;
        }
        job->probe = cxw_breaker_is_open(&w->breaker);
        if (attempt && job->attempts++ == 0)
                job->first_attempt_at = cxw_now_ms();
        job->token_gen = gen;
        job->state = JOB_IN_FLIGHT;
        w->stats.http_requests++;
        return 0;
}

char *worker_url(const cxw_worker_t *w, const char *path, const char *name,
                 const char *value)
{
        char pattern[64];
        const char *at;
        char *url = NULL;

        snprintf(pattern, sizeof(pattern), "{%s}", name);
        at = strstr(path, pattern);
        if (!at) {
                if (asprintf(&url, "%s%s", w->api_base, path) == -1)
                        return NULL;
                return url;
        }
        if (asprintf(&url, "%s%.*s%s%s", w->api_base, (int)(at - path), path, value,
                     at + strlen(pattern)) == -1)
                return NULL;
        return url;
}

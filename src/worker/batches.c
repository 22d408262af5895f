/* batches.c: the address-book target, many updates per request. Ready
 * updates are popped from the dispatcher (one in progress per contactId)
 * into the batch builder (flow/batch); a batch that is due and gets a
 * request from the call gate becomes one bisect state (flow/bisect), sent
 * as one PUT of its entries (requests/addressbook). An entry-level 4xx
 * splits it in halves until the bad entries stand alone; a 429, 5xx, 401 or
 * no answer sends the same segment again under the retry policy of single
 * calls. Each entry whose verdict is final gets its outcome, audit event
 * and DLQ copy through worker_job_finish() (records.c), which releases its
 * key: the contact's next update goes in a later batch. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/flow/batch.h"
#include "cxone/flow/bisect.h"
#include "cxone/flow/budget.h"
#include "cxone/flow/dispatch.h"
#include "cxone/flow/retry.h"
#include "cxone/io/http.h"
#include "cxone/io/token.h"
#include "cxone/requests/addressbook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AB_OOM_RETRY 100 /* ms, after a request that could not start */

/* One request of a batch in flight. */
typedef struct abcall_s {
        struct abcall_s *next; /* the batch's requests in flight */
        struct abatch_s *b;
        int call;
        uint64_t gen; /* the token's generation */
        int probe;    /* it went out as the probe of an outage */
} abcall_t;

/* One batch sent: its jobs in batch order and its bisect state. */
typedef struct abatch_s {
        struct abatch_s *next;
        cxw_worker_t *w;
        uint64_t seq; /* the replica's batch number */
        size_t n;
        job_t **jobs;
        unsigned char *done; /* the entry's outcome is published */
        cxw_batch_result_t *res;
        cxw_bisect_t *bis;
        abcall_t *calls; /* in flight: freed here if http goes first */
        int failures;    /* 5xx / no answer outside an outage, for the retry budget */
        int reauths;     /* 401s answered by fetching a new token */
        int64_t first_sent;
} abatch_t;

int worker_batches_init(cxw_worker_t *w, char *errstr, size_t errstr_size)
{
        const cxw_config_t *cfg = w->cfg;
        const char *names[CXW_AB_FIELDS_MAX];
        size_t nnames;

        if (!cxw_contact_target_batched(w->target))
                return 0;
        if (cxw_ab_map_parse((const char *const *)cfg->address_book_map.v,
                             cfg->address_book_map.cnt, &w->ab_map, errstr,
                             errstr_size) == -1)
                return -1;
        /* every field an update may carry must have its entry field */
        nnames = cxw_ab_map_fields(&w->ab_map, names, CXW_AB_FIELDS_MAX);
        for (size_t i = 0; i < cfg->contact_fields.cnt; i++) {
                int mapped = 0;

                for (size_t k = 0; k < nnames && k < CXW_AB_FIELDS_MAX; k++)
                        mapped = mapped || !strcmp(names[k], cfg->contact_fields.v[i]);
                if (!mapped) {
                        snprintf(errstr, errstr_size,
                                 "cxone.contacts.fields has %.64s, which "
                                 "cxone.address_book.map does not map to an entry field",
                                 cfg->contact_fields.v[i]);
                        return -1;
                }
        }
        /* the admin base (api_base) holds the prefix already */
        w->ab_path = cxw_ab_path("", cfg->address_book_id, errstr, errstr_size);
        if (!w->ab_path)
                return -1;
        w->batcher = cxw_batcher_new((size_t)cfg->batch_max, cfg->batch_linger_ms,
                                     2 * (size_t)cfg->batch_max, errstr, errstr_size);
        return w->batcher ? 0 : -1;
}

static void batch_free(abatch_t *b)
{
        if (!b)
                return;
        while (b->calls) { /* aborted by cxw_http_destroy(), no callback */
                abcall_t *c = b->calls;

                b->calls = c->next;
                free(c);
        }
        cxw_bisect_destroy(b->bis);
        free(b->jobs);
        free(b->done);
        free(b->res);
        free(b);
}

void worker_batches_free(cxw_worker_t *w)
{
        while (w->abatches) {
                abatch_t *b = w->abatches;

                w->abatches = b->next;
                batch_free(b);
        }
        cxw_batcher_destroy(w->batcher);
        w->batcher = NULL;
        free(w->ab_path);
        w->ab_path = NULL;
}

static void batch_done(const cxw_http_response_t *r, void *opaque);

/* Sends call (entries [lo, hi) of b) with token; on a failure to start it
 * the call is answered as a network error, retried shortly. */
static void send_call(abatch_t *b, int call, size_t lo, size_t hi, const char *token,
                      uint64_t gen)
{
        cxw_worker_t *w = b->w;
        cxw_http_request_t req = {0};
        int64_t now = cxw_now_ms();
        abcall_t *c = calloc(1, sizeof(*c));
        char url[2048], idem[128], err[ERROR_MAX];
        const char *extra[2];
        size_t len = 0, bad = (size_t)-1;
        char *body = NULL;

        if (!c)
                goto oom;
        body =
            worker_entries_body(w, b->jobs + lo, hi - lo, &len, &bad, err, sizeof(err));
        if (!body) {
                free(c);
                if (bad == (size_t)-1 && strstr(err, " bytes"))
                        bad = 0; /* too large: split it like CXone's 413 */
                if (bad != (size_t)-1) {
                        /* an entry that cannot be written: split like an
                         * entry-level 4xx, so that it alone is rejected */
                        w->breaker.probing = 0;
                        cxw_bisect_answer(b->bis, call, now, hi - lo > 1 ? 400 : 422, 0,
                                          err);
                        return;
                }
                goto oom;
        }
        snprintf(url, sizeof(url), "%s%s", w->api_base, w->ab_path);
        worker_entries_idem(b->jobs + lo, hi - lo, b->seq, lo, idem, sizeof(idem));
        extra[0] = idem;
        extra[1] = NULL;
        req.method = cxw_contact_target_method(w->target);
        req.url = url;
        req.content_type = "application/json";
        req.body = body;
        req.body_len = len;
        req.headers = extra;
        c->b = b;
        c->call = call;
        c->gen = gen;
        if (worker_http_call(w, &req, token, batch_done, c) == -1) {
                free(body);
                free(c);
                goto oom;
        }
        free(body);
        c->next = b->calls;
        b->calls = c;
        c->probe = cxw_breaker_is_open(&w->breaker);
        if (!b->first_sent)
                b->first_sent = now;
        for (size_t i = lo; i < hi; i++) {
                job_t *job = b->jobs[i];

                if (job->attempts++ == 0)
                        job->first_attempt_at = now;
        }
        w->stats.http_requests++;
        w->ab_requests++;
        w->ab_entries += hi - lo;
        return;
oom:
        w->breaker.probing = 0; /* a probe that never went out */
        if (cxw_bisect_answer(b->bis, call, now, 0, 1, "out of memory") ==
            CXW_BATCH_CALL_RETRY)
                cxw_bisect_retry_at(b->bis, call, now + AB_OOM_RETRY);
}

/* Publishes the outcome of every entry whose verdict became final, and
 * frees b once all are. @returns 1 when b was freed. */
static int publish(abatch_t *b)
{
        cxw_worker_t *w = b->w;
        const cxw_batch_call_t *calls;
        size_t ncalls;

        calls = cxw_bisect_calls(b->bis, &ncalls);
        cxw_batch_results(calls, ncalls, b->n, NULL, b->res);
        for (size_t i = 0; i < b->n; i++) {
                job_t *job = b->jobs[i];
                cxw_outcome_t o;

                if (b->done[i] || cxw_ab_outcome(&b->res[i], &o) == -1)
                        continue;
                b->done[i] = 1;
                job->attempts = b->res[i].attempts;
                job->http_status = b->res[i].http_status;
                if (o.status == CXW_OUTCOME_SUCCEEDED)
                        worker_job_finish(job, o.status, NULL);
                else
                        worker_job_finish(job, o.status, "%s",
                                          o.error ? o.error : "no answer");
        }
        if (!cxw_bisect_finished(b->bis))
                return 0;
        w->ab_bisect_requests += cxw_bisect_counts(b->bis)->bisect_requests;
        for (abatch_t **p = &w->abatches; *p; p = &(*p)->next)
                if (*p == b) {
                        *p = b->next;
                        break;
                }
        batch_free(b);
        return 1;
}

/* The retry policy of single calls for a segment answered RETRY: within
 * the retry budget it goes again after delay_ms, else its entries fail. */
static void retry_or_fail(abatch_t *b, int call, int64_t delay_ms, const char *why,
                          uint64_t *reason)
{
        cxw_worker_t *w = b->w;
        const cxw_config_t *cfg = w->cfg;
        int64_t now = cxw_now_ms();
        char msg[ERROR_MAX];

        if (b->failures >= cfg->retry_max_attempts ||
            now + delay_ms - b->first_sent > cfg->retry_max_elapsed_ms) {
                snprintf(msg, sizeof(msg), "gave up after %d attempts in %lld ms: %s",
                         cxw_bisect_sends(b->bis, call), (long long)(now - b->first_sent),
                         why);
                cxw_bisect_end(b->bis, call, now, CXW_BATCH_CALL_FAILED, msg);
                return;
        }
        w->stats.retries++;
        (*reason)++;
        CXW_DEBUG("http", "address-book batch %llu: %s; retrying in %lld ms",
                  (unsigned long long)b->seq, why, (long long)delay_ms);
        cxw_bisect_retry_at(b->bis, call, now + delay_ms);
}

/* A retryable answer (the verdict RETRY) to call of b, of class cls. */
static void on_retry(abatch_t *b, const abcall_t *c, const cxw_http_response_t *r,
                     cxw_result_class_t cls)
{
        cxw_worker_t *w = b->w;
        const cxw_config_t *cfg = w->cfg;
        int64_t now = cxw_now_ms();
        char why[300], msg[ERROR_MAX];
        int sends = cxw_bisect_sends(b->bis, c->call);
        int64_t delay;

        if (cls != CXW_RESULT_SERVER && cls != CXW_RESULT_NETWORK)
                worker_cxone_answered(w);
        switch (cls) {
        case CXW_RESULT_UNAUTHORIZED:
                w->stats.http_401++;
                cxw_token_invalidate(w->token, c->gen);
                if (b->reauths++ >= 1) {
                        worker_describe_answer(r, why, sizeof(why));
                        snprintf(msg, sizeof(msg),
                                 "CXone answered HTTP 401 again with a new token: %s",
                                 why);
                        cxw_bisect_end(b->bis, c->call, now, CXW_BATCH_CALL_REJECTED,
                                       msg);
                        break;
                }
                w->stats.retries++;
                w->stats.retries_unauthorized++;
                cxw_bisect_retry_at(b->bis, c->call, now); /* with the next token */
                break;
        case CXW_RESULT_RATE_LIMITED:
                w->stats.http_429++;
                delay = cxw_retry_after_ms(r->retry_after, cxw_wall_ms(),
                                           cfg->retry_max_delay_ms);
                if (delay < 0 && cfg->rate_retry_after_missing_ms > 0)
                        delay = cfg->rate_retry_after_missing_ms;
                worker_budget_429(w, CXW_CLASS_CONTACTS, delay, r->sent_ms);
                if (delay < 0)
                        delay = cxw_backoff_ms(sends, cfg->retry_base_delay_ms,
                                               cfg->retry_max_delay_ms, &w->rng);
                retry_or_fail(b, c->call, delay, "HTTP 429",
                              &w->stats.retries_rate_limited);
                break;
        default: /* 5xx, 408, no answer */
                if (cls == CXW_RESULT_NETWORK || r->transport_error) {
                        w->stats.http_network++;
                        snprintf(why, sizeof(why), "%s",
                                 r->error ? r->error : "no answer");
                } else {
                        w->stats.http_5xx++;
                        worker_describe_answer(r, why, sizeof(why));
                        snprintf(why + strlen(why), sizeof(why) - strlen(why),
                                 " (HTTP %ld)", r->status);
                }
                /* while CXone is down the batch waits for the outage to end,
                 * within its time budget only, as a single call does */
                if (!cxw_breaker_on_failure(&w->breaker, now, c->probe))
                        b->failures++;
                else
                        worker_check_backpressure(w);
                retry_or_fail(b, c->call,
                              cxw_backoff_ms(b->failures ? b->failures : 1,
                                             cfg->retry_base_delay_ms,
                                             cfg->retry_max_delay_ms, &w->rng),
                              why,
                              cls == CXW_RESULT_NETWORK ? &w->stats.retries_network
                                                        : &w->stats.retries_server);
                break;
        }
}

static void batch_done(const cxw_http_response_t *r, void *opaque)
{
        abcall_t *c = opaque;
        abatch_t *b = c->b;
        cxw_worker_t *w = b->w;
        cxw_result_class_t cls = cxw_result_classify(r->status, r->transport_error);
        int64_t now = cxw_now_ms();
        char why[300], err[ERROR_MAX];
        int v;

        /* contact updates all: the endpoint label does not depend on the target */
        worker_metrics_call(w, "contacts", r->status, r->elapsed_ms);
        if (r->transport_error) {
                snprintf(err, sizeof(err), "%s", r->error ? r->error : "no answer");
        } else {
                worker_describe_answer(r, why, sizeof(why));
                snprintf(err, sizeof(err), "CXone answered HTTP %ld: %s", r->status, why);
        }
        v = cxw_bisect_answer(b->bis, c->call, now, r->status, r->transport_error, err);
        if (v == CXW_BATCH_CALL_OK) {
                worker_cxone_answered(w);
                cxw_budget_on_success(w->budget, CXW_CLASS_CONTACTS, r->sent_ms, now);
        } else if (v == CXW_BATCH_CALL_SPLIT || v == CXW_BATCH_CALL_REJECTED) {
                worker_cxone_answered(w);
                if (v == CXW_BATCH_CALL_SPLIT)
                        CXW_DEBUG("http",
                                  "address-book batch %llu: %s; splitting its %zu "
                                  "entries",
                                  (unsigned long long)b->seq, err, b->n);
        } else if (v == CXW_BATCH_CALL_RETRY) {
                on_retry(b, c, r, cls);
        }
        for (abcall_t **p = &b->calls; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        free(c);
        publish(b); /* the loop round's pump sends what is due next */
}

static void pump_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        (void)loop;
        (void)t;
        worker_batches_pump(opaque); /* the contacts pump's whole work here */
}

static int room_for_call(const cxw_worker_t *w)
{
        /* the token fetch and a discovery fetch are not contact calls */
        return cxw_http_in_flight(w->http) - (size_t)w->token_in_flight -
                   (size_t)w->disc_in_flight <
               (size_t)w->cfg->max_in_flight;
}

/* Ready updates into the builder, as long as it has room. */
static void fill(cxw_worker_t *w, int64_t now)
{
        while (cxw_batcher_room(w->batcher) > 0 && cxw_dispatch_ready(w->dispatch) > 0) {
                job_t *job = cxw_dispatch_pop(w->dispatch);

                if (cxw_batcher_add(w->batcher, job, job->upd.contact_id, now) == -1) {
                        worker_job_finish(job, CXW_OUTCOME_FAILED, "out of memory");
                        continue;
                }
                /* still JOB_QUEUED: popped, it holds its key */
        }
}

/* A new batch of the n jobs taken, its first request sent. */
static void start_batch(cxw_worker_t *w, void **jobs, size_t n, const char *token,
                        uint64_t gen, int64_t now)
{
        abatch_t *b = calloc(1, sizeof(*b));
        size_t lo, hi;
        int call;

        if (b) {
                b->jobs = calloc(n, sizeof(*b->jobs));
                b->done = calloc(n, 1);
                b->res = calloc(n, sizeof(*b->res));
                b->bis = cxw_bisect_new(n, CXW_BISECT_SENDS_MAX);
        }
        if (!b || !b->jobs || !b->done || !b->res || !b->bis) {
                batch_free(b);
                w->breaker.probing = 0;
                for (size_t i = 0; i < n; i++)
                        worker_job_finish(jobs[i], CXW_OUTCOME_FAILED, "out of memory");
                return;
        }
        b->w = w;
        b->n = n;
        b->seq = ++w->ab_seq;
        for (size_t i = 0; i < n; i++) {
                b->jobs[i] = jobs[i];
                b->jobs[i]->state = JOB_IN_FLIGHT; /* until its outcome */
        }
        b->next = w->abatches;
        w->abatches = b;
        w->ab_batches++;
        call = cxw_bisect_next(b->bis, now, &lo, &hi);
        send_call(b, call, lo, hi, token, gen);
        publish(b);
}

/* When the builder or a segment waits for time: the pump's timer. */
static void arm_timer(cxw_worker_t *w, int64_t now)
{
        int64_t at =
            cxw_batcher_pending(w->batcher) ? cxw_batcher_due_at(w->batcher) : INT64_MAX;

        for (abatch_t *b = w->abatches; b; b = b->next) {
                int64_t t = cxw_bisect_next_ms(b->bis);

                if (t < at)
                        at = t;
        }
        if (at == INT64_MAX || at <= now)
                return; /* nothing waits, or the gate's timer is armed */
        if (!cxw_timer_armed(&w->pump_timer) || w->pump_timer.at > at)
                cxw_timer_start(w->loop, &w->pump_timer, at, pump_timer_cb, w);
}

void worker_batches_pump(cxw_worker_t *w)
{
        void *taken[CXW_BATCH_MAX_LIMIT];
        int64_t now = cxw_now_ms();
        uint64_t gen = 0;
        const char *token;

        if (w->stopping)
                return;
        fill(w, now);
        /* segments of batches sent (split halves, retries) first: older */
        for (abatch_t *b = w->abatches, *next; b; b = next) {
                next = b->next;
                while (room_for_call(w) && cxw_bisect_next_ms(b->bis) <= now) {
                        size_t lo, hi;
                        int call;

                        token = worker_call_gate(w, CXW_CLASS_CONTACTS, now, &gen,
                                                 &w->pump_timer, pump_timer_cb);
                        if (!token) { /* the gate's timer or answer wakes us */
                                cxw_batcher_blocked(w->batcher, now);
                                return;
                        }
                        call = cxw_bisect_next(b->bis, now, &lo, &hi);
                        if (call < 0) { /* out of memory: the gate's slot is lost */
                                w->breaker.probing = 0;
                                break;
                        }
                        send_call(b, call, lo, hi, token, gen);
                        if (publish(b))
                                break;
                }
        }
        while (room_for_call(w) && cxw_batcher_due(w->batcher, now)) {
                size_t n;

                token = worker_call_gate(w, CXW_CLASS_CONTACTS, now, &gen, &w->pump_timer,
                                         pump_timer_cb);
                if (!token) {
                        cxw_batcher_blocked(w->batcher, now);
                        return;
                }
                n = cxw_batcher_take(w->batcher, now, 1, taken, CXW_BATCH_MAX_LIMIT);
                if (n == 0)
                        break;
                start_batch(w, taken, n, token, gen, now);
                fill(w, now);
        }
        arm_timer(w, now);
}

/* The hand-over's predicate, through the builder's opaque pointer. */
typedef struct handover_s {
        int (*pred)(job_t *);
} handover_t;

static int pending_handed_over(void *handle, void *opaque)
{
        const handover_t *h = opaque;

        return h->pred(handle);
}

static void drop(job_t *job)
{
        job->w->stats.abandoned++;
        worker_release_key(job);
        worker_job_free(job);
}

static void pending_removed(void *handle, void *opaque)
{
        (void)opaque;
        drop(handle);
}

void worker_batches_hand_over(cxw_worker_t *w, int (*pred)(job_t *))
{
        handover_t h = {pred};

        if (!w->batcher)
                return;
        cxw_batcher_remove_if(w->batcher, pending_handed_over, pending_removed, &h);
        for (abatch_t **p = &w->abatches; *p;) {
                abatch_t *b = *p;
                int all = cxw_bisect_in_flight(b->bis) == 0;

                for (size_t i = 0; all && i < b->n; i++)
                        all = b->done[i] || pred(b->jobs[i]);
                if (!all) {
                        p = &b->next;
                        continue;
                }
                /* waiting for a retry, every entry left handed over */
                for (size_t i = 0; i < b->n; i++)
                        if (!b->done[i])
                                drop(b->jobs[i]);
                *p = b->next;
                batch_free(b);
        }
}

/* worker.c: one replica's pipeline, driven by one event loop.
 *
 * consume → decode (contacts) → dispatch (per-key order) → budget (rate) →
 * http (curl multi) → outcome (results, DLQ, audit) → produce → commit.
 *
 * A request is a job_t from the moment its message is consumed until every
 * record about it (outcome, DLQ copy, audit event) is acknowledged by Kafka;
 * only then is its offset marked done, and only the contiguous prefix of
 * done offsets is stored for commit (offsets.c). That is the at-least-once
 * guarantee: a crash anywhere before loses nothing, at worst repeats.
 */
#include "worker_int.h"
#include "cxone/flow/budget.h"
#include "cxone/requests/contacts.h"
#include "cxone/flow/dispatch.h"
#include "cxone/io/http.h"
#include "cxone/io/kafka.h"
#include "cxone/base/log.h"
#include "cxone/io/loop.h"
#include "cxone/base/memcost.h"
#include "cxone/flow/offsets.h"
#include "cxone/requests/outcome.h"
#include "cxone/flow/retry.h"
#include "cxone/io/token.h"
#include "cxone/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* partitions                                                          */

static part_t *part_get(cxw_worker_t *w, const char *topic, int32_t partition)
{
        part_t *p;

        for (p = w->parts; p; p = p->next)
                if (p->partition == partition && strcmp(p->topic, topic) == 0)
                        return p;
        p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->topic = strdup(topic);
        if (!p->topic) {
                free(p);
                return NULL;
        }
        p->partition = partition;
        p->next = w->parts;
        w->parts = p;
        return p;
}

static int job_stale(const job_t *job)
{
        return !job->part->assigned || job->part->gen != job->gen;
}

/* ------------------------------------------------------------------ */
/* jobs                                                                */

/* What job costs in memory now: every allocation it owns (memcost.h), so
 * that limits.max_buffered_bytes bounds the real footprint. */
static size_t job_cost(const job_t *job)
{
        size_t c = cxw_memcost_chunk(job->block_len) + cxw_memcost_headers(job->headers) +
                   cxw_contact_update_bytes(&job->upd) + CXW_MEMCOST_DISPATCH_ITEM +
                   job->keylen;

        if (job->error)
                c += cxw_memcost_chunk(strlen(job->error) + 1);
        if (job->sched)
                c += cxw_memcost_chunk(sizeof(*job->sched)) +
                     (job->sched->imp.body
                          ? cxw_memcost_chunk(job->sched->imp.body_len + 1)
                          : 0);
        for (int i = 0; i < REC__CNT; i++)
                c += job->recs[i].bytes;
        return c;
}

/* Brings job->bytes and the worker's total up to date. */
static void job_account(job_t *job)
{
        size_t c = job_cost(job);

        job->w->bytes += (int64_t)c - (int64_t)job->bytes;
        job->bytes = c;
}

static void job_free(job_t *job)
{
        cxw_worker_t *w = job->w;

        cxw_timer_stop(w->loop, &job->timer);
        cxw_timer_stop(w->loop, &job->rtimer);
        if (job->sched)
                sched_release(job);
        if (job->prev)
                job->prev->next = job->next;
        else
                w->jobs = job->next;
        if (job->next)
                job->next->prev = job->prev;
        w->njobs--;
        w->bytes -= (int64_t)job->bytes;
        if (job->headers)
                rd_kafka_headers_destroy(job->headers);
        free(job->error);
        cxw_contact_update_clear(&job->upd);
        free(job); /* key, value, batch and correlation ids are in its block */
}

/* A header's value for outputs: at most 256 bytes, unprintable ones as '?'.
 * @returns its length, or -1 when absent. */
static ssize_t header_len(const rd_kafka_headers_t *hdrs, const char *name,
                          const void **v)
{
        size_t n = 0;

        *v = NULL;
        if (!hdrs || rd_kafka_header_get_last(hdrs, name, v, &n) || !*v)
                return -1;
        return n > 256 ? 256 : (ssize_t)n; /* copied to outputs: bounded */
}

static char *header_put(char *dst, const void *v, ssize_t n)
{
        memcpy(dst, v, (size_t)n);
        dst[n] = '\0';
        for (ssize_t i = 0; i < n; i++)
                if (!isprint((unsigned char)dst[i]))
                        dst[i] = '?';
        return dst;
}

/* One allocation holds the job and its copies of the key, the value, the
 * batch and correlation ids: fewer chunks, and one free. */
static job_t *job_new(cxw_worker_t *w, const rd_kafka_message_t *rkm, part_t *part)
{
        rd_kafka_headers_t *hdrs = NULL;
        const void *bv = NULL, *cv = NULL;
        ssize_t blen = -1, clen = -1;
        size_t size;
        job_t *job;
        char *p;

        if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
                hdrs = NULL;
        blen = header_len(hdrs, "batch-id", &bv);
        clen = header_len(hdrs, "correlation-id", &cv);
        size = sizeof(*job) + (rkm->key ? rkm->key_len + 1 : 0) + rkm->len + 1 +
               (blen >= 0 ? (size_t)blen + 1 : 0) + (clen >= 0 ? (size_t)clen + 1 : 0);
        job = calloc(1, size);
        if (!job)
                return NULL;
        job->block_len = size;
        p = (char *)(job + 1);
        job->value = p;
        if (rkm->len)
                memcpy(p, rkm->payload, rkm->len);
        p[rkm->len] = '\0';
        job->len = rkm->len;
        p += rkm->len + 1;
        if (rkm->key) {
                job->key = p;
                memcpy(p, rkm->key, rkm->key_len);
                p[rkm->key_len] = '\0';
                job->keylen = rkm->key_len;
                p += rkm->key_len + 1;
        }
        if (blen >= 0) {
                job->batch_id = header_put(p, bv, blen);
                p += blen + 1;
        }
        if (clen >= 0)
                job->correlation_id = header_put(p, cv, clen);
        if (hdrs) {
                job->headers = rd_kafka_headers_copy(hdrs);
                if (!job->headers) {
                        free(job);
                        return NULL;
                }
        }
        job->w = w;
        job->part = part;
        job->gen = part->gen;
        job->offset = rkm->offset;
        job->consumed_at = cxw_now_ms();
        for (int i = 0; i < REC__CNT; i++) {
                job->recs[i].job = job;
                job->recs[i].kind = (rec_kind_t)i;
        }
        job->next = w->jobs;
        if (w->jobs)
                w->jobs->prev = job;
        w->jobs = job;
        w->njobs++;
        job_account(job);
        return job;
}

static jobq_t *queue_of(cxw_worker_t *w, const job_t *job)
{
        return job->kind == JOB_SCHEDULE ? &w->sched_ready : &w->ready;
}

/* Puts job at the back of its kind's retry-ready queue. */
void worker_ready_push(cxw_worker_t *w, job_t *job)
{
        jobq_t *q = queue_of(w, job);

        job->state = JOB_READY;
        job->ready_next = NULL;
        if (q->tail)
                q->tail->ready_next = job;
        else
                q->head = job;
        q->tail = job;
}

static job_t *ready_pop(jobq_t *q)
{
        job_t *job = q->head;

        if (job) {
                q->head = job->ready_next;
                if (!q->head)
                        q->tail = NULL;
                job->ready_next = NULL;
        }
        return job;
}

/* Removes the jobs for which pred holds from a retry-ready queue. */
static void ready_remove_if(jobq_t *q, int (*pred)(job_t *), void (*removed)(job_t *))
{
        job_t **pp = &q->head;

        q->tail = NULL;
        while (*pp) {
                job_t *job = *pp;
                if (pred(job)) {
                        *pp = job->ready_next;
                        removed(job);
                } else {
                        q->tail = job;
                        pp = &job->ready_next;
                }
        }
}

/* The dispatcher and the key a job is ordered under. */
static cxw_dispatch_t *dispatcher_of(cxw_worker_t *w, const job_t *job)
{
        return job->kind == JOB_SCHEDULE ? w->sched_dispatch : w->dispatch;
}

static const char *key_of(const job_t *job)
{
        return job->kind == JOB_SCHEDULE ? job->sched->key : job->upd.contact_id;
}

static void release_key(job_t *job)
{
        if (job->dispatched) {
                cxw_dispatch_release(dispatcher_of(job->w, job), key_of(job));
                job->dispatched = 0;
        }
}

/* ------------------------------------------------------------------ */
/* backpressure                                                        */

static void check_backpressure(cxw_worker_t *w)
{
        const cxw_config_t *cfg = w->cfg;
        int paused = cxw_kafka_paused(w->kafka);

        if (!paused && ((int64_t)w->njobs >= cfg->max_buffered_messages ||
                        w->bytes >= w->bytes_limit)) {
                cxw_kafka_set_paused(w->kafka, 1);
                w->stats.pauses++;
                CXW_INFO(
                    "dispatch",
                    "paused consumption: %zu requests buffered (%lld bytes), limits %d "
                    "and %lld",
                    w->njobs, (long long)w->bytes, cfg->max_buffered_messages,
                    (long long)w->bytes_limit);
        } else if (paused && !w->stopping &&
                   (double)w->njobs <= cfg->max_buffered_messages * cfg->resume_ratio &&
                   (double)w->bytes <= (double)w->bytes_limit * cfg->resume_ratio) {
                cxw_kafka_set_paused(w->kafka, 0);
                CXW_INFO("dispatch", "resumed consumption: %zu requests buffered",
                         w->njobs);
        }
}

/* ------------------------------------------------------------------ */
/* outcomes                                                            */

static void fill_outcome(const job_t *job, cxw_outcome_t *o)
{
        memset(o, 0, sizeof(*o));
        o->type = "contact-update";
        o->status = job->status;
        o->contact_id = job->upd.contact_id[0] ? job->upd.contact_id : NULL;
        o->http_status = job->http_status;
        o->attempts = job->attempts;
        o->error = job->status == CXW_OUTCOME_SUCCEEDED
                       ? NULL
                       : (job->error ? job->error : "out of memory");
        o->batch_id = job->batch_id;
        o->correlation_id = job->correlation_id;
        o->topic = job->part->topic;
        o->partition = job->part->partition;
        o->offset = job->offset;
        o->latency_ms = cxw_now_ms() - job->consumed_at;
        o->finished_wall_ms = cxw_wall_ms();
        if (job->kind == JOB_SCHEDULE) {
                const sched_t *sc = job->sched;
                o->type = "schedule-import";
                o->contact_id = NULL;
                o->job_id = sc->job_id[0] ? sc->job_id : NULL;
                o->job_status = sc->job_status[0] ? sc->job_status : NULL;
                o->has_timings = 1;
                o->validation_ms = sc->validation_ms;
                o->request_ms = sc->request_ms;
                o->polling_ms = sc->polling_since ? cxw_now_ms() - sc->polling_since : 0;
        }
}

static const char *audit_action(const job_t *job, rec_kind_t kind)
{
        cxw_outcome_status_t s = job->status;

        if (job->kind == JOB_SCHEDULE)
                return kind == REC_AUDIT_SUBMIT     ? "schedule.submitted"
                       : s == CXW_OUTCOME_SUCCEEDED ? "schedule.completed"
                       : s == CXW_OUTCOME_REJECTED  ? "schedule.rejected"
                                                    : "schedule.failed";
        return s == CXW_OUTCOME_SUCCEEDED  ? "contact.updated"
               : s == CXW_OUTCOME_REJECTED ? "contact.rejected"
                                           : "contact.failed";
}

static void job_complete(job_t *job);
static void reproduce_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque);

/* Produces the records of job that are due. A record that cannot be queued
 * now (local queue full) is tried again on the job's re-produce timer. */
void worker_produce_records(job_t *job)
{
        cxw_worker_t *w = job->w;
        const cxw_config_t *cfg = w->cfg;
        cxw_outcome_t o;
        char at[40];
        int again = 0;

        fill_outcome(job, &o);
        o.finished_at = cxw_rfc3339(o.finished_wall_ms, at, sizeof(at)); /* once */
        for (int i = 0; i < REC__CNT; i++) {
                rec_t *rec = &job->recs[i];
                rd_kafka_headers_t *hdrs = NULL;
                char *value = NULL;
                const char *topic;
                const void *key;
                size_t keylen;
                size_t len;
                rd_kafka_resp_err_t err;

                if (rec->state != REC_NONE)
                        continue;
                switch (rec->kind) {
                case REC_RESULT:
                        topic = cfg->topic_results;
                        value = cxw_outcome_json(&o);
                        hdrs = cxw_outcome_headers(&o);
                        key = job->key;
                        keylen = job->keylen;
                        len = value ? strlen(value) : 0;
                        break;
                case REC_DLQ:
                        topic = cfg->topic_dlq;
                        hdrs = cxw_dlq_headers(job->headers, &o, cfg->worker_id);
                        key = job->key;
                        keylen = job->keylen;
                        len = job->len;
                        break;
                default: /* the audit events */
                        topic = cfg->topic_audit;
                        if (job->kind == JOB_SCHEDULE) {
                                value = cxw_audit_json(audit_action(job, rec->kind),
                                                       cfg->worker_id, &o, NULL, 0,
                                                       (int)job->sched->imp.nentries);
                                key = job->sched->key;
                        } else {
                                value = cxw_audit_json(
                                    audit_action(job, rec->kind), cfg->worker_id, &o,
                                    (const char *const *)job->upd.fields,
                                    job->upd.nfields, -1);
                                key = o.contact_id;
                        }
                        keylen = key ? strlen(key) : 0;
                        len = value ? strlen(value) : 0;
                        break;
                }
                if (rec->kind != REC_DLQ && !value) {
                        err = RD_KAFKA_RESP_ERR__FAIL;
                } else {
                        /* librdkafka holds a copy until it is acknowledged */
                        rec->bytes = cxw_memcost_produced(keylen, len, hdrs);
                        err = cxw_kafka_produce(w->kafka, topic, key, keylen,
                                                rec->kind == REC_DLQ ? job->value : value,
                                                len, hdrs, rec);
                        if (err)
                                rec->bytes = 0;
                }
                free(value);
                if (err) {
                        if (hdrs)
                                rd_kafka_headers_destroy(hdrs);
                        CXW_WARN("kafka", "cannot queue a record for %s: %s (retrying)",
                                 topic, rd_kafka_err2str(err));
                        again = 1;
                        continue;
                }
                rec->state = REC_PENDING;
                if (rec->kind == REC_DLQ)
                        w->stats.dlq_records++;
        }
        job_account(job);
        if (again)
                cxw_timer_start(w->loop, &job->rtimer, cxw_now_ms() + REPRODUCE_DELAY_MS,
                                reproduce_cb, job);
}

static void reproduce_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        (void)loop;
        (void)t;
        worker_produce_records(opaque);
}

/* A log line about one request, with its fields: topic, partition, offset,
 * contactId or calendar and jobId, the last HTTP status. */
void worker_log_job(const job_t *job, cxw_log_level_t level, const char *component,
                    const char *fmt, ...)
{
        char partition[16], offset[24], http[16], msg[1200];
        const char *kv[13];
        size_t n = 0;
        va_list ap;

        if (level > cxw_log_threshold)
                return;
        snprintf(partition, sizeof(partition), "%d", (int)job->part->partition);
        snprintf(offset, sizeof(offset), "%lld", (long long)job->offset);
        snprintf(http, sizeof(http), "%ld", job->http_status);
        kv[n++] = "topic";
        kv[n++] = job->part->topic;
        kv[n++] = "partition";
        kv[n++] = partition;
        kv[n++] = "offset";
        kv[n++] = offset;
        if (job->kind == JOB_SCHEDULE && job->sched) {
                kv[n++] = "calendar";
                kv[n++] = job->sched->key[0] ? job->sched->key : NULL;
                kv[n++] = "jobId";
                kv[n++] = job->sched->job_id[0] ? job->sched->job_id : NULL;
        } else {
                kv[n++] = "contactId";
                kv[n++] = job->upd.contact_id[0] ? job->upd.contact_id : NULL;
        }
        kv[n++] = "httpStatus";
        kv[n++] = job->http_status ? http : NULL;
        kv[n] = NULL;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        cxw_log_kv(level, component, kv, "%s", msg);
}

void worker_job_finish(job_t *job, cxw_outcome_status_t status, const char *fmt, ...)
{
        cxw_worker_t *w = job->w;
        int sched = job->kind == JOB_SCHEDULE;
        va_list ap;

        job->status = status;
        job->state = JOB_FINISHING;
        free(job->error);
        job->error = NULL;
        if (fmt) {
                /* Only requests that did not succeed have one: allocated
                 * here rather than carried by every buffered request. */
                char buf[ERROR_MAX];
                va_start(ap, fmt);
                vsnprintf(buf, sizeof(buf), fmt, ap);
                va_end(ap);
                job->error = strdup(buf);
        }
        release_key(job);
        if (sched && job->sched->active) {
                job->sched->active = 0;
                w->sched_active--;
        }
        job->recs[REC_RESULT].state = REC_NONE;
        job->recs[REC_AUDIT].state = REC_NONE;
        job->recs[REC_DLQ].state =
            status == CXW_OUTCOME_SUCCEEDED ? REC_UNUSED : REC_NONE;
        switch (status) {
        case CXW_OUTCOME_SUCCEEDED:
                sched ? w->stats.sched_succeeded++ : w->stats.succeeded++;
                break;
        case CXW_OUTCOME_REJECTED:
                sched ? w->stats.sched_rejected++ : w->stats.rejected++;
                break;
        default:
                sched ? w->stats.sched_failed++ : w->stats.failed++;
                break;
        }
        if (status != CXW_OUTCOME_SUCCEEDED)
                worker_log_job(job, CXW_LOG_INFO, "outcome", "%s: %s",
                               cxw_outcome_status_str(status),
                               job->error ? job->error : "out of memory");
        worker_produce_records(job);
        /* A slot of the import cap may have come free. */
        if (sched)
                sched_pump(w);
}

/* Every record of job is acknowledged: its offset is done. */
static void job_complete(job_t *job)
{
        cxw_worker_t *w = job->w;

        if (!job_stale(job)) {
                int64_t commit = cxw_offsets_done(w->offsets, job->part->topic,
                                                  job->part->partition, job->offset);
                if (commit >= 0)
                        cxw_kafka_store(w->kafka, job->part->topic, job->part->partition,
                                        commit);
        }
        job_free(job);
        check_backpressure(w);
}

static void on_delivered(void *opaque, const rd_kafka_message_t *rkm)
{
        cxw_worker_t *w = opaque;
        rec_t *rec = rkm->_private;
        job_t *job = rec->job;

        rec->bytes = 0; /* librdkafka frees its copy after this callback */
        job_account(job);
        if (rkm->err) {
                CXW_WARN("kafka", "record to %s not delivered: %s (retrying)",
                         rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
                rec->state = REC_NONE;
                cxw_timer_start(w->loop, &job->rtimer, cxw_now_ms() + REPRODUCE_DELAY_MS,
                                reproduce_cb, job);
                return;
        }
        rec->state = REC_DONE;
        /* Complete once the outcome is decided and every due record is in. */
        if (job->state != JOB_FINISHING)
                return;
        for (int i = 0; i < REC__CNT; i++)
                if (job->recs[i].state == REC_NONE || job->recs[i].state == REC_PENDING)
                        return;
        job_complete(job);
}

/* ------------------------------------------------------------------ */
/* token                                                               */

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
        } else if (cxw_token_fetch_done(w->token, r->status, r->body, r->body_len, now,
                                        err, sizeof(err)) == -1) {
                cxw_strlcpy(w->token_error, err, sizeof(w->token_error));
                CXW_WARN("token", "token fetch failed: %s", err);
        } else {
                w->token_error[0] = '\0';
                CXW_DEBUG("token", "new access token obtained");
        }
        arm_token_timer(w);
        worker_pump(w);
}

void worker_ensure_token(cxw_worker_t *w)
{
        cxw_http_request_t req = {0};

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
        req.urgent = 1; /* every call waits for it */
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

/* ------------------------------------------------------------------ */
/* calls                                                               */

static void retry_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        job_t *job = opaque;

        (void)loop;
        (void)t;
        worker_ready_push(job->w, job);
        worker_pump(job->w);
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
        cxw_timer_start(w->loop, &job->timer, now + delay_ms, retry_timer_cb, job);
}

/* A call of job got an answer other than 2xx (or none): a 401 drops the
 * token and repeats the call once; a 429 pauses class c for Retry-After and
 * retries; 5xx and network trouble retry with backoff within the retry
 * budget; anything else rejects the request. Shared by every kind of call. */
void worker_call_failed(job_t *job, const cxw_http_response_t *r, cxw_result_class_t cls,
                        cxw_budget_class_t c)
{
        cxw_worker_t *w = job->w;
        const cxw_config_t *cfg = w->cfg;
        char why[300];
        int64_t delay;

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
        cxw_budget_on_success(w->budget, CXW_CLASS_CONTACTS, r->sent_ms, cxw_now_ms());
        worker_job_finish(job, CXW_OUTCOME_SUCCEEDED, NULL);
}

int worker_start_call(job_t *job, cxw_http_request_t *req, const char *token,
                      uint64_t gen, cxw_http_done_cb *cb, int attempt)
{
        cxw_worker_t *w = job->w;
        char auth[8300];
        int rc, n;

        n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        req->authorization = auth;
        rc = cxw_http_start(w->http, req, cb, job);
        /* http has its own (wiped) copy; wipe what was written, not 8 KiB */
        explicit_bzero(auth,
                       n < 0 || (size_t)n >= sizeof(auth) ? sizeof(auth) : (size_t)n + 1);
        req->authorization = NULL;
        if (rc == -1)
                return -1;
        if (attempt && job->attempts++ == 0)
                job->first_attempt_at = cxw_now_ms();
        job->token_gen = gen;
        job->state = JOB_IN_FLIGHT;
        w->stats.http_requests++;
        return 0;
}

static int start_call(cxw_worker_t *w, job_t *job, const char *token, uint64_t gen)
{
        const cxw_config_t *cfg = w->cfg;
        cxw_http_request_t req = {0};
        char *path = cxw_contact_path(cfg->contacts_path, job->upd.contact_id);
        char url[2048];
        char idem[300];
        const char *extra[2];

        if (!path)
                return -1;
        snprintf(url, sizeof(url), "%s%s", w->contacts_url_prefix, path);
        free(path);
        /* Lets a server that honours it drop a replayed request. */
        snprintf(idem, sizeof(idem), "Idempotency-Key: %s:%d:%lld", job->part->topic,
                 (int)job->part->partition, (long long)job->offset);
        extra[0] = idem;
        extra[1] = NULL;
        req.method = cfg->contacts_method;
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
        worker_pump(opaque);
}

/* Starts as many calls as the in-flight limit, the token and the budget
 * allow: retries first (they are older), then keys the dispatcher has ready. */
void worker_pump(cxw_worker_t *w)
{
        const cxw_config_t *cfg = w->cfg;

        while (cxw_http_in_flight(w->http) - (size_t)w->token_in_flight <
               (size_t)cfg->max_in_flight) {
                int64_t now = cxw_now_ms();
                uint64_t gen = 0;
                const char *token;
                int64_t wait;
                job_t *job;

                if (!w->ready.head && cxw_dispatch_ready(w->dispatch) == 0)
                        break;
                token = cxw_token_get(w->token, now, &gen);
                if (!token) {
                        worker_ensure_token(w);
                        break;
                }
                wait = cxw_budget_take(w->budget, CXW_CLASS_CONTACTS, now);
                if (wait > 0) {
                        if (!cxw_timer_armed(&w->pump_timer) ||
                            w->pump_timer.at > now + wait)
                                cxw_timer_start(w->loop, &w->pump_timer, now + wait,
                                                pump_timer_cb, w);
                        break;
                }
                job = ready_pop(&w->ready);
                if (!job)
                        job = cxw_dispatch_pop(w->dispatch);
                if (start_call(w, job, token, gen) == -1) {
                        /* out of memory: try again shortly rather than fail it */
                        job->state = JOB_WAITING;
                        cxw_timer_start(w->loop, &job->timer, now + 100, retry_timer_cb,
                                        job);
                        break;
                }
        }
        sched_pump(w);
        /* Keep the token fresh ahead of expiry even between bursts. */
        if (!w->token_in_flight && cxw_token_need_fetch(w->token, cxw_now_ms()))
                worker_ensure_token(w);
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
                if (asprintf(&url, "%s%s", w->contacts_url_prefix, path) == -1)
                        return NULL;
                return url;
        }
        if (asprintf(&url, "%s%.*s%s%s", w->contacts_url_prefix, (int)(at - path), path,
                     value, at + strlen(pattern)) == -1)
                return NULL;
        return url;
}

/* ------------------------------------------------------------------ */
/* consumption                                                         */

static void on_message(cxw_worker_t *w, rd_kafka_message_t *rkm)
{
        const cxw_config_t *cfg = w->cfg;
        const char *topic = rd_kafka_topic_name(rkm->rkt);
        part_t *part = part_get(w, topic, rkm->partition);
        job_t *job;
        char err[ERROR_MAX];

        w->stats.consumed++;
        worker_metrics_consumed(w, topic);
        if (!part || !(job = job_new(w, rkm, part))) {
                /* Not stored, so it comes again after a restart; say so loudly. */
                CXW_ERROR("worker", "out of memory for %s [%d] @%lld", topic,
                          (int)rkm->partition, (long long)rkm->offset);
                w->fatal = 1;
                return;
        }
        if (!part->assigned) {
                /* A message from a partition we no longer own: drop it. */
                job_free(job);
                return;
        }
        if (cxw_offsets_add(w->offsets, topic, rkm->partition, rkm->offset) == -1) {
                CXW_WARN("worker", "%s [%d] @%lld arrived again out of order; ignored",
                         topic, (int)rkm->partition, (long long)rkm->offset);
                job_free(job);
                return;
        }
        if (strcmp(topic, cfg->topic_schedules) == 0) {
                job->kind = JOB_SCHEDULE;
                sched_on_message(w, job);
                job_account(job); /* its decoded import */
                return;
        }
        if (cxw_contact_decode(rkm->payload, rkm->len, rkm->key, rkm->key_len,
                               (const char *const *)cfg->contact_fields.v,
                               cfg->contact_fields.cnt, (size_t)cfg->max_message_bytes,
                               &job->upd, err, sizeof(err)) == -1) {
                worker_job_finish(job, CXW_OUTCOME_REJECTED, "%s", err);
                return;
        }
        job_account(job); /* its PATCH body */
        if (cxw_dispatch_push(w->dispatch, job->upd.contact_id, job) == -1) {
                worker_job_finish(job, CXW_OUTCOME_FAILED, "out of memory");
                return;
        }
        job->dispatched = 1;
        job->state = JOB_QUEUED;
}

static void consume(cxw_worker_t *w)
{
        const cxw_config_t *cfg = w->cfg;
        int full =
            (int64_t)w->njobs >= cfg->max_buffered_messages || w->bytes >= w->bytes_limit;
        /* Full, we still poll (rebalances are served there, and
         * max.poll.interval.ms must be kept) but take one message a round
         * at most: the paused partitions stop fetching, and pausing discards
         * what librdkafka had prefetched for them. */
        int max = full ? 1 : CONSUME_BATCH;
        int n = 0;

        w->backlog = 0;
        while (!w->stopping && !w->fatal) {
                rd_kafka_message_t *rkm;

                if (n++ >= max) {
                        w->backlog = !full;
                        break;
                }
                rkm = cxw_kafka_consume(w->kafka);
                if (!rkm)
                        break;
                on_message(w, rkm);
                rd_kafka_message_destroy(rkm);
        }
        check_backpressure(w);
}

static void on_wakeup(cxw_loop_t *loop, int fd, void *opaque)
{
        cxw_worker_t *w = opaque;

        (void)loop;
        (void)fd;
        cxw_kafka_serve(w->kafka);
        if (!w->in_rebalance)
                consume(w);
}

/* "unlimited" or "12.5/s", for logs. */
static const char *rate_str(double rps, char *buf, size_t size)
{
        if (rps <= 0)
                return "unlimited";
        snprintf(buf, size, "%.1f/s", rps);
        return buf;
}

static void on_assigned(void *opaque, const rd_kafka_topic_partition_list_t *parts)
{
        cxw_worker_t *w = opaque;

        for (int i = 0; i < parts->cnt; i++) {
                part_t *p = part_get(w, parts->elems[i].topic, parts->elems[i].partition);
                if (!p)
                        continue;
                p->gen++;
                p->assigned = 1;
                cxw_offsets_drop(w->offsets, p->topic, p->partition);
        }
        worker_share_update(w);
}

static int job_revoked(job_t *job)
{
        return job->part->revoking;
}

static void drop_job(job_t *job)
{
        job->w->stats.abandoned++;
        release_key(job);
        job_free(job);
}

static int queued_revoked(void *item, void *opaque)
{
        (void)opaque;
        return job_revoked(item);
}

static void queued_removed(void *item, void *opaque)
{
        job_t *job = item;

        (void)opaque;
        job->dispatched = 0; /* never popped: holds no key */
        drop_job(job);
}

/* Drops the revoked partitions' jobs that wait (queued, ready, backoff). */
static void drop_revoked_waiting(cxw_worker_t *w)
{
        job_t *job, *next;

        cxw_dispatch_remove_if(w->dispatch, queued_revoked, queued_removed, NULL);
        cxw_dispatch_remove_if(w->sched_dispatch, queued_revoked, queued_removed, NULL);
        ready_remove_if(&w->ready, job_revoked, drop_job);
        ready_remove_if(&w->sched_ready, job_revoked, drop_job);
        for (job = w->jobs; job; job = next) {
                next = job->next;
                if (job_revoked(job) && job->state == JOB_WAITING)
                        drop_job(job);
        }
}

static size_t revoked_in_progress(const cxw_worker_t *w)
{
        size_t n = 0;

        for (const job_t *job = w->jobs; job; job = job->next)
                if (job->part->revoking)
                        n++;
        return n;
}

static void on_revoked(void *opaque, const rd_kafka_topic_partition_list_t *parts)
{
        cxw_worker_t *w = opaque;
        int64_t deadline = cxw_now_ms() + REVOKE_DRAIN_MS;
        size_t left;

        for (int i = 0; i < parts->cnt; i++) {
                part_t *p = part_get(w, parts->elems[i].topic, parts->elems[i].partition);
                if (p)
                        p->revoking = 1;
        }
        /* Work not started yet goes back to Kafka: the next owner of the
         * partition consumes it from the committed offset. */
        drop_revoked_waiting(w);

        /* Calls in flight are finished here, within a bound, so that their
         * outcomes are acknowledged and their offsets stored before the
         * commit that follows this hook: the next owner then does not call
         * CXone again for them. The loop runs nested, consuming nothing. */
        w->in_rebalance = 1;
        while (!w->closing && (left = revoked_in_progress(w)) > 0 &&
               cxw_now_ms() < deadline && !w->fatal) {
                if (cxw_loop_run_once(w->loop, 50) == -1)
                        break;
                cxw_http_perform(w->http);
                cxw_kafka_serve(w->kafka);
                drop_revoked_waiting(w); /* a retry would outlive the partition */
        }
        w->in_rebalance = 0;
        left = revoked_in_progress(w);
        if (left > 0 && !w->closing) /* at close, the drain deadline said it already */
                CXW_WARN(
                    "worker",
                    "%zu calls of revoked partitions still in flight: their outcomes "
                    "will be published, their offsets not committed",
                    left);

        for (int i = 0; i < parts->cnt; i++) {
                part_t *p = part_get(w, parts->elems[i].topic, parts->elems[i].partition);
                if (!p)
                        continue;
                p->revoking = 0;
                p->assigned = 0;
                cxw_offsets_drop(w->offsets, p->topic, p->partition);
        }
        worker_share_update(w);
        check_backpressure(w);
}

/* ------------------------------------------------------------------ */
/* signals, stats                                                      */

static void on_signal(cxw_loop_t *loop, int fd, void *opaque)
{
        cxw_worker_t *w = opaque;
        struct signalfd_siginfo si;

        (void)loop;
        while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (w->stopping)
                        continue;
                w->stopping = 1;
                w->deadline = cxw_now_ms() + w->cfg->shutdown_deadline_ms;
                cxw_kafka_set_paused(w->kafka, 1);
                CXW_INFO("worker",
                         "signal %u: stopping; finishing %zu requests within %d ms",
                         si.ssi_signo, w->njobs, w->cfg->shutdown_deadline_ms);
        }
}

static void log_stats(cxw_worker_t *w, const char *when)
{
        const cxw_worker_stats_t *s = &w->stats;

        CXW_INFO(
            "worker",
            "%s: consumed %llu, succeeded %llu, rejected %llu, failed %llu, "
            "requests %llu (429: %llu, 5xx: %llu, network: %llu, 401: %llu), retries "
            "%llu, buffered %zu, in flight %zu",
            when, (unsigned long long)s->consumed, (unsigned long long)s->succeeded,
            (unsigned long long)s->rejected, (unsigned long long)s->failed,
            (unsigned long long)s->http_requests, (unsigned long long)s->http_429,
            (unsigned long long)s->http_5xx, (unsigned long long)s->http_network,
            (unsigned long long)s->http_401, (unsigned long long)s->retries, w->njobs,
            cxw_http_in_flight(w->http));
}

static void stats_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        cxw_worker_t *w = opaque;

        log_stats(w, "progress");
        cxw_timer_start(loop, t, cxw_now_ms() + STATS_INTERVAL_MS, stats_timer_cb, w);
}

/* ------------------------------------------------------------------ */
/* life cycle                                                          */

static char *url_prefix(const char *base)
{
        size_t n = strlen(base);
        char *s;

        while (n > 0 && base[n - 1] == '/')
                n--;
        s = malloc(n + 1);
        if (s) {
                memcpy(s, base, n);
                s[n] = '\0';
        }
        return s;
}

cxw_worker_t *cxw_worker_new(const cxw_config_t *cfg, char *errstr, size_t errstr_size)
{
        cxw_worker_t *w = calloc(1, sizeof(*w));
        cxw_http_conf_t hconf;
        cxw_budget_conf_t bconf;
        cxw_kafka_hooks_t hooks = {on_assigned, on_revoked, on_delivered};
        const char *topics[2];
        sigset_t mask;

        if (!w) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        w->cfg = cfg;
        w->sigfd = -1;
        /* librdkafka's prefetch takes its share of the buffer limit */
        w->bytes_limit = cfg->max_buffered_bytes - cxw_kafka_prefetch_bytes(cfg);
        w->rng = cxw_rand_seed();

        hconf.connect_timeout_ms = cfg->connect_timeout_ms;
        hconf.request_timeout_ms = cfg->request_timeout_ms;
        hconf.max_response_bytes = (size_t)cfg->max_response_bytes;
        /* in flight, plus one for the token fetch */
        hconf.max_connections = cfg->max_connections < cfg->max_in_flight + 1
                                    ? cfg->max_connections
                                    : cfg->max_in_flight + 1;
        w->http = cxw_http_new(&hconf, errstr, errstr_size);
        if (!w->http)
                goto fail;
        w->loop = cxw_loop_new(cxw_http_multi(w->http), errstr, errstr_size);
        if (!w->loop)
                goto fail;

        memset(&bconf, 0, sizeof(bconf));
        bconf.total_rps = cfg->rate_rps;
        bconf.total_burst = cfg->rate_burst;
        bconf.rps[CXW_CLASS_CONTACTS] = cfg->rate_contacts_rps;
        bconf.burst[CXW_CLASS_CONTACTS] = cfg->rate_contacts_burst;
        bconf.rps[CXW_CLASS_SCHEDULES] = cfg->rate_schedules_rps;
        bconf.burst[CXW_CLASS_SCHEDULES] = cfg->rate_schedules_burst;
        bconf.rps[CXW_CLASS_POLLS] = cfg->rate_polls_rps;
        bconf.burst[CXW_CLASS_POLLS] = cfg->rate_polls_burst;
        w->budget = cxw_budget_new(&bconf, cxw_now_ms());
        w->token = cxw_token_new(cfg->token_refresh_ahead_ms, 500, 30000);
        w->dispatch = cxw_dispatch_new();
        w->sched_dispatch = cxw_dispatch_new();
        w->offsets = cxw_offsets_new();
        w->token_url = strdup(cfg->token_url);
        w->token_body = cxw_token_form_body(cfg->scope);
        w->token_auth = cxw_token_basic_auth(cfg->client_id, cfg->client_secret);
        w->contacts_url_prefix = url_prefix(cfg->base_url);
        if (!w->budget || !w->token || !w->dispatch || !w->sched_dispatch ||
            !w->offsets || !w->token_url || !w->token_body || !w->token_auth ||
            !w->contacts_url_prefix) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        w->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (w->sigfd == -1) {
                snprintf(errstr, errstr_size, "signalfd: %s", strerror(errno));
                goto fail;
        }
        cxw_loop_watch_fd(w->loop, w->sigfd, on_signal, w);
        cxw_loop_on_wakeup(w->loop, on_wakeup, w);

        topics[0] = cfg->topic_contacts;
        topics[1] = cfg->topic_schedules;
        w->kafka = cxw_kafka_new(cfg, topics, 2, &hooks, w, cxw_loop_wakeup_fd(w->loop),
                                 errstr, errstr_size);
        if (!w->kafka)
                goto fail;
        if (worker_peers_start(w, errstr, errstr_size) == -1)
                goto fail;
        if (worker_admin_start(w, errstr, errstr_size) == -1)
                goto fail;
        return w;
fail:
        cxw_worker_destroy(w);
        return NULL;
}

int cxw_worker_run(cxw_worker_t *w)
{
        char buf[32];

        CXW_INFO("worker",
                 "cxone-worker %s started as %s: group %s, topic %s, CXone %s, %d in "
                 "flight, group budget %s",
                 CXW_VERSION, w->cfg->worker_id, w->cfg->group_id, w->cfg->topic_contacts,
                 w->cfg->base_url, w->cfg->max_in_flight,
                 rate_str(w->cfg->rate_rps, buf, sizeof(buf)));
        worker_ensure_token(w);
        cxw_timer_start(w->loop, &w->stats_timer, cxw_now_ms() + STATS_INTERVAL_MS,
                        stats_timer_cb, w);

        for (;;) {
                char err[512];

                if (cxw_loop_run_once(w->loop, w->backlog || w->peers_more ? 0 : 1000) ==
                    -1) {
                        CXW_ERROR("worker", "the event loop failed");
                        w->fatal = 1;
                }
                cxw_http_perform(w->http);
                /* Jobs finished by the calls above may have freed room. */
                cxw_kafka_serve(w->kafka);
                if (!w->stopping)
                        consume(w);
                worker_pump(w);
                w->peers_more = worker_peers_round(w);
                if (cxw_kafka_fatal(w->kafka, err, sizeof(err))) {
                        CXW_ERROR("kafka", "fatal producer error: %s", err);
                        w->fatal = 1;
                }
                if (w->fatal)
                        break;
                if (w->stopping) {
                        if (w->njobs == 0)
                                break;
                        if (cxw_now_ms() >= w->deadline) {
                                CXW_WARN("worker",
                                         "drain deadline reached: %zu requests left "
                                         "uncommitted (they will be consumed again)",
                                         w->njobs);
                                break;
                        }
                }
        }
        log_stats(w, "stopped");
        return w->fatal ? 1 : 0;
}

const cxw_worker_stats_t *cxw_worker_stats(const cxw_worker_t *w)
{
        return &w->stats;
}

void cxw_worker_destroy(cxw_worker_t *w)
{
        if (!w)
                return;
        /* Kafka first: the final flush may still deliver records, which
         * completes jobs and stores their offsets before the last commit.
         * What is unfinished now is abandoned, not drained again on revoke. */
        w->closing = 1;
        if (w->kafka) {
                cxw_kafka_destroy(w->kafka, 10000);
                w->kafka = NULL;
        }
        worker_admin_stop(w);      /* after the last loop round */
        cxw_http_destroy(w->http); /* aborts calls in flight, no callbacks */
        w->http = NULL;
        while (w->jobs) {
                w->jobs->dispatched = 0;
                job_free(w->jobs);
        }
        while (w->parts) {
                part_t *p = w->parts;
                w->parts = p->next;
                free(p->topic);
                free(p);
        }
        worker_peers_stop(w);
        cxw_loop_destroy(w->loop);
        cxw_budget_destroy(w->budget);
        cxw_token_destroy(w->token);
        cxw_dispatch_destroy(w->dispatch);
        cxw_dispatch_destroy(w->sched_dispatch);
        cxw_offsets_destroy(w->offsets);
        if (w->token_auth) {
                explicit_bzero(w->token_auth, strlen(w->token_auth));
                free(w->token_auth);
        }
        free(w->token_url);
        free(w->token_body);
        free(w->contacts_url_prefix);
        if (w->sigfd != -1)
                close(w->sigfd);
        free(w);
}

/* records.c: the records about a finished request (its outcome, a DLQ copy
 * when it did not succeed, its audit events), produced and re-produced until
 * Kafka acknowledges each; then the job is complete and its offset done.
 * Also the log line about one request.
 *
 * With kafka.exactly_once (w->txn set) the order differs: a request's offset
 * is done when its outcome is decided, and its records are held until every
 * request before it in its partition is decided too; then they are produced
 * into the open transaction, together with the offset that covers them
 * (cxw_txn_set_offset()). A transaction thus never holds a record whose
 * source offset it does not commit, nor commits an offset whose records it
 * does not hold. A failed record fails the transaction (it is aborted and
 * the work done again) instead of being produced again. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/memcost.h"
#include "cxone/base/util.h"
#include "cxone/flow/offsets.h"
#include "cxone/flow/txn.h"
#include "cxone/io/kafka.h"
#include "cxone/requests/outcome.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Kafka refused rec for good (err: too large, invalid): producing it again
 * would fail forever and hold its offset back, so it is given up, said
 * loudly and counted; the job completes without it. */
static void record_dropped(job_t *job, rec_t *rec, const char *topic,
                           rd_kafka_resp_err_t err)
{
        rec->state = REC_DROPPED;
        job->w->stats.records_dropped++;
        worker_log_job(job, CXW_LOG_ERROR, "kafka",
                       "record to %s dropped: %s (it can never be produced)", topic,
                       rd_kafka_err2str(err));
}

/* The DLQ copy's headers, fitted to the producer's limit: its value cut
 * (dlq-truncated), or without the original headers if they alone are too
 * large. *len is the value's length to produce; NULL if nothing fits. */
static rd_kafka_headers_t *dlq_fitted(job_t *job, const cxw_outcome_t *o, size_t *len)
{
        cxw_worker_t *w = job->w;
        rd_kafka_headers_t *hdrs = cxw_dlq_headers(job->headers, o, w->cfg->worker_id);
        long long n =
            cxw_dlq_fit(hdrs, job->keylen, job->len, job->orig_len, w->max_record);

        if (n < 0 && job->headers) {
                rd_kafka_headers_destroy(hdrs);
                hdrs = cxw_dlq_headers(NULL, o, w->cfg->worker_id);
                n = cxw_dlq_fit(hdrs, job->keylen, job->len, job->orig_len,
                                w->max_record);
                if (n >= 0)
                        worker_log_job(job, CXW_LOG_WARN, "kafka",
                                       "DLQ copy without the original headers: they "
                                       "alone exceed message.max.bytes (%zu)",
                                       w->max_record);
        }
        if (n < 0) {
                rd_kafka_headers_destroy(hdrs);
                return NULL;
        }
        if ((size_t)n < job->orig_len)
                worker_log_job(job, CXW_LOG_WARN, "kafka",
                               "DLQ copy truncated to %lld of %zu bytes "
                               "(message.max.bytes %zu)",
                               n, job->orig_len, w->max_record);
        *len = (size_t)n;
        return hdrs;
}

/* Every due record of job is acknowledged or given up. */
static int job_settled(const job_t *job)
{
        if (job->state != JOB_FINISHING)
                return 0;
        for (int i = 0; i < REC__CNT; i++)
                if (job->recs[i].state == REC_NONE || job->recs[i].state == REC_PENDING)
                        return 0;
        return 1;
}

/* Produces the records of job that are due. A record that cannot be queued
 * now (local queue full) is tried again on the job's re-produce timer; one
 * that can never be (too large, invalid) is dropped, and the timer then
 * completes the job (never here: the caller still holds it). */
void worker_produce_records(job_t *job)
{
        cxw_worker_t *w = job->w;
        const cxw_config_t *cfg = w->cfg;
        cxw_outcome_t o;
        char at[40];
        int again = 0, dropped = 0;

        if (w->txn) {
                /* Exactly-once: a job of an aborted transaction or a lost
                 * partition writes nothing (it is done again, or by the
                 * partition's next owner); one not released yet waits. */
                if (worker_job_stale(job)) {
                        for (int i = 0; i < REC__CNT; i++)
                                if (job->recs[i].state == REC_NONE)
                                        job->recs[i].state = REC_UNUSED;
                        return;
                }
                if (job->state != JOB_FINISHING || job->held)
                        return;
                if (cxw_txn_open(w->txn, cxw_now_ms()) == -1) {
                        cxw_timer_start(w->loop, &job->rtimer,
                                        cxw_now_ms() + TXN_REOPEN_DELAY_MS, reproduce_cb,
                                        job);
                        return;
                }
        }
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
                        key = job->key;
                        keylen = job->keylen;
                        len = 0;
                        hdrs = dlq_fitted(job, &o, &len);
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
                        err = RD_KAFKA_RESP_ERR__FAIL; /* out of memory: again */
                } else if ((rec->kind == REC_DLQ && !hdrs) ||
                           cxw_record_size(keylen, len, hdrs) > w->max_record) {
                        /* librdkafka would refuse it too: said the same way */
                        err = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
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
                        if (cxw_kafka_err_permanent(err)) {
                                record_dropped(job, rec, topic, err);
                                dropped = 1;
                                continue;
                        }
                        CXW_WARN("kafka", "cannot queue a record for %s: %s (retrying)",
                                 topic, rd_kafka_err2str(err));
                        again = 1;
                        continue;
                }
                rec->state = REC_PENDING;
                if (w->txn)
                        cxw_txn_add_records(w->txn, 1);
        }
        worker_job_account(job);
        if (again || dropped)
                cxw_timer_start(w->loop, &job->rtimer,
                                cxw_now_ms() + (again ? REPRODUCE_DELAY_MS : 0),
                                reproduce_cb, job);
}

static void reproduce_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        job_t *job = opaque;

        (void)loop;
        (void)t;
        worker_produce_records(job);
        if (job_settled(job)) /* what was left was dropped */
                job_complete(job);
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

/* Exactly-once: puts job among its partition's held jobs, in offset order. */
static void hold(job_t *job)
{
        job_t **pp = &job->part->held;

        while (*pp && (*pp)->offset < job->offset)
                pp = &(*pp)->held_next;
        job->held_next = *pp;
        *pp = job;
        job->held = 1;
}

/* Exactly-once: the contiguous prefix of decided offsets of part reached
 * commit: every held job below it is produced into the transaction, and
 * the transaction commits commit for the partition. */
static void release(cxw_worker_t *w, part_t *part, int64_t commit)
{
        if (!cxw_txn_accepting(w->txn)) {
                /* The transaction drains before its commit: this prefix
                 * goes into the next one (worker_release_pending()). */
                if (commit > part->pending)
                        part->pending = commit;
                return;
        }
        while (part->held && part->held->offset < commit) {
                job_t *job = part->held;

                part->held = job->held_next;
                job->held_next = NULL;
                job->held = 0;
                worker_produce_records(job);
                /* All of its records given up (too large): completes on its
                 * timer, armed by worker_produce_records(). */
        }
        cxw_txn_set_offset(w->txn, part->topic, part->partition, commit);
}

/* Exactly-once: job's outcome is decided. A job of an earlier assignment
 * writes nothing: it completes on its timer (not here: the caller still
 * holds it). */
static void hold_or_release(job_t *job)
{
        cxw_worker_t *w = job->w;
        int64_t commit;

        if (worker_job_stale(job)) {
                for (int i = 0; i < REC__CNT; i++)
                        if (job->recs[i].state == REC_NONE)
                                job->recs[i].state = REC_UNUSED;
                cxw_timer_start(w->loop, &job->rtimer, cxw_now_ms(), reproduce_cb, job);
                return;
        }
        hold(job);
        commit = cxw_offsets_done(w->offsets, job->part->topic, job->part->partition,
                                  job->offset);
        if (commit >= 0)
                release(w, job->part, commit);
}

void worker_release_pending(cxw_worker_t *w)
{
        for (part_t *p = w->parts; p && cxw_txn_accepting(w->txn); p = p->next) {
                int64_t commit = p->pending;

                if (commit < 0)
                        continue;
                p->pending = -1;
                if (p->assigned)
                        release(w, p, commit);
        }
}

void worker_drop_held(cxw_worker_t *w, part_t *part)
{
        part->pending = -1;
        while (part->held) {
                job_t *job = part->held;

                part->held = job->held_next;
                job->held_next = NULL;
                job->held = 0;
                w->stats.abandoned++;
                worker_job_free(job);
        }
}

int worker_txn_blocked(const cxw_worker_t *w)
{
        for (const job_t *job = w->jobs; job; job = job->next) {
                if (job->state != JOB_FINISHING || job->held || worker_job_stale(job))
                        continue;
                for (int i = 0; i < REC__CNT; i++)
                        if (job->recs[i].state == REC_NONE)
                                return 1;
        }
        return 0;
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
        worker_release_key(job);
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
        if (w->txn)
                hold_or_release(job);
        else
                worker_produce_records(job);
        /* A freed key or import slot is used by the loop round's pump. */
}

/* Every record of job is acknowledged: its offset is done. */
static void job_complete(job_t *job)
{
        cxw_worker_t *w = job->w;

        if (!w->txn && !worker_job_stale(job)) {
                int64_t commit = cxw_offsets_done(w->offsets, job->part->topic,
                                                  job->part->partition, job->offset);
                if (commit >= 0)
                        cxw_kafka_store(w->kafka, job->part->topic, job->part->partition,
                                        commit);
        }
        worker_job_free(job);
        worker_check_backpressure(w);
}

void worker_on_delivered(void *opaque, const rd_kafka_message_t *rkm)
{
        cxw_worker_t *w = opaque;
        rec_t *rec = rkm->_private;
        job_t *job = rec->job;

        rec->bytes = 0; /* librdkafka frees its copy after this callback */
        worker_job_account(job);
        if (rkm->err && w->txn) {
                /* Exactly-once: the transaction holding it cannot commit; it
                 * is aborted and the work done again. */
                CXW_WARN("kafka",
                         "record to %s not delivered: %s (the transaction "
                         "is aborted and its work done again)",
                         rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
                cxw_txn_fail(w->txn);
                rec->state = REC_UNUSED;
        } else if (rkm->err && cxw_kafka_err_permanent(rkm->err)) {
                record_dropped(job, rec, rd_kafka_topic_name(rkm->rkt), rkm->err);
        } else if (rkm->err) {
                CXW_WARN("kafka", "record to %s not delivered: %s (retrying)",
                         rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
                rec->state = REC_NONE;
                cxw_timer_start(w->loop, &job->rtimer, cxw_now_ms() + REPRODUCE_DELAY_MS,
                                reproduce_cb, job);
                return;
        } else {
                rec->state = REC_DONE;
                if (rec->kind == REC_DLQ)
                        w->stats.dlq_records++;
        }
        /* Complete once the outcome is decided and every due record is in. */
        if (job_settled(job))
                job_complete(job);
}

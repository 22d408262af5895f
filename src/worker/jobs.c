/* jobs.c: a request's job from consumption to its last acknowledgement:
 * the partitions it belongs to, its one allocation and what it costs in
 * memory, the retry-ready queues, the key it holds in a dispatcher, and the
 * backpressure that pauses consumption when the jobs fill the buffer. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/memcost.h"
#include "cxone/base/util.h"
#include "cxone/flow/dispatch.h"
#include "cxone/io/kafka.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* partitions                                                          */

part_t *worker_part_get(cxw_worker_t *w, const char *topic, int32_t partition)
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
        p->pending = -1;
        p->next = w->parts;
        w->parts = p;
        return p;
}

int worker_job_stale(const job_t *job)
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
void worker_job_account(job_t *job)
{
        size_t c = job_cost(job);

        job->w->bytes += (int64_t)c - (int64_t)job->bytes;
        job->bytes = c;
}

/* Frees a job's schedule state and takes it out of the tracked imports. */
static void sched_free(job_t *job)
{
        cxw_worker_t *w = job->w;
        sched_t *sc = job->sched;

        for (job_t **pp = &w->tracked; *pp; pp = &(*pp)->sched->tracked_next) {
                if (*pp == job) {
                        *pp = sc->tracked_next;
                        break;
                }
        }
        if (sc->active)
                w->sched_active--;
        cxw_schedule_import_clear(&sc->imp);
        free(sc);
        job->sched = NULL;
}

void worker_job_free(job_t *job)
{
        cxw_worker_t *w = job->w;

        cxw_timer_stop(w->loop, &job->timer);
        cxw_timer_stop(w->loop, &job->rtimer);
        if (job->sched)
                sched_free(job);
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
job_t *worker_job_new(cxw_worker_t *w, const rd_kafka_message_t *rkm, part_t *part)
{
        rd_kafka_headers_t *hdrs = NULL;
        const void *bv = NULL, *cv = NULL;
        ssize_t blen = -1, clen = -1;
        size_t size;
        /* A value over limits.max_message_bytes is rejected unread: not
         * copied (its size is kept for the outcome and the DLQ copy). */
        size_t keep = rkm->len > (size_t)w->cfg->max_message_bytes ? 0 : rkm->len;
        job_t *job;
        char *p;

        if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
                hdrs = NULL;
        blen = header_len(hdrs, "batch-id", &bv);
        clen = header_len(hdrs, "correlation-id", &cv);
        size = sizeof(*job) + (rkm->key ? rkm->key_len + 1 : 0) + keep + 1 +
               (blen >= 0 ? (size_t)blen + 1 : 0) + (clen >= 0 ? (size_t)clen + 1 : 0);
        job = calloc(1, size);
        if (!job)
                return NULL;
        job->block_len = size;
        p = (char *)(job + 1);
        job->value = p;
        if (keep)
                memcpy(p, rkm->payload, keep);
        p[keep] = '\0';
        job->len = keep;
        job->orig_len = rkm->len;
        p += keep + 1;
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
        worker_job_account(job);
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

job_t *worker_ready_pop(jobq_t *q)
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
void worker_ready_remove_if(jobq_t *q, int (*pred)(job_t *), void (*removed)(job_t *))
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

void worker_release_key(job_t *job)
{
        if (job->dispatched) {
                cxw_dispatch_release(dispatcher_of(job->w, job), key_of(job));
                job->dispatched = 0;
        }
}

/* ------------------------------------------------------------------ */
/* backpressure                                                        */

void worker_check_backpressure(cxw_worker_t *w)
{
        const cxw_config_t *cfg = w->cfg;
        int paused = cxw_kafka_paused(w->kafka);
        int down = cxw_breaker_is_open(&w->breaker);

        if (!paused && down) {
                /* Nothing would start: what is buffered is enough to wait. */
                cxw_kafka_set_paused(w->kafka, 1);
                w->stats.pauses++;
                CXW_INFO("dispatch",
                         "paused consumption while CXone is down: %zu "
                         "requests buffered",
                         w->njobs);
        } else if (!paused && ((int64_t)w->njobs >= cfg->max_buffered_messages ||
                               w->bytes >= w->bytes_limit)) {
                cxw_kafka_set_paused(w->kafka, 1);
                w->stats.pauses++;
                CXW_INFO(
                    "dispatch",
                    "paused consumption: %zu requests buffered (%lld bytes), limits %d "
                    "and %lld",
                    w->njobs, (long long)w->bytes, cfg->max_buffered_messages,
                    (long long)w->bytes_limit);
        } else if (paused && !w->stopping && !down &&
                   (double)w->njobs <= cfg->max_buffered_messages * cfg->resume_ratio &&
                   (double)w->bytes <= (double)w->bytes_limit * cfg->resume_ratio) {
                cxw_kafka_set_paused(w->kafka, 0);
                CXW_INFO("dispatch", "resumed consumption: %zu requests buffered",
                         w->njobs);
        }
}

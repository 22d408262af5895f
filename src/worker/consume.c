/* consume.c: messages in and partitions in and out. A consumed message
 * becomes a job (jobs.c) handed to its path (contacts.c or schedules.c);
 * an assignment starts a partition's generation; a revoke hands the
 * partition's waiting work back to Kafka and finishes its calls in flight,
 * within a bound, before the offsets are committed. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/flow/dispatch.h"
#include "cxone/flow/offsets.h"
#include "cxone/io/http.h"
#include "cxone/io/kafka.h"
#include "cxone/io/loop.h"

#include <string.h>

static void on_message(cxw_worker_t *w, rd_kafka_message_t *rkm)
{
        const cxw_config_t *cfg = w->cfg;
        const char *topic = rd_kafka_topic_name(rkm->rkt);
        part_t *part = worker_part_get(w, topic, rkm->partition);
        job_t *job;

        w->stats.consumed++;
        worker_metrics_consumed(w, topic);
        if (!part || !(job = worker_job_new(w, rkm, part))) {
                /* Not stored, so it comes again after a restart; say so loudly. */
                CXW_ERROR("worker", "out of memory for %s [%d] @%lld", topic,
                          (int)rkm->partition, (long long)rkm->offset);
                w->fatal = 1;
                return;
        }
        if (!part->assigned) {
                /* A message from a partition we no longer own: drop it. */
                worker_job_free(job);
                return;
        }
        if (cxw_offsets_add(w->offsets, topic, rkm->partition, rkm->offset) == -1) {
                CXW_WARN("worker", "%s [%d] @%lld arrived again out of order; ignored",
                         topic, (int)rkm->partition, (long long)rkm->offset);
                worker_job_free(job);
                return;
        }
        if (strcmp(topic, cfg->topic_schedules) == 0) {
                job->kind = JOB_SCHEDULE;
                worker_sched_on_message(w, job);
                worker_job_account(job); /* its decoded import */
                return;
        }
        worker_contact_on_message(w, job);
}

void worker_consume(cxw_worker_t *w)
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
                /* The limits hold within a batch too: stop (and pause) at
                 * the message that reaches them, not a batch later. */
                if (!full && ((int64_t)w->njobs >= cfg->max_buffered_messages ||
                              w->bytes >= w->bytes_limit))
                        break;
        }
        worker_check_backpressure(w);
}

void worker_on_wakeup(cxw_loop_t *loop, int fd, void *opaque)
{
        cxw_worker_t *w = opaque;

        (void)loop;
        (void)fd;
        cxw_kafka_serve(w->kafka);
        if (!w->in_rebalance)
                worker_consume(w);
}

/* "unlimited" or "12.5/s", for logs. */
void worker_on_assigned(void *opaque, const rd_kafka_topic_partition_list_t *parts)
{
        cxw_worker_t *w = opaque;

        for (int i = 0; i < parts->cnt; i++) {
                part_t *p =
                    worker_part_get(w, parts->elems[i].topic, parts->elems[i].partition);
                if (!p)
                        continue;
                p->gen++;
                p->assigned = 1;
                cxw_offsets_drop(w->offsets, p->topic, p->partition);
        }
        worker_share_update(w);
}

/* A job whose partition is being revoked, or any job once the replica
 * stops, goes back to Kafka unless its call is under way. */
static int job_handed_over(job_t *job)
{
        if (!job->w->stopping && !job->part->revoking)
                return 0;
        /* Kafka holds a record of it (a submission's audit event): its
         * delivery report needs the job; it goes once that is in. */
        for (int i = 0; i < REC__CNT; i++)
                if (job->recs[i].state == REC_PENDING)
                        return 0;
        return 1;
}

static void drop_job(job_t *job)
{
        job->w->stats.abandoned++;
        worker_release_key(job);
        worker_job_free(job);
}

static int queued_handed_over(void *item, void *opaque)
{
        (void)opaque;
        return job_handed_over(item);
}

static void queued_removed(void *item, void *opaque)
{
        job_t *job = item;

        (void)opaque;
        job->dispatched = 0; /* never popped: holds no key */
        drop_job(job);
}

/* Drops the jobs that wait (queued, ready, backoff) of the revoked
 * partitions, or all of them once the replica stops: not started, their
 * offsets are not done, so the partition's next owner consumes them from
 * the committed offset. */
size_t worker_hand_over_waiting(cxw_worker_t *w)
{
        uint64_t before = w->stats.abandoned;
        job_t *job, *next;

        cxw_dispatch_remove_if(w->dispatch, queued_handed_over, queued_removed, NULL);
        cxw_dispatch_remove_if(w->sched_dispatch, queued_handed_over, queued_removed,
                               NULL);
        worker_ready_remove_if(&w->ready, job_handed_over, drop_job);
        worker_ready_remove_if(&w->sched_ready, job_handed_over, drop_job);
        worker_batches_hand_over(w, job_handed_over);
        for (job = w->jobs; job; job = next) {
                next = job->next;
                if (job->state == JOB_WAITING && job_handed_over(job))
                        drop_job(job);
        }
        return (size_t)(w->stats.abandoned - before);
}

static size_t revoked_in_progress(const cxw_worker_t *w)
{
        size_t n = 0;

        /* Held jobs (exactly-once) wait for the ones before them: they are
         * not work in progress, and are dropped after the drain. */
        for (const job_t *job = w->jobs; job; job = job->next)
                if (job->part->revoking && !job->held)
                        n++;
        return n;
}

void worker_rewind(cxw_worker_t *w)
{
        size_t dropped;

        /* A new generation: the jobs of the aborted transaction, in flight
         * or not, are stale and write nothing (records.c). */
        for (part_t *p = w->parts; p; p = p->next) {
                if (!p->assigned)
                        continue;
                p->gen++;
                p->revoking = 1;
        }
        dropped = worker_hand_over_waiting(w);
        for (part_t *p = w->parts; p; p = p->next) {
                if (!p->assigned)
                        continue;
                p->revoking = 0;
                worker_drop_held(w, p);
                cxw_offsets_drop(w->offsets, p->topic, p->partition);
        }
        if (cxw_kafka_rewind(w->kafka) == -1)
                w->fatal = 1; /* the aborted work would never be done again */
        CXW_INFO("worker", "rewound after an abort (%zu waiting requests dropped)",
                 dropped);
        worker_check_backpressure(w);
}

void worker_on_revoked(void *opaque, const rd_kafka_topic_partition_list_t *parts)
{
        cxw_worker_t *w = opaque;
        int64_t deadline = cxw_now_ms() + REVOKE_DRAIN_MS;
        size_t left;

        for (int i = 0; i < parts->cnt; i++) {
                part_t *p =
                    worker_part_get(w, parts->elems[i].topic, parts->elems[i].partition);
                if (p)
                        p->revoking = 1;
        }
        /* Work not started yet goes back to Kafka: the next owner of the
         * partition consumes it from the committed offset. */
        worker_hand_over_waiting(w);

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
                worker_hand_over_waiting(w); /* a retry would outlive the partition */
                worker_contacts_pump(w);     /* the partitions kept go on */
                worker_sched_pump(w);
        }
        w->in_rebalance = 0;
        left = revoked_in_progress(w);
        if (left > 0 && !w->closing) /* at close, the drain deadline said it already */
                CXW_WARN(
                    "worker",
                    "%zu calls of revoked partitions still in flight: their outcomes "
                    "will be published, their offsets not committed",
                    left);

        if (w->txn && !w->fatal) {
                /* Exactly-once: what is decided but waits for an earlier
                 * request goes back to Kafka with the partition; what was
                 * released commits now, with the offsets of the revoked
                 * partitions, before they go. */
                for (int i = 0; i < parts->cnt; i++) {
                        part_t *p = worker_part_get(w, parts->elems[i].topic,
                                                    parts->elems[i].partition);
                        if (p)
                                worker_drop_held(w, p);
                }
                if (worker_txn_tick(w, 1) == CXW_TXN_ABORTED)
                        worker_rewind(w);
        }
        for (int i = 0; i < parts->cnt; i++) {
                part_t *p =
                    worker_part_get(w, parts->elems[i].topic, parts->elems[i].partition);
                if (!p)
                        continue;
                p->revoking = 0;
                p->assigned = 0;
                cxw_offsets_drop(w->offsets, p->topic, p->partition);
                if (w->txn)
                        cxw_txn_forget(w->txn, p->topic, p->partition);
        }
        worker_share_update(w);
        worker_check_backpressure(w);
}

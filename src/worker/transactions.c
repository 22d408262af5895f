/* transactions.c: exactly-once (kafka.exactly_once): the replica's Kafka
 * transaction, scheduled by flow/txn.c on the producer of io/kafka_txn.c.
 * records.c puts the records of released requests and their offsets into
 * the open transaction; here it commits every kafka.transaction_interval_ms
 * or kafka.transaction_max_records records, or at once before partitions
 * go (consume.c) and at the stop (run.c). A due commit first drains: the
 * loop goes on while librdkafka delivers the transaction's records, and
 * what finishes meanwhile waits for the next one, so that the commit itself
 * does not hold the loop for the records' acknowledgements. */
#include "worker_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/flow/txn.h"
#include "cxone/io/kafka.h"
#include "cxone/io/loop.h"

static cxw_txn_step_t step_of(cxw_kafka_txn_step_t s)
{
        switch (s) {
        case CXW_KAFKA_TXN_OK:
                return CXW_TXN_STEP_OK;
        case CXW_KAFKA_TXN_RETRY:
                return CXW_TXN_STEP_RETRY;
        case CXW_KAFKA_TXN_ABORT:
                return CXW_TXN_STEP_ABORT;
        default:
                return CXW_TXN_STEP_FATAL;
        }
}

static cxw_txn_step_t p_begin(void *opaque)
{
        cxw_worker_t *w = opaque;

        return step_of(cxw_kafka_txn_begin(w->kafka));
}

static cxw_txn_step_t p_commit(void *opaque, const cxw_txn_offset_t *offs, size_t n)
{
        cxw_worker_t *w = opaque;
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(n > 0 ? (int)n : 1);
        cxw_txn_step_t r;

        for (size_t i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(l, offs[i].topic, offs[i].partition)
                    ->offset = offs[i].offset;
        r = step_of(cxw_kafka_txn_commit(w->kafka, l));
        rd_kafka_topic_partition_list_destroy(l);
        return r;
}

static cxw_txn_step_t p_abort(void *opaque)
{
        cxw_worker_t *w = opaque;

        return step_of(cxw_kafka_txn_abort(w->kafka));
}

static size_t p_unacked(void *opaque)
{
        cxw_worker_t *w = opaque;

        return cxw_kafka_txn_unacked(w->kafka);
}

int worker_txn_start(cxw_worker_t *w, char *errstr, size_t errstr_size)
{
        cxw_txn_conf_t conf;
        cxw_txn_producer_t prod = {p_begin, p_commit, p_abort, w, p_unacked};

        if (!cxw_kafka_transactional(w->kafka))
                return 0;
        conf.interval_ms = w->cfg->kafka_txn_interval_ms;
        conf.max_records = w->cfg->kafka_txn_max_records;
        w->txn = cxw_txn_new(&conf, &prod);
        if (!w->txn) {
                snprintf(errstr, errstr_size, "exactly-once: out of memory");
                return -1;
        }
        CXW_INFO("worker",
                 "exactly-once: a transaction every %d ms or %d records; readers of the "
                 "results need isolation.level=read_committed",
                 w->cfg->kafka_txn_interval_ms, w->cfg->kafka_txn_max_records);
        return 0;
}

static void txn_timer_cb(cxw_loop_t *loop, cxw_timer_t *t, void *opaque)
{
        cxw_worker_t *w = opaque;

        (void)loop;
        (void)t;
        /* The round that follows this timer ticks (run.c): nothing here,
         * the timer only wakes the loop in time. */
        (void)w;
}

cxw_txn_result_t worker_txn_tick(cxw_worker_t *w, int force)
{
        cxw_txn_result_t r;
        int64_t now, due, wall;
        size_t records;
        int acts;

        if (!w->txn)
                return CXW_TXN_IDLE;
        if (force) {
                /* A forced commit does not drain: what waited for the
                 * drain to end goes into it. */
                cxw_txn_undrain(w->txn);
                worker_release_pending(w);
        }
        now = cxw_now_ms();
        wall = cxw_wall_ms();
        records = cxw_txn_records(w->txn);
        /* worker_txn_blocked() walks every job: only when the tick acts,
         * and not while a drain waits for acknowledgements anyway (a tick
         * that cannot commit yet; the loop's rounds are many then). */
        acts = force ||
               (cxw_txn_due(w->txn, now) &&
                (cxw_txn_accepting(w->txn) || cxw_kafka_txn_unacked(w->kafka) == 0));
        r = cxw_txn_tick(w->txn, now, force, acts ? worker_txn_blocked(w) : 0);
        switch (r) {
        case CXW_TXN_COMMITTED:
                w->stats.txn_committed++;
                /* When its records became visible to read_committed readers:
                 * tests/bench/eos.sh matches each record's timestamp (every
                 * record produced before the commit began is in it) to the
                 * commit's end. */
                CXW_DEBUG("worker",
                          "transaction committed: %zu records, commit began %lld, ended "
                          "%lld (ms since the epoch)",
                          records, (long long)wall, (long long)cxw_wall_ms());
                /* What finished while it drained opens the next one. */
                worker_release_pending(w);
                break;
        case CXW_TXN_ABORTED:
                w->stats.txn_aborted++;
                CXW_WARN("worker", "transaction aborted: its requests are done again "
                                   "from the committed offsets");
                break;
        case CXW_TXN_FATAL:
                if (!w->fatal)
                        CXW_ERROR("worker",
                                  "exactly-once: the producer can write no more (fenced "
                                  "by a newer replica with worker.id '%s'?); exiting "
                                  "without writing anything else",
                                  w->cfg->worker_id);
                w->fatal = 1;
                break;
        default:
                break;
        }
        due = cxw_txn_due_at(w->txn);
        if (due != INT64_MAX && !w->fatal)
                cxw_timer_start(w->loop, &w->txn_timer, due, txn_timer_cb, w);
        return r;
}

/* kafka_txn.c: the transactions of the replica's producer
 * (kafka.exactly_once, kafka.h): begin, commit with the consumer's offsets,
 * abort, and the rewind of the consumer after an abort.
 *
 * librdkafka's init, send-offsets, commit and abort block until the
 * transaction coordinator answers (commit also until every record of the
 * transaction is acknowledged). They run on the loop thread, each bounded
 * by TXN_TIMEOUT_MS: the worker commits every kafka.transaction_interval_ms
 * once cxw_kafka_txn_unacked() is 0 (then a round trip or two to the
 * coordinator, a few ms on a healthy cluster),
 * and during that time curl's transfers go on in curl's sockets and
 * librdkafka's I/O in its own threads; only the loop's reaction to them
 * waits. A coordinator that does not answer within the bound makes the
 * step retriable (tried again at the next tick) or abortable. */
#include "kafka_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <stdio.h>

#define TXN_TIMEOUT_MS  10000 /* each blocking step at most */
#define INIT_TIMEOUT_MS 30000 /* at start: the coordinator may still be electing */

/* What error means for the transaction, logged with step; freed. */
static cxw_kafka_txn_step_t classify(rd_kafka_error_t *error, const char *step)
{
        cxw_kafka_txn_step_t r;

        if (!error)
                return CXW_KAFKA_TXN_OK;
        if (rd_kafka_error_is_fatal(error)) {
                r = CXW_KAFKA_TXN_FATAL;
                CXW_ERROR("kafka",
                          "transaction %s: fatal: %s: %s (a replica with the same "
                          "worker.id has taken over, or the producer is unusable); "
                          "nothing more is written",
                          step, rd_kafka_error_name(error), rd_kafka_error_string(error));
        } else if (rd_kafka_error_txn_requires_abort(error)) {
                r = CXW_KAFKA_TXN_ABORT;
                CXW_WARN("kafka", "transaction %s: %s: %s; aborting", step,
                         rd_kafka_error_name(error), rd_kafka_error_string(error));
        } else if (rd_kafka_error_is_retriable(error)) {
                r = CXW_KAFKA_TXN_RETRY;
                CXW_WARN("kafka", "transaction %s: %s: %s; trying again", step,
                         rd_kafka_error_name(error), rd_kafka_error_string(error));
        } else {
                /* Neither fatal, abortable nor retriable (a wrong state):
                 * aborting is what can still keep the guarantee. */
                r = CXW_KAFKA_TXN_ABORT;
                CXW_WARN("kafka", "transaction %s: %s: %s; aborting", step,
                         rd_kafka_error_name(error), rd_kafka_error_string(error));
        }
        rd_kafka_error_destroy(error);
        return r;
}

int kafka_txn_init(cxw_kafka_t *k, char *errstr, size_t errstr_size)
{
        rd_kafka_error_t *error =
            rd_kafka_init_transactions(k->producer, INIT_TIMEOUT_MS);

        if (error) {
                snprintf(errstr, errstr_size, "kafka transactions: %s: %s",
                         rd_kafka_error_name(error), rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                return -1;
        }
        CXW_INFO("kafka", "exactly-once: transactional producer ready");
        return 0;
}

int cxw_kafka_transactional(const cxw_kafka_t *k)
{
        return k->transactional;
}

size_t cxw_kafka_txn_unacked(cxw_kafka_t *k)
{
        /* Records not yet acknowledged, and delivery reports not yet served
         * (cxw_kafka_serve()). */
        return (size_t)rd_kafka_outq_len(k->producer);
}

cxw_kafka_txn_step_t cxw_kafka_txn_begin(cxw_kafka_t *k)
{
        return classify(rd_kafka_begin_transaction(k->producer), "begin");
}

/* The offsets a transaction just committed, committed again through the
 * consumer, synchronously (so that they never overtake a later
 * transaction's). On a broker this writes what the transaction already
 * wrote. librdkafka 2.0.2's mock cluster (dev-kafka) answers a
 * transaction's offsets but never applies them to the group (checked: the
 * group's committed offset stays unset after the commit): without this the
 * next owner of a partition would start again from its beginning. Only
 * ever after a committed transaction, so nothing is committed that a
 * transaction did not commit. They are also stored, as the worker stores
 * offsets without exactly-once, so that a commit the mock refused (while
 * the group rebalances) is made again by the synchronous commits around a
 * revoke (kafka_consumer.c) and at close; a failure is logged at debug. */
static void mirror_offsets(cxw_kafka_t *k, const rd_kafka_topic_partition_list_t *offsets)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(offsets);
        rd_kafka_resp_err_t err;

        for (int i = 0; i < offsets->cnt; i++)
                cxw_kafka_store(k, offsets->elems[i].topic, offsets->elems[i].partition,
                                offsets->elems[i].offset);
        err = rd_kafka_commit(k->consumer, l, 0);

        if (err)
                CXW_DEBUG("kafka", "consumer commit after the transaction: %s",
                          rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
}

cxw_kafka_txn_step_t cxw_kafka_txn_commit(cxw_kafka_t *k,
                                          const rd_kafka_topic_partition_list_t *offsets)
{
        cxw_kafka_txn_step_t r;

        if (offsets && offsets->cnt > 0) {
                rd_kafka_consumer_group_metadata_t *md =
                    rd_kafka_consumer_group_metadata(k->consumer);

                if (!md)
                        return CXW_KAFKA_TXN_ABORT;
                r = classify(rd_kafka_send_offsets_to_transaction(k->producer, offsets,
                                                                  md, TXN_TIMEOUT_MS),
                             "send offsets");
                rd_kafka_consumer_group_metadata_destroy(md);
                if (r != CXW_KAFKA_TXN_OK)
                        return r;
        }
        r = classify(rd_kafka_commit_transaction(k->producer, TXN_TIMEOUT_MS), "commit");
        if (r == CXW_KAFKA_TXN_OK && offsets && offsets->cnt > 0)
                mirror_offsets(k, offsets);
        return r;
}

cxw_kafka_txn_step_t cxw_kafka_txn_abort(cxw_kafka_t *k)
{
        return classify(rd_kafka_abort_transaction(k->producer, TXN_TIMEOUT_MS), "abort");
}

int cxw_kafka_rewind(cxw_kafka_t *k)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t err;
        rd_kafka_error_t *error;
        int rc = -1;

        if (k->assigned->cnt == 0)
                return 0;
        l = rd_kafka_topic_partition_list_copy(k->assigned);
        err = rd_kafka_committed(k->consumer, l, TXN_TIMEOUT_MS);
        if (err) {
                CXW_ERROR("kafka", "rewind: committed offsets: %s",
                          rd_kafka_err2str(err));
                goto out;
        }
        for (int i = 0; i < l->cnt; i++)
                if (l->elems[i].offset < 0) /* none committed: auto.offset.reset */
                        l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        error = rd_kafka_seek_partitions(k->consumer, l, TXN_TIMEOUT_MS);
        if (error) {
                CXW_ERROR("kafka", "rewind: seek: %s", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                goto out;
        }
        for (int i = 0; i < l->cnt; i++)
                if (l->elems[i].err)
                        CXW_WARN("kafka", "rewind: seek %s [%d]: %s", l->elems[i].topic,
                                 (int)l->elems[i].partition,
                                 rd_kafka_err2str(l->elems[i].err));
        CXW_INFO("kafka", "rewound %d partitions to their committed offsets", l->cnt);
        rc = 0;
out:
        rd_kafka_topic_partition_list_destroy(l);
        return rc;
}

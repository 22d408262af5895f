/* kafka_int.h: what the files of the Kafka module share, private to
 * src/lib/io/: the handle's body and the helpers that build a client's
 * configuration. The files:
 *   kafka.c           the handle: both clients made and destroyed together,
 *                     librdkafka's log and error callbacks
 *   kafka_consumer.c  the group consumer: rebalance, offsets, pause, lag
 *   kafka_producer.c  the idempotent producer: records and their deliveries
 *   kafka_reader.c    the group-less reader of the budget topic
 */
#ifndef CXONE_KAFKA_INT_H
#define CXONE_KAFKA_INT_H

#include "cxone/io/kafka.h"

#define MAX_LAGS 1024 /* partitions whose lag is kept from the statistics */
/* "group.instance.id=" and a worker.id (Kafka allows 249 characters) */
#define CXW_INSTANCE_MAX 320

typedef struct lag_s {
        char topic[256];
        int32_t partition;
        int64_t lag;
} lag_t;

struct cxw_kafka_s {
        rd_kafka_t *consumer;
        rd_kafka_t *producer;
        rd_kafka_queue_t *cq; /* the consumer queue (io-event enabled) */
        rd_kafka_queue_t *pq; /* the producer's main queue (io-event enabled) */
        cxw_kafka_hooks_t hooks;
        void *opaque;
        rd_kafka_topic_partition_list_t *assigned;
        /* The last offset stored per partition (cxw_kafka_store()), so that
         * a revoke commits exactly the partitions that go away. */
        rd_kafka_topic_partition_list_t *stored;
        int64_t revoke_commit_failed; /* revoke commits that failed (or were lost) */
        char **topics;
        size_t ntopics;
        int total_partitions;
        int paused;
        int brokers_up; /* from the last statistics; -1 = none yet */
        int all_down;   /* _ALL_BROKERS_DOWN seen and not yet cleared */
        lag_t *lags;
        size_t nlags;
        int untracked; /* records of cxw_kafka_produce_untracked() not yet delivered */
        /* kafka.exactly_once: producer is transactional, and the untracked
         * budget reports go through reports, a plain producer of their own
         * (they are signals, not results: never part of a transaction). */
        int transactional;
        rd_kafka_t *reports;
};

/* kafka.c */

/** librdkafka's log lines into ours, at the matching level. */
void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/** A client's configuration (kafka_conf.c) with client.id
 *  "cxone-worker-<worker.id>-<role>", our log callback and error callback. */
rd_kafka_conf_t *kafka_make_conf(const cxw_config_t *cfg, const char *const *defaults,
                                 cxw_kafka_conf_role_t own, const char *role,
                                 char *errstr, size_t errstr_size);

/* kafka_consumer.c */

/** Creates k->consumer in cfg's group (not yet subscribed) and k->cq.
 *  @returns 0 or -1 with errstr. */
int kafka_consumer_open(cxw_kafka_t *k, const cxw_config_t *cfg, char *errstr,
                        size_t errstr_size);

/** Commits what is stored, leaves the group and destroys the consumer. */
void kafka_consumer_close(cxw_kafka_t *k);

/* kafka_txn.c */

/** Initialises the transactions of k->producer (blocking, bounded).
 *  @returns 0 or -1 with errstr. */
int kafka_txn_init(cxw_kafka_t *k, char *errstr, size_t errstr_size);

/* kafka_producer.c */

/** Creates k->producer and k->pq (and, transactional, k->reports, and
 *  initialises the transactions). @returns 0 or -1 with errstr. */
int kafka_producer_open(cxw_kafka_t *k, const cxw_config_t *cfg, char *errstr,
                        size_t errstr_size);

#endif

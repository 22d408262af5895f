/**
 * @file kafka.h
 * @brief The replica's Kafka clients: a consumer in the group (rebalance,
 *        pause/resume, manual offset store) and an idempotent producer
 *        (acks=all) for results, audit and DLQ records.
 *
 * Offsets: enable.auto.offset.store=false; the worker stores an offset only
 * when every request before it has its outcome acknowledged, and
 * librdkafka's auto-commit commits what was stored. Revoke and close commit
 * synchronously.
 *
 * Both clients signal the loop through its wakeup pipe
 * (rd_kafka_queue_io_event_enable); the loop then calls
 * cxw_kafka_consume() and cxw_kafka_serve().
 *
 * With kafka.exactly_once the producer is transactional (cxw_kafka_txn_*):
 * the worker stores no offsets, it sends them to the transaction; the
 * consumer reads with isolation.level=read_committed and commits nothing
 * itself.
 *
 * The implementation: kafka.c (the handle), kafka_consumer.c,
 * kafka_producer.c, kafka_txn.c, kafka_reader.c (the budget topic's reader).
 *
 * @locality loop thread, except what librdkafka's own threads do inside.
 */
#ifndef CXONE_KAFKA_H
#define CXONE_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "cxone/base/config.h"

typedef struct cxw_kafka_s cxw_kafka_t;

/** What the owner is told; all run on the loop thread. */
typedef struct cxw_kafka_hooks_s {
        /** Partitions were assigned (the list is only valid during the call). */
        void (*assigned)(void *opaque, const rd_kafka_topic_partition_list_t *parts);
        /** Partitions are being revoked: drop their queued work and store
         *  final offsets now; a synchronous commit follows. */
        void (*revoked)(void *opaque, const rd_kafka_topic_partition_list_t *parts);
        /** A produced record was acknowledged or failed (rkm->_private is
         *  the opaque given to cxw_kafka_produce()). */
        void (*delivered)(void *opaque, const rd_kafka_message_t *rkm);
} cxw_kafka_hooks_t;

/**
 * @brief Creates both clients from cfg (kafka.properties then
 *        consumer_/producer_properties, passed to librdkafka unchanged, on
 *        top of our defaults) and subscribes to topics.
 * @param wakeup_fd the loop's wakeup pipe, or -1.
 * @returns NULL with errstr naming the property and the reason on failure.
 */
cxw_kafka_t *cxw_kafka_new(const cxw_config_t *cfg, const char *const *topics,
                           size_t ntopics, const cxw_kafka_hooks_t *hooks, void *opaque,
                           int wakeup_fd, char *errstr, size_t errstr_size);

/** Which client's own property list applies on top of kafka.properties. */
typedef enum {
        CXW_KAFKA_CONF_NONE,     /**< kafka.properties only */
        CXW_KAFKA_CONF_CONSUMER, /**< and kafka.consumer_properties */
        CXW_KAFKA_CONF_PRODUCER, /**< and kafka.producer_properties */
} cxw_kafka_conf_role_t;

/** A librdkafka log callback (rd_kafka_conf_set_log_cb). */
typedef void(cxw_kafka_log_cb_t)(const rd_kafka_t *rk, int level, const char *fac,
                                 const char *buf);

/**
 * @brief A librdkafka configuration from cfg, in this order, a later one
 *        overriding an earlier: bootstrap.servers and client.id, defaults,
 *        kafka.properties, then the role's own list; and log_cb.
 * @param client_id client.id (kafka.properties may override it).
 * @param defaults "name=value" strings ending with NULL, or NULL: the
 *        caller's defaults, which the configuration may override. What the
 *        configuration must not override the caller sets after.
 * @param log_cb librdkafka's log callback, or NULL for librdkafka's own.
 * @returns the conf (the caller owns it; rd_kafka_new() takes it over), or
 *          NULL with errstr naming where the property came from
 *          ("kafka.properties: ...", "built-in default: ...") and the reason.
 */
rd_kafka_conf_t *cxw_kafka_conf_new(const cxw_config_t *cfg, cxw_kafka_conf_role_t role,
                                    const char *client_id, const char *const *defaults,
                                    cxw_kafka_log_cb_t *log_cb, char *errstr,
                                    size_t errstr_size);

/**
 * @brief The part of limits.max_buffered_bytes given to librdkafka's
 *        prefetch (a quarter): queued.max.messages.kbytes and
 *        queued.min.messages are derived from it unless set in
 *        kafka.properties or kafka.consumer_properties. The worker's own
 *        buffered requests get the rest.
 */
int64_t cxw_kafka_prefetch_bytes(const cxw_config_t *cfg);

/**
 * @brief Closes the consumer (committing stored offsets, leaving the group),
 *        flushes the producer for at most flush_ms, destroys both. NULL-safe.
 */
void cxw_kafka_destroy(cxw_kafka_t *k, int flush_ms);

/**
 * @brief The next consumed message, or NULL when none is ready now. Serves
 *        rebalances (hooks run inside). Errors are logged, not returned.
 * @remark the caller owns the message: rd_kafka_message_destroy().
 */
rd_kafka_message_t *cxw_kafka_consume(cxw_kafka_t *k);

/** @brief Serves the producer's delivery reports (hooks run inside). */
void cxw_kafka_serve(cxw_kafka_t *k);

/**
 * @brief Produces a copy of key and value to topic with headers.
 * @param headers owned by the record on success (set your pointer to
 *        NULL), still yours on failure. May be NULL.
 * @returns RD_KAFKA_RESP_ERR_NO_ERROR or the error (e.g. __QUEUE_FULL).
 */
rd_kafka_resp_err_t cxw_kafka_produce(cxw_kafka_t *k, const char *topic, const void *key,
                                      size_t keylen, const void *value, size_t len,
                                      rd_kafka_headers_t *headers, void *opaque);

/**
 * @brief The largest record the producer takes (its message.max.bytes, as
 *        librdkafka applies it); a larger one fails with
 *        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.
 */
size_t cxw_kafka_max_record_bytes(const cxw_kafka_t *k);

/**
 * @brief 1 if err (from cxw_kafka_produce() or a delivery report) can never
 *        succeed for that record however often it is produced again: too
 *        large, invalid, or an invalid topic; 0 for what may pass later
 *        (queue full, brokers down, timed out, unknown topic, not
 *        authorized yet, ...).
 */
int cxw_kafka_err_permanent(rd_kafka_resp_err_t err);

/** @brief Stores offset (the next to consume) of topic/partition for commit. */
void cxw_kafka_store(cxw_kafka_t *k, const char *topic, int32_t partition,
                     int64_t offset);

/** @brief Commits stored offsets now, synchronously. */
void cxw_kafka_commit(cxw_kafka_t *k);

/** @brief Pauses (1) or resumes (0) every assigned partition; partitions
 *         assigned later follow the same state. */
void cxw_kafka_set_paused(cxw_kafka_t *k, int paused);

/** @brief 1 if consumption is paused. */
int cxw_kafka_paused(const cxw_kafka_t *k);

/** @brief Synchronous commits on revoke that failed (or could not be made:
 *         assignment lost) since the start; each is also logged. */
int64_t cxw_kafka_revoke_commit_failures(const cxw_kafka_t *k);

/** @brief Partitions assigned now. */
int cxw_kafka_assigned_cnt(const cxw_kafka_t *k);

/**
 * @brief Total partitions of the subscribed topics (from metadata; cached,
 *        refreshed on each rebalance). 0 if unknown.
 */
int cxw_kafka_total_partitions(const cxw_kafka_t *k);

/**
 * @brief 1 unless Kafka looks unreachable: librdkafka reported all brokers
 *        down and neither a message, a delivery nor the statistics since
 *        showed one up.
 */
int cxw_kafka_reachable(const cxw_kafka_t *k);

/**
 * @brief Calls cb for each partition being fetched with its consumer lag
 *        (high watermark - position) from the last statistics (every
 *        statistics.interval.ms, default here 5 s).
 */
void cxw_kafka_foreach_lag(const cxw_kafka_t *k,
                           void (*cb)(void *opaque, const char *topic, int32_t partition,
                                      int64_t lag),
                           void *opaque);

/**
 * @brief Produces a copy of key and value to topic without headers, for a
 *        record whose delivery nobody waits for (the budget reports): no
 *        hook runs for it, and at most 16 are queued at once.
 * @returns RD_KAFKA_RESP_ERR_NO_ERROR, __QUEUE_FULL beyond the bound, or the
 *          error of librdkafka.
 */
rd_kafka_resp_err_t cxw_kafka_produce_untracked(cxw_kafka_t *k, const char *topic,
                                                const void *key, size_t keylen,
                                                const void *value, size_t len);

/**
 * A reader of every partition of one topic from its end, in no consumer
 * group (librdkafka's simple consumer), committing nothing: how a replica
 * hears the budget reports of the others.
 */
typedef struct cxw_kafka_reader_s cxw_kafka_reader_t;

/**
 * @brief Creates the reader of topic (kafka.properties apply; the group
 *        consumer's properties do not). Reading starts with
 *        cxw_kafka_reader_start().
 * @param wakeup_fd the loop's wakeup pipe, written when messages arrive, or -1.
 * @returns NULL with errstr on failure.
 * @remark free with cxw_kafka_reader_destroy().
 */
cxw_kafka_reader_t *cxw_kafka_reader_new(const cxw_config_t *cfg, const char *topic,
                                         int wakeup_fd, char *errstr, size_t errstr_size);

/** @brief Stops reading and frees the reader. NULL-safe. */
void cxw_kafka_reader_destroy(cxw_kafka_reader_t *r);

/**
 * @brief Looks the topic up (blocking up to timeout_ms) and starts reading
 *        each of its partitions at the end. Does nothing once started.
 * @returns 1 when reading, 0 if the topic is unknown or unreachable now.
 */
int cxw_kafka_reader_start(cxw_kafka_reader_t *r, int timeout_ms);

/**
 * @brief Calls cb for each message value that has arrived, at most 256 a
 *        call (then cxw_kafka_reader_more() is 1); errors are logged at
 *        debug level. Also serves the reader's error and log callbacks.
 */
void cxw_kafka_reader_poll(cxw_kafka_reader_t *r,
                           void (*cb)(void *opaque, const void *value, size_t len),
                           void *opaque);

/** @brief 1 if the last cxw_kafka_reader_poll() left messages behind. */
int cxw_kafka_reader_more(const cxw_kafka_reader_t *r);

/** @brief The fatal error of the idempotent producer, if any (else 0), text in errstr. */
rd_kafka_resp_err_t cxw_kafka_fatal(cxw_kafka_t *k, char *errstr, size_t errstr_size);

/** What a step of a transaction came to (kafka.exactly_once). */
typedef enum {
        CXW_KAFKA_TXN_OK = 0,
        CXW_KAFKA_TXN_RETRY, /**< retriable (timed out, ...): the same step later */
        CXW_KAFKA_TXN_ABORT, /**< the transaction must be aborted */
        CXW_KAFKA_TXN_FATAL, /**< fenced or unusable: write nothing more */
} cxw_kafka_txn_step_t;

/** @brief 1 when the producer is transactional (kafka.exactly_once). */
int cxw_kafka_transactional(const cxw_kafka_t *k);

/**
 * @brief How many records of the transactional producer are not yet
 *        acknowledged (or their delivery reports not yet served): a commit
 *        now would wait for them.
 */
size_t cxw_kafka_txn_unacked(cxw_kafka_t *k);

/**
 * @brief Begins a transaction; records produced from now on belong to it.
 * @returns its outcome (logged when not OK).
 */
cxw_kafka_txn_step_t cxw_kafka_txn_begin(cxw_kafka_t *k);

/**
 * @brief Adds offsets (the next offset to consume of each partition, may be
 *        NULL or empty) to the open transaction with the consumer's group
 *        metadata, then commits it. Blocks until the coordinator answers
 *        (bounded: 10 s each step).
 * @returns its outcome (logged when not OK).
 */
cxw_kafka_txn_step_t cxw_kafka_txn_commit(cxw_kafka_t *k,
                                          const rd_kafka_topic_partition_list_t *offsets);

/** @brief Aborts the open transaction (blocking, bounded). @returns its outcome. */
cxw_kafka_txn_step_t cxw_kafka_txn_abort(cxw_kafka_t *k);

/**
 * @brief After an abort: moves every assigned partition's position back to
 *        its committed offset (blocking, bounded), so what the aborted
 *        transaction held is consumed again.
 * @returns 0, or -1 (logged).
 */
int cxw_kafka_rewind(cxw_kafka_t *k);

#endif

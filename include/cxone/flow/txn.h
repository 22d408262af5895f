/**
 * @file txn.h
 * @brief When the replica's Kafka transaction commits, and what to do when
 *        it cannot (kafka.exactly_once): a pure scheduler, the producer and
 *        the clock given by the caller.
 *
 * The records of finished requests go into the open transaction together
 * with the offsets that cover them (cxw_txn_add_records(),
 * cxw_txn_set_offset()). cxw_txn_tick() commits it once it has been open
 * for interval_ms or holds max_records records, or at once when forced (a
 * revoke, the stop).
 *
 * A due commit first drains, when the producer can say how many of its
 * records are not acknowledged yet (unacked): while some are, the
 * transaction takes nothing new (cxw_txn_accepting() is 0: the caller
 * keeps the records of requests finished meanwhile for the next one) and
 * the tick returns at once; once none is, the commit is a round trip to the
 * coordinator instead of a wait for every record on the caller's thread.
 * A forced commit does not drain. The producer's answers decide what
 * follows:
 *
 * - committed: a new transaction opens with the next record;
 * - retriable (e.g. timed out): the same commit is tried at the next tick;
 * - abortable: the transaction is aborted and the tick answers
 *   CXW_TXN_ABORTED: the caller rewinds its consumer to the committed
 *   offsets and does that work again;
 * - fatal (fenced by a newer producer of the same transactional.id): the
 *   scheduler stays CXW_TXN_FATAL and refuses everything after.
 *
 * @locality one thread (the loop's).
 */
#ifndef CXONE_TXN_H
#define CXONE_TXN_H

#include <stddef.h>
#include <stdint.h>

/** What the producer answered to one step of a transaction. */
typedef enum {
        CXW_TXN_STEP_OK = 0,
        CXW_TXN_STEP_RETRY, /**< retriable: try the same step again later */
        CXW_TXN_STEP_ABORT, /**< the transaction must be aborted */
        CXW_TXN_STEP_FATAL, /**< the producer is unusable (fenced, ...) */
} cxw_txn_step_t;

/** One partition's offset to commit (the next offset to consume). */
typedef struct cxw_txn_offset_s {
        const char *topic;
        int32_t partition;
        int64_t offset;
} cxw_txn_offset_t;

/** The transactional producer, as the scheduler drives it. */
typedef struct cxw_txn_producer_s {
        /** Begins a transaction. */
        cxw_txn_step_t (*begin)(void *opaque);
        /** Adds offs (n of them, may be 0) to the transaction for the
         *  consumer group, then commits it. */
        cxw_txn_step_t (*commit)(void *opaque, const cxw_txn_offset_t *offs, size_t n);
        /** Aborts the transaction. */
        cxw_txn_step_t (*abort)(void *opaque);
        void *opaque;
        /** Optional: how many records of the transaction are not yet
         *  acknowledged (NULL: a due commit does not drain first). */
        size_t (*unacked)(void *opaque);
} cxw_txn_producer_t;

/** The scheduler's configuration. */
typedef struct cxw_txn_conf_s {
        int64_t interval_ms; /**< commit once open this long (> 0) */
        int64_t max_records; /**< or once holding this many records (> 0) */
} cxw_txn_conf_t;

/** What cxw_txn_tick() did. */
typedef enum {
        CXW_TXN_IDLE = 0,  /**< nothing (none open, or not due, or retry later) */
        CXW_TXN_COMMITTED, /**< the open transaction committed */
        CXW_TXN_ABORTED,   /**< aborted: rewind to the committed offsets, redo */
        CXW_TXN_FATAL,     /**< the producer is unusable: stop, write nothing */
} cxw_txn_result_t;

typedef struct cxw_txn_s cxw_txn_t;

/**
 * @brief A scheduler driving prod (copied).
 * @returns NULL when out of memory or conf is out of range.
 * @remark free with cxw_txn_destroy().
 */
cxw_txn_t *cxw_txn_new(const cxw_txn_conf_t *conf, const cxw_txn_producer_t *prod);

/** @brief NULL-safe. */
void cxw_txn_destroy(cxw_txn_t *t);

/**
 * @brief Makes sure a transaction is open before records are produced
 *        (begins one if none is). now: the caller's clock, in ms.
 * @returns 0 when one is open, -1 when none could be begun now (retriable:
 *          try later; or the scheduler is fatal or must abort first).
 */
int cxw_txn_open(cxw_txn_t *t, int64_t now);

/** @brief n records were produced into the open transaction. */
void cxw_txn_add_records(cxw_txn_t *t, size_t n);

/**
 * @brief The open transaction commits offset for topic/partition (a later,
 *        larger one replaces it). @returns 0, or -1 out of memory (the
 *        scheduler then aborts at the next tick: nothing is lost).
 */
int cxw_txn_set_offset(cxw_txn_t *t, const char *topic, int32_t partition,
                       int64_t offset);

/**
 * @brief A record of the open transaction failed: it must be aborted (at
 *        the next tick).
 */
void cxw_txn_fail(cxw_txn_t *t);

/**
 * @brief Commits the open transaction if due (or force), or aborts it if it
 *        failed.
 * @param blocked 1 while records of the transaction's requests wait to be
 *        queued: a commit now would leave them out, so it waits; a forced
 *        one aborts instead.
 * @returns what it did.
 */
cxw_txn_result_t cxw_txn_tick(cxw_txn_t *t, int64_t now, int force, int blocked);

/**
 * @brief 1 if cxw_txn_tick(t, now, 0, ...) would act now (an open
 *        transaction that is due or failed), so that the caller computes
 *        its blocked argument only then.
 */
int cxw_txn_due(const cxw_txn_t *t, int64_t now);

/**
 * @brief Forgets the offset of topic/partition in the open transaction (the
 *        partition went without it being committed).
 */
void cxw_txn_forget(cxw_txn_t *t, const char *topic, int32_t partition);

/**
 * @brief When the open transaction is due (its opening + interval_ms; while
 *        it drains, the next look at its records), or INT64_MAX if none is
 *        open.
 */
int64_t cxw_txn_due_at(const cxw_txn_t *t);

/**
 * @brief 0 while a due commit drains: records and offsets given now would
 *        go into a transaction that is waiting to commit, so the caller
 *        keeps them for the next one; 1 otherwise.
 */
int cxw_txn_accepting(const cxw_txn_t *t);

/**
 * @brief Ends a drain without committing (the caller forces the commit
 *        next, or the transaction goes): the transaction accepts again.
 */
void cxw_txn_undrain(cxw_txn_t *t);

/** @brief 1 while a transaction is open. */
int cxw_txn_is_open(const cxw_txn_t *t);

/** @brief 1 once the producer answered a fatal error. */
int cxw_txn_is_fatal(const cxw_txn_t *t);

/** @brief Records in the open transaction. */
size_t cxw_txn_records(const cxw_txn_t *t);

/** @brief Transactions committed, aborted since the start. */
uint64_t cxw_txn_committed(const cxw_txn_t *t);
uint64_t cxw_txn_aborted(const cxw_txn_t *t);

#endif

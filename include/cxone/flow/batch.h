/**
 * @file batch.h
 * @brief The batch builder: ready updates gathered into one request of up to
 *        batch_max entries, at most one entry per key, with a linger that
 *        applies only while the rate budget is the bottleneck.
 *
 * No I/O, no clock of its own (every call takes the monotonic time in ms),
 * no globals: the worker's glue drives it.
 *
 * **Where it sits.** On top of the dispatcher (dispatch.h), which already
 * keeps one item in progress per key. The worker is meant to use the two
 * like this:
 *
 *  1. A decoded update is pushed to the dispatcher under its contactId.
 *  2. While cxw_batcher_room() > 0, the worker pops ready items from the
 *     dispatcher and adds each to the batcher (cxw_batcher_add()). A popped
 *     item's key is in progress in the dispatcher, so no second update of
 *     that contact can reach the batcher until the first is finished.
 *  3. When cxw_batcher_due() says a batch should leave, the worker asks its
 *     gate (token, breaker, budget) for a request slot, and calls
 *     cxw_batcher_take() with the answer: with a slot it gets the batch's
 *     handles; without one the batcher learns that the budget is the
 *     bottleneck. A loop timer at cxw_batcher_due_at() wakes it for the
 *     linger.
 *  4. The batch's life (bisection, retries) is bisect.h's; when an entry
 *     reaches its final verdict the worker publishes its outcome and calls
 *     cxw_dispatch_release() for its key, which makes the contact's next
 *     update ready: that update goes in a later batch, so per-key order
 *     holds across batches.
 *
 * The batcher itself also never puts two entries of one key in a batch (a
 * second one added by mistake waits, in order, for a later batch), so it is
 * safe on its own; but order *across* in-flight batches is the
 * dispatcher's: step 4.
 *
 * **The adaptive rule.** A target t in [1, batch_max] starts at 1.
 *  - A batch is *due* when entries are pending and linger_ms is 0, or at
 *    least t entries are pending, or the oldest pending entry was added
 *    linger_ms or more ago.
 *  - A due batch leaves with every pending entry it can hold (up to
 *    batch_max, one per key, oldest first), not just t: t is the fill a
 *    batch waits for (at most linger_ms), never a cap.
 *  - Grow: when a batch is due and the caller has no request slot
 *    (cxw_batcher_take() with slot_available = 0, or cxw_batcher_blocked()),
 *    the budget is the bottleneck: t doubles (capped at batch_max), once per
 *    batch sent (repeated reports before the next send do not compound).
 *  - Shrink: when a batch leaves and no such report came since the previous
 *    batch left, the budget was not the bottleneck: t halves (floor 1).
 *
 * So at low load t stays 1, every entry is due as soon as it is added, and a
 * slot is there: each update goes at once, alone, with no added latency.
 * Under a scarce budget t doubles per request up to batch_max, so each
 * allowed request carries up to batch_max updates; when the load falls,
 * batches that leave on the linger with a slot at hand halve t back to 1
 * within log2(batch_max) batches.
 *
 * @locality one thread (the event loop); not shared between threads.
 */
#ifndef CXONE_BATCH_H
#define CXONE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define CXW_BATCH_MAX_DEFAULT       50
#define CXW_BATCH_LINGER_MS_DEFAULT 20
#define CXW_BATCH_MAX_LIMIT         1000   /**< largest batch_max accepted */
#define CXW_BATCH_LINGER_MS_LIMIT   10000  /**< longest linger accepted */
#define CXW_BATCH_CAPACITY_LIMIT    100000 /**< most pending entries accepted */
#define CXW_BATCH_KEY_MAX           256    /**< longest key accepted (bytes) */

typedef struct cxw_batcher_s cxw_batcher_t;

/** What the batcher did so far, for metrics. */
typedef struct cxw_batcher_counts_s {
        uint64_t batches;  /**< batches taken */
        uint64_t entries;  /**< entries in them */
        uint64_t deferred; /**< times an entry waited for a later batch because
                                its key was already in the batch */
        uint64_t grows;    /**< target doublings (budget was the bottleneck) */
        uint64_t shrinks;  /**< target halvings (it was not) */
} cxw_batcher_counts_t;

/**
 * @brief A new batcher.
 * @param batch_max most entries per batch, 1..CXW_BATCH_MAX_LIMIT.
 * @param linger_ms how long a batch waits to fill while the budget is the
 *        bottleneck, 0..CXW_BATCH_LINGER_MS_LIMIT; 0 = send what is ready.
 * @param capacity most entries pending at once, 1..CXW_BATCH_CAPACITY_LIMIT
 *        (the worker's bound on buffered updates).
 * @returns the batcher, or NULL with errstr set (a value out of range, or
 *          out of memory).
 * @remark free with cxw_batcher_destroy().
 */
cxw_batcher_t *cxw_batcher_new(size_t batch_max, int64_t linger_ms, size_t capacity,
                               char *errstr, size_t errstr_size);

/** @brief Frees the batcher (not the handles it holds); NULL-safe. */
void cxw_batcher_destroy(cxw_batcher_t *b);

/**
 * @brief Adds a ready update.
 * @param handle the caller's, opaque, returned by cxw_batcher_take().
 * @param key its key (the contactId), 1..CXW_BATCH_KEY_MAX bytes, copied.
 * @param now monotonic ms; entries are taken oldest first.
 * @returns 0, or -1 when the batcher is full, key is empty or too long, or
 *          out of memory (the handle is then not held).
 */
int cxw_batcher_add(cxw_batcher_t *b, void *handle, const char *key, int64_t now);

/** @brief Entries pending (added, not taken). */
size_t cxw_batcher_pending(const cxw_batcher_t *b);

/** @brief How many more entries cxw_batcher_add() takes now. */
size_t cxw_batcher_room(const cxw_batcher_t *b);

/** @brief 1 when a batch is due at now (the rule in the file comment), else 0. */
int cxw_batcher_due(const cxw_batcher_t *b, int64_t now);

/**
 * @brief When the pending entries become due by the linger: the oldest
 *        entry's add time + linger_ms (in the past or now when a batch is
 *        already due); INT64_MAX when nothing is pending. For a loop timer.
 */
int64_t cxw_batcher_due_at(const cxw_batcher_t *b);

/**
 * @brief The caller found a batch due and no request slot: the budget is
 *        the bottleneck (grows the target, once per batch sent). Does
 *        nothing when no batch is due at now.
 */
void cxw_batcher_blocked(cxw_batcher_t *b, int64_t now);

/**
 * @brief Takes the due batch.
 * @param slot_available 1 when a request may go now (the caller holds the
 *        slot), 0 when the budget said wait (then this is
 *        cxw_batcher_blocked() and nothing is taken).
 * @param out receives the handles in batch order (oldest first, one per
 *        key); cap its room. At most min(cap, batch_max) are taken.
 * @returns the number of handles taken, 0 when no batch is due, no slot was
 *          available, or cap is 0. Handles taken are the caller's again.
 */
size_t cxw_batcher_take(cxw_batcher_t *b, int64_t now, int slot_available, void **out,
                        size_t cap);

/** @brief The current target fill t (1..batch_max). */
size_t cxw_batcher_target(const cxw_batcher_t *b);

/** @brief The counters since creation. */
const cxw_batcher_counts_t *cxw_batcher_counts(const cxw_batcher_t *b);

/**
 * @brief Removes every pending entry for which pred returns non-zero,
 *        calling removed(handle, opaque) on each, oldest first. Used on
 *        partition revoke. removed() must not call back into b.
 */
void cxw_batcher_remove_if(cxw_batcher_t *b, int (*pred)(void *handle, void *opaque),
                           void (*removed)(void *handle, void *opaque), void *opaque);

#endif

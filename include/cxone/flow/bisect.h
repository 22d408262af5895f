/**
 * @file bisect.h
 * @brief One batch's life: its requests, the bisection of a batch CXone
 *        refused, retries of the whole, and a per-entry result from the
 *        history of its calls.
 *
 * A batch of n entries (indices 0..n-1, in the order batch.h took them) is
 * sent as segments, contiguous ranges [lo, hi) of it; the first segment is
 * the whole batch. The answer to a segment's request decides:
 *
 *  - 2xx: its entries succeeded.
 *  - An entry-level 4xx (400, 409, 413, 422: something in the body) on two
 *    or more entries: the segment is split in halves [lo, mid) and
 *    [mid, hi), mid = lo + (hi - lo) / 2, and each half is sent on its own.
 *    Halves without a bad entry succeed; halves with one split again until
 *    each bad entry stands alone, and then its 4xx rejects it with CXone's
 *    answer.
 *  - Any other non-retryable status (a 404 for an unknown address book, a
 *    403, ...) is about the request, not an entry: the whole segment is
 *    rejected at once, without splitting.
 *  - 429, 5xx, 408, no answer, 401: the same segment goes again, whole. The
 *    caller applies its policy (the budget's pause on 429, backoff, the
 *    token once on 401, the retry budget) and then says when
 *    (cxw_bisect_retry_at()) or ends it (cxw_bisect_end()).
 *
 * **Cost bound.** With k of the n entries bad (each rejected alone), the
 * segments sent form a binary tree over [0, n) in which only segments
 * holding a bad entry have children; there are at most k of those per level
 * and ceil(log2 n) levels above the single entries, so the requests the
 * split halves add (counts.bisect_requests) are at most
 * 2 k ceil(log2 n), and 2n - 2 when every entry is bad. Retries
 * (counts.retries) come on top, bounded by the caller's retry budget and
 * by max_sends per segment.
 *
 * Segments are independent (all entries have distinct keys), so after a
 * split both halves may be in flight at once; cxw_bisect_next() hands them
 * out oldest first.
 *
 * @locality one thread; no I/O, the time is passed in (monotonic ms).
 */
#ifndef CXONE_BISECT_H
#define CXONE_BISECT_H

#include <stddef.h>
#include <stdint.h>

#define CXW_BISECT_ERROR_MAX 300    /**< longest error text kept per call (bytes) */
#define CXW_BISECT_SENDS_MAX 1000   /**< largest max_sends accepted */
#define CXW_BISECT_N_MAX     100000 /**< most entries in one batch state */

/** What became of one call (one request of a segment). */
typedef enum {
        CXW_BATCH_CALL_IN_FLIGHT = 0, /**< sent, not answered yet */
        CXW_BATCH_CALL_OK,            /**< 2xx: its entries succeeded */
        CXW_BATCH_CALL_SPLIT,         /**< entry-level 4xx: its halves go on */
        CXW_BATCH_CALL_RETRY,         /**< retryable: the same entries go again */
        CXW_BATCH_CALL_REJECTED,      /**< final 4xx: its entries are rejected */
        CXW_BATCH_CALL_FAILED,        /**< the retry budget ran out */
} cxw_batch_verdict_t;

/** One request of the batch, as the history records it. */
typedef struct cxw_batch_call_s {
        uint32_t lo, hi;    /**< entries [lo, hi) of the batch */
        uint32_t seg;       /**< the segment it was sent for */
        int64_t sent_ms;    /**< when cxw_bisect_next() handed it out */
        int64_t decided_ms; /**< when its verdict was set (answer or end) */
        long http_status;   /**< 0 = no HTTP answer */
        cxw_batch_verdict_t verdict;
        char *error; /**< REJECTED/FAILED: the outcome's error text (malloc'd,
                          at most CXW_BISECT_ERROR_MAX bytes), else NULL */
} cxw_batch_call_t;

/** Counters of one batch, for metrics (add them up across batches). */
typedef struct cxw_bisect_counts_s {
        uint64_t requests;        /**< requests sent, all kinds */
        uint64_t bisect_requests; /**< first sends of split halves: the extra
                                       requests due to bisection */
        uint64_t retries; /**< sends of a segment again after a retryable answer */
        uint64_t splits;  /**< segments split */
        uint64_t succeeded, rejected, failed; /**< entries decided so */
} cxw_bisect_counts_t;

typedef struct cxw_bisect_s cxw_bisect_t;

/**
 * @brief The state of a new batch of n entries, nothing sent yet.
 * @param n 1..CXW_BISECT_N_MAX (batch.h caps batches far lower).
 * @param max_sends most requests per segment (first send and retries),
 *        1..CXW_BISECT_SENDS_MAX: a safety bound under the caller's own retry
 *        budget; a retryable answer to the last allowed send fails the
 *        segment's entries.
 * @returns NULL on a bad argument or out of memory.
 * @remark free with cxw_bisect_destroy().
 */
cxw_bisect_t *cxw_bisect_new(size_t n, int max_sends);

/** @brief Frees the state and its history; NULL-safe. */
void cxw_bisect_destroy(cxw_bisect_t *b);

/**
 * @brief The next request to send: the oldest segment that is ready at now
 *        (new, or waiting for a retry time that has come), now in flight.
 * @param lo, hi set to the entries [lo, hi) the request carries.
 * @returns its call id (>= 0), for cxw_bisect_answer(); -1 when none is
 *          ready (see cxw_bisect_next_ms()), or when the history cannot
 *          grow (out of memory; room for 2n - 1 calls is taken at creation,
 *          so only retries can meet this): nothing changed, try later.
 */
int cxw_bisect_next(cxw_bisect_t *b, int64_t now, size_t *lo, size_t *hi);

/**
 * @brief Records the answer to call (see the file comment for the rules).
 * @param http_status the HTTP status; ignored when transport_error is set.
 * @param transport_error non-zero when no HTTP answer came (timeout, reset).
 * @param error a short description of the answer (CXone's message, or the
 *        transport error), or NULL; kept, bounded, in a REJECTED or FAILED
 *        call's error text.
 * @returns the call's verdict: OK, SPLIT, REJECTED, FAILED (max_sends
 *          reached), or RETRY, after which the caller must call
 *          cxw_bisect_retry_at() or cxw_bisect_end() for this call; -1 when
 *          call is not in flight.
 */
int cxw_bisect_answer(cxw_bisect_t *b, int call, int64_t now, long http_status,
                      int transport_error, const char *error);

/**
 * @brief After a RETRY verdict: the segment may go again at at_ms.
 * @returns 0, or -1 when call is not the segment's RETRY awaiting a decision.
 */
int cxw_bisect_retry_at(cxw_bisect_t *b, int call, int64_t at_ms);

/**
 * @brief After a RETRY verdict: the caller's retry budget is spent (or its
 *        policy says reject, as for a second 401): the segment's entries
 *        get verdict (CXW_BATCH_CALL_FAILED or CXW_BATCH_CALL_REJECTED) and
 *        error why (bounded copy; NULL = none).
 * @returns 0, or -1 when call is not the segment's RETRY awaiting a
 *          decision or verdict is neither FAILED nor REJECTED.
 */
int cxw_bisect_end(cxw_bisect_t *b, int call, int64_t now, cxw_batch_verdict_t verdict,
                   const char *why);

/** @brief 1 when every entry has a final verdict (OK, REJECTED, FAILED). */
int cxw_bisect_finished(const cxw_bisect_t *b);

/** @brief Calls in flight now. */
size_t cxw_bisect_in_flight(const cxw_bisect_t *b);

/**
 * @brief The earliest time a segment may be sent (now or in the past when
 *        one is ready); INT64_MAX when none is ready or waiting (all in
 *        flight, awaiting the caller's retry decision, or done).
 */
int64_t cxw_bisect_next_ms(const cxw_bisect_t *b);

/**
 * @brief The segment's sends so far (first send and retries), e.g. for the
 *        caller's backoff; -1 for an unknown call.
 */
int cxw_bisect_sends(const cxw_bisect_t *b, int call);

/** @brief The history: every call in the order sent. @returns the array
 *         (owned by b, valid until the next call into b), *ncalls set. */
const cxw_batch_call_t *cxw_bisect_calls(const cxw_bisect_t *b, size_t *ncalls);

/** @brief The batch's counters. */
const cxw_bisect_counts_t *cxw_bisect_counts(const cxw_bisect_t *b);

/** @brief "in_flight", "ok", "split", "retry", "rejected", "failed". */
const char *cxw_batch_verdict_str(cxw_batch_verdict_t v);

/** @brief 1 for OK, REJECTED, FAILED (an entry's last word). */
int cxw_batch_verdict_final(cxw_batch_verdict_t v);

/** One entry's result, read from the history. */
typedef struct cxw_batch_result_s {
        cxw_batch_verdict_t verdict; /**< of the last call that carried the
                                          entry; final or not (see above);
                                          IN_FLIGHT too when never sent */
        long http_status;            /**< that call's; 0 = no HTTP answer */
        int attempts;                /**< calls that carried the entry */
        int64_t finished_ms;         /**< that call's decided_ms when final, else 0 */
        int64_t latency_ms; /**< finished_ms - consumed_ms[i] when final, else 0 */
        const char *error;  /**< that call's error (points into the
                                 history), NULL when none */
} cxw_batch_result_t;

/**
 * @brief Per-entry results of a batch of n entries from its call history:
 *        for entry i, attempts = the calls whose [lo, hi) holds i, and the
 *        verdict, HTTP status, error and finish time of the last of them.
 * @param consumed_ms when each entry was consumed (n of them), for
 *        latency_ms; NULL leaves latency_ms 0.
 * @param out n results.
 * @returns how many entries have a final verdict (n when the batch is done).
 */
size_t cxw_batch_results(const cxw_batch_call_t *calls, size_t ncalls, size_t n,
                         const int64_t *consumed_ms, cxw_batch_result_t *out);

#endif

/**
 * @file breaker.h
 * @brief The outage breaker: when CXone answers nothing but 5xx or network
 *        errors, the replica stops spending its requests' retry budgets on
 *        an outage and probes with one call at a time until CXone is back.
 *
 * Closed (normal): every call may start. After `threshold` server or
 * network failures in a row with no success between them, it opens: one
 * probe call at a time may start, the first after probe_min_ms, each
 * further one after twice the last wait, up to probe_max_ms. A success
 * closes it. Calls that fail while it is open are outage casualties: the
 * caller retries them without counting the failure against them.
 *
 * A pure state machine with the clock passed in; @locality loop thread.
 */
#ifndef CXONE_BREAKER_H
#define CXONE_BREAKER_H

#include <stdint.h>

typedef struct cxw_breaker_s {
        int threshold;        /**< failures in a row that open it; 0 = never */
        int64_t probe_min_ms; /**< first probe's wait */
        int64_t probe_max_ms; /**< longest wait between probes */
        int failures;         /**< in a row, since the last success */
        int open;
        int probing;        /**< a probe call is under way */
        int64_t wait_ms;    /**< the current wait between probes */
        int64_t next_probe; /**< when the next probe may start */
        int64_t opened_at;
        uint64_t opened; /**< times it opened */
} cxw_breaker_t;

/** @brief Sets up a closed breaker. threshold 0 turns it off. */
void cxw_breaker_init(cxw_breaker_t *b, int threshold, int64_t probe_min_ms,
                      int64_t probe_max_ms);

/**
 * @brief May a call start now? Closed: always. Open: when no probe is under
 *        way and its wait is over; the call is then the probe.
 * @returns 0 when it may start (and, open, counts it as the probe), else the
 *          ms to wait before asking again (>= 1).
 */
int64_t cxw_breaker_allow(cxw_breaker_t *b, int64_t now_ms);

/** @brief CXone answered (anything but a 5xx or no answer): closes it.
 *  @returns 1 if that closed an open breaker. */
int cxw_breaker_on_success(cxw_breaker_t *b);

/**
 * @brief A call failed with a 5xx or a network error.
 * @param probe 1 when the call was started as the probe: it was allowed
 *        while the breaker was open (cxw_breaker_is_open() at its start).
 * @returns 1 when the breaker is open after it (the failure belongs to the
 *          outage: do not count it against the request).
 */
int cxw_breaker_on_failure(cxw_breaker_t *b, int64_t now_ms, int probe);

/** @brief 1 while open. */
static inline int cxw_breaker_is_open(const cxw_breaker_t *b)
{
        return b->open;
}

#endif

/**
 * @file bucket.h
 * @brief A token bucket: tokens accrue at a rate up to a depth, and each
 *        request takes one. The budget keeps one per endpoint class and one
 *        for the total (budget.h).
 *
 * A pure state machine with the clock passed in (monotonic ms); the struct
 * is embedded by its owner. @locality the owner's thread (the loop thread).
 */
#ifndef CXONE_BUCKET_H
#define CXONE_BUCKET_H

#include <stdint.h>

typedef struct cxw_bucket_s {
        double rate;     /**< tokens per second; 0 = unlimited */
        double depth;    /**< capacity in tokens */
        double tokens;   /**< current level, <= depth */
        int64_t last_ms; /**< the time tokens was counted up to */
} cxw_bucket_t;

/** @brief An empty, unlimited bucket counting from now_ms. */
void cxw_bucket_init(cxw_bucket_t *k, int64_t now_ms);

/**
 * @brief Sets rate and depth (both >= 0); tokens above the new depth are
 *        dropped. Refill to now at the old rate first.
 */
void cxw_bucket_set(cxw_bucket_t *k, double rate, double depth);

/**
 * @brief Adds the tokens accrued from last_ms to now_ms, up to the depth.
 *        A time at or before last_ms changes nothing.
 */
void cxw_bucket_refill(cxw_bucket_t *k, int64_t now_ms);

/**
 * @returns 1 if a limited bucket is full (within rounding), else 0. Refill
 *          to now first.
 */
int cxw_bucket_full(const cxw_bucket_t *k);

/**
 * @returns the ms until the bucket holds one token: 0 if it does now (or is
 *          unlimited), else >= 1 and at most an hour. Refill to now first.
 */
int64_t cxw_bucket_wait(const cxw_bucket_t *k);

/**
 * @brief Takes one token (the caller saw cxw_bucket_wait() answer 0). An
 *        unlimited bucket is left as it is.
 */
void cxw_bucket_take(cxw_bucket_t *k);

/** @brief Sets the level to n tokens (n >= 0), at most the depth. */
void cxw_bucket_set_tokens(cxw_bucket_t *k, double n);

/** @brief Keeps at most n tokens (a lower level is left as it is). */
void cxw_bucket_cap(cxw_bucket_t *k, double n);

/**
 * @brief Empties the bucket, its tokens accruing again only from at_ms
 *        (which may be in the future).
 */
void cxw_bucket_empty_until(cxw_bucket_t *k, int64_t at_ms);

#endif

/**
 * @file retry.h
 * @brief What to do with an HTTP answer: classify it, parse Retry-After,
 *        compute exponential backoff with full jitter.
 */
#ifndef CXONE_RETRY_H
#define CXONE_RETRY_H

#include <stdint.h>

typedef enum {
        CXW_RESULT_OK = 0,       /**< 2xx */
        CXW_RESULT_RATE_LIMITED, /**< 429: retry after Retry-After or backoff */
        CXW_RESULT_SERVER,       /**< 5xx or 408: retry with backoff */
        CXW_RESULT_NETWORK,      /**< no answer: connect error, reset, timeout */
        CXW_RESULT_UNAUTHORIZED, /**< 401: drop the token, fetch again once */
        CXW_RESULT_FINAL,        /**< any other status: not retryable (rejected) */
} cxw_result_class_t;

/**
 * @brief Classifies a finished transfer.
 * @param transport_error non-zero when the transfer got no HTTP answer
 *        (a CURLcode other than CURLE_OK); http_status is then ignored.
 */
cxw_result_class_t cxw_result_classify(long http_status, int transport_error);

/** @brief "ok", "rate_limited", "server_error", "network", "unauthorized", "final". */
const char *cxw_result_class_str(cxw_result_class_t c);

/**
 * @brief Parses a Retry-After value: delta-seconds ("120") or an HTTP-date
 *        (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; also the obsolete
 *        RFC 850 and asctime forms). Leading/trailing blanks are ignored.
 * @param now_wall_ms the current wall clock, to turn a date into a delay.
 * @returns the delay in ms (a date in the past gives 0), capped at
 *          max_ms, or -1 when value is NULL, empty or not parseable.
 */
int64_t cxw_retry_after_ms(const char *value, int64_t now_wall_ms, int64_t max_ms);

/**
 * @brief Exponential backoff with full jitter: a uniform random delay in
 *        [0, min(cap_ms, base_ms * 2^(attempt-1))], attempt >= 1.
 *        Never overflows for large attempt numbers.
 * @param rng xorshift state (cxw_rand64), updated.
 */
int64_t cxw_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng);

#endif

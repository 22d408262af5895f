/**
 * @file budget.h
 * @brief The rate budget: token buckets per endpoint class under a total
 *        ceiling, this replica's share of the group-wide rate, and AIMD on
 *        429 (a Retry-After pauses the whole class).
 *
 * The configured rates are for the whole consumer group. Each replica takes
 * share = its assigned partitions / all partitions of the subscribed topics
 * (cxw_budget_set_share(), called on every rebalance), so N replicas
 * together stay within the configured rate.
 *
 * A pure state machine with the clock passed in; @locality loop thread.
 */
#ifndef CXONE_BUDGET_H
#define CXONE_BUDGET_H

#include <stdint.h>

typedef enum {
        CXW_CLASS_CONTACTS = 0, /**< contact updates */
        CXW_CLASS_SCHEDULES,    /**< schedule import submissions */
        CXW_CLASS_POLLS,        /**< async job polls */
        CXW_CLASS__CNT
} cxw_budget_class_t;

typedef struct cxw_budget_conf_s {
        double total_rps;           /**< ceiling for all classes; 0 = none */
        int total_burst;            /**< bucket depth of the total */
        double rps[CXW_CLASS__CNT]; /**< per class; 0 = up to the total */
        int burst[CXW_CLASS__CNT];  /**< per class; 0 = total_burst */
} cxw_budget_conf_t;

typedef struct cxw_budget_s cxw_budget_t;

/** @remark free with cxw_budget_destroy(). share starts at 1.0. */
cxw_budget_t *cxw_budget_new(const cxw_budget_conf_t *conf, int64_t now_ms);

/** @brief NULL-safe. */
void cxw_budget_destroy(cxw_budget_t *b);

/**
 * @brief Sets this replica's share (0 < share <= 1; 0 means no partitions:
 *        nothing is taken). Rates and bursts scale by it (a burst never
 *        below 1 while share > 0). Tokens already in a bucket are capped at
 *        its new depth.
 */
void cxw_budget_set_share(cxw_budget_t *b, double share, int64_t now_ms);

/**
 * @brief Takes one request's token of class c (and of the total) if both
 *        buckets hold one and the class is not paused.
 * @returns 0 when taken, else the ms to wait before trying again (>= 1).
 */
int64_t cxw_budget_take(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms);

/**
 * @brief CXone answered 429 to a request of class c sent at sent_ms: pause
 *        the class for retry_after_ms (or, when < 0, for one token
 *        interval, at least 100 ms) and cut its rate multiplicatively — the
 *        "MD" of AIMD.
 *
 * The first 429 of a request sent after the last pause is a trip: the
 * rate is cut x0.7 at once. When the pause ends, a replica holding the
 * whole budget (share 1) measures what the server accepted from it in the
 * up to 4 s before that request (since it became busy or resumed, if
 * later): (accepted - burst) / window is a lower bound of the server's
 * rate, and the cut becomes that x0.99, within 0.3-0.95 x the rate that
 * tripped. 429s of requests sent before the pause ended only extend it.
 * The bucket resumes empty. A pause already promised is never shortened.
 */
void cxw_budget_on_429(cxw_budget_t *b, cxw_budget_class_t c, int64_t retry_after_ms,
                       int64_t sent_ms, int64_t now_ms);

/**
 * @brief A request of class c sent at sent_ms succeeded. After a measured
 *        trip, the rate holds for 10 s (doubling, up to 60 s, while trips
 *        repeat at the same rate), then regrows additively toward the
 *        configured ceiling: +0.5% of the resumed rate per second, the step
 *        doubling every 10 s without a 429, at most +5% of the configured
 *        rate per second. After a blind cut (nothing measured) it regrows
 *        at once by +5% of the configured rate per second.
 */
void cxw_budget_on_success(cxw_budget_t *b, cxw_budget_class_t c, int64_t sent_ms,
                           int64_t now_ms);

/** @brief The current effective rate of class c (after share and AIMD), req/s; 0 =
 * unlimited. */
double cxw_budget_rate(const cxw_budget_t *b, cxw_budget_class_t c);

/** @brief The current share. */
double cxw_budget_share(const cxw_budget_t *b);

/** @brief Until when class c is paused (monotonic ms), or 0 if not paused at now. */
int64_t cxw_budget_paused_until(const cxw_budget_t *b, cxw_budget_class_t c,
                                int64_t now_ms);

/** @brief "contacts", "schedules", "polls". */
const char *cxw_budget_class_str(cxw_budget_class_t c);

#endif

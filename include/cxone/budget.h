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
 * @brief CXone answered 429 to class c: pause the class for retry_after_ms
 *        (or, when < 0, for one token interval), and cut the class's rate
 *        multiplicatively (x0.7, at most once per second, floor 1% of
 *        configured) — the "MD" of AIMD.
 */
void cxw_budget_on_429(cxw_budget_t *b, cxw_budget_class_t c, int64_t retry_after_ms,
                       int64_t now_ms);

/**
 * @brief A request of class c succeeded: regrow the rate additively toward
 *        the configured ceiling (+5% of configured per second of success).
 */
void cxw_budget_on_success(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms);

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

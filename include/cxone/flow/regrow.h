/**
 * @file regrow.h
 * @brief After a 429 trip, how a class's rate comes back: it holds the rate
 *        the trip left for a while, then grows it additively step by step
 *        toward the ceiling (the "AI" of the budget's AIMD, budget.h).
 *
 * It says when and by how much the rate grows; the owner (budget.c) keeps
 * the rate itself. A pure state machine with the clock passed in
 * (monotonic ms); the struct is embedded by its owner. @locality the
 * owner's thread (the loop thread).
 */
#ifndef CXONE_REGROW_H
#define CXONE_REGROW_H

#include <stdint.h>

typedef struct cxw_regrow_s {
        int64_t hold_ms;      /**< the hold set after the last trip */
        int64_t prev_hold_ms; /**< the hold before the trip in progress */
        int64_t grow_from;    /**< no step before this; INT64_MAX in a trip */
        int64_t last_ms;      /**< the last step (or grow_from) */
        double step;          /**< first step, req/s per s; 0 = the largest */
} cxw_regrow_t;

/**
 * @brief Before any trip: no hold, steps allowed from now_ms, each the
 *        largest.
 */
void cxw_regrow_init(cxw_regrow_t *g, int64_t now_ms);

/**
 * @brief A trip began: no step until cxw_regrow_hold() sets a new start.
 */
void cxw_regrow_stop(cxw_regrow_t *g);

/**
 * @brief A trip was measured (or measured again with more counts): sets
 *        the hold and the first step.
 * @param measured whether the trip gave an estimate; without one there is
 *        no hold and every step is the largest.
 * @param same whether the trip came at the rate of the one before: the
 *        hold before it doubles.
 * @param pause_ms the trip's pause; the hold is 20 of them, at least 10 s,
 *        at most 3 x that and at least 60 s when doubled.
 * @param rate the rate resumed at, req/s: the first step is 0.5 % of it
 *        per second.
 * @param from_ms when the trip's pause ended: the hold runs from then.
 */
void cxw_regrow_hold(cxw_regrow_t *g, int measured, int same, int64_t pause_ms,
                     double rate, int64_t from_ms);

/**
 * @brief Whether the rate grows at now_ms (called for each success). After
 *        the hold, a step is due at most once a second; the step doubles
 *        every 10 s since the hold ended, up to 5 % of the ceiling per
 *        second. Time spent at the ceiling is not credited later.
 * @param at_ceiling the rate is at the ceiling already.
 * @param ceiling the highest rate, req/s.
 * @param add receives the increase, req/s (the step x the time since the
 *        last one), when a step is due.
 * @returns 1 if the rate grows by *add now, else 0.
 */
int cxw_regrow_due(cxw_regrow_t *g, int at_ceiling, double ceiling, int64_t now_ms,
                   double *add);

#endif

/* regrow.c: the hold after a 429 trip and the additive regrowth after it
 * (a pure state machine). */
#include "cxone/flow/regrow.h"

/* The hold: HOLD_PAUSES pauses, at least HOLD_MS. A probe that trips costs
 * a whole Retry-After of sending nothing, so probing is kept to a few
 * percent of the time whatever the Retry-After. While trips repeat at the
 * same rate the hold doubles, up to 3 x that and at least HOLD_MAX_MS. */
#define HOLD_MS     10000
#define HOLD_MAX_MS 60000
#define HOLD_PAUSES 20
/* The regrowth: first AI_SLOW of the resumed rate per second, the step
 * doubling every AI_ACCEL_MS, at most AI_PER_SEC of the ceiling per
 * second, in steps of at least AI_INTERVAL_MS (one log line per step). */
#define AI_SLOW        0.005
#define AI_ACCEL_MS    10000
#define AI_PER_SEC     0.05
#define AI_INTERVAL_MS 1000

void cxw_regrow_init(cxw_regrow_t *g, int64_t now_ms)
{
        g->hold_ms = HOLD_MS;
        g->prev_hold_ms = 0;
        g->grow_from = now_ms;
        g->last_ms = now_ms;
        g->step = 0;
}

void cxw_regrow_stop(cxw_regrow_t *g)
{
        g->prev_hold_ms = g->hold_ms;
        g->grow_from = INT64_MAX;
}

void cxw_regrow_hold(cxw_regrow_t *g, int measured, int same, int64_t pause_ms,
                     double rate, int64_t from_ms)
{
        int64_t hold_max = HOLD_PAUSES * pause_ms;

        if (hold_max < HOLD_MS)
                hold_max = HOLD_MS;
        g->hold_ms = same && g->prev_hold_ms > 0 ? g->prev_hold_ms * 2 : hold_max;
        hold_max *= 3;
        if (hold_max < HOLD_MAX_MS)
                hold_max = HOLD_MAX_MS;
        if (g->hold_ms > hold_max)
                g->hold_ms = hold_max;
        g->step = rate * AI_SLOW;
        if (!measured) {
                /* A blind cut (e.g. a stray 429 right after a start): no
                 * reason to hold it; regrow at the largest step. */
                g->hold_ms = 0;
                g->step = 0;
        }
        g->grow_from = from_ms + g->hold_ms;
        g->last_ms = g->grow_from;
}

int cxw_regrow_due(cxw_regrow_t *g, int at_ceiling, double ceiling, int64_t now_ms,
                   double *add)
{
        int64_t elapsed, since;
        double step, max_step;

        if (now_ms < g->grow_from)
                return 0;
        if (at_ceiling) {
                g->last_ms = now_ms;
                return 0;
        }
        elapsed = now_ms - g->last_ms;
        if (elapsed < AI_INTERVAL_MS)
                return 0;
        since = now_ms - g->grow_from;
        max_step = ceiling * AI_PER_SEC;
        step = g->step > 0 ? g->step : max_step;
        for (int64_t k = since / AI_ACCEL_MS; k > 0 && step < max_step; k--)
                step *= 2;
        if (step > max_step)
                step = max_step;
        *add = step * (double)elapsed / 1000.0;
        g->last_ms = now_ms;
        return 1;
}

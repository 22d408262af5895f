/* budget.c: token buckets per endpoint class under a total ceiling, scaled by
 * this replica's share, with AIMD on 429 (a pure state machine). */
#include "cxone/budget.h"
#include "cxone/log.h"

#include <math.h>
#include <stdlib.h>

/* Multiplicative decrease on a 429, at most once per MD_INTERVAL_MS. */
#define MD_FACTOR      0.7
#define MD_INTERVAL_MS 1000
/* The rate never drops below this fraction of the configured one. */
#define AIMD_FLOOR 0.01
/* Additive increase: this fraction of the configured rate per second of
 * success, applied in steps of at least AI_INTERVAL_MS (one log line per
 * step, not one per request). */
#define AI_PER_SEC     0.05
#define AI_INTERVAL_MS 1000
/* A 429 without Retry-After pauses the class one token interval, at least this. */
#define MIN_PAUSE_MS 100
/* A Retry-After is believed up to this long; more is surely a bogus header,
 * and the cap keeps now + pause far from overflow. */
#define MAX_PAUSE_MS ((int64_t)3600 * 1000)
/* Slack for floating-point rounding in token counts: without it, 0.1 token
 * added ten times could fall short of 1 and cost a needless extra ms. */
#define EPS 1e-6
/* What take() answers while the share is 0 (no partitions, nothing to do). */
#define NO_SHARE_WAIT_MS 1000

typedef struct bucket_s {
        double rate;   /**< tokens per second; 0 = unlimited */
        double depth;  /**< capacity in tokens */
        double tokens; /**< current level, <= depth */
        int64_t last_ms;
} bucket_t;

typedef struct class_state_s {
        bucket_t b;
        double configured; /**< group-wide class rate, before share and AIMD; 0 =
                              unlimited */
        double burst;      /**< group-wide bucket depth, before share */
        double aimd;       /**< AIMD factor in [AIMD_FLOOR, 1] */
        int64_t paused_until;
        int64_t last_decrease_ms;
        int decreased_once;
        int64_t last_increase_ms;
} class_state_t;

struct cxw_budget_s {
        double share;
        double total_rps; /**< group-wide; 0 = unlimited */
        double total_burst;
        bucket_t total;
        class_state_t cls[CXW_CLASS__CNT];
};

static const char *const class_names[CXW_CLASS__CNT] = {"contacts", "schedules", "polls"};

const char *cxw_budget_class_str(cxw_budget_class_t c)
{
        if ((unsigned)c >= CXW_CLASS__CNT)
                return "unknown";
        return class_names[c];
}

static double nonneg(double v)
{
        return isfinite(v) && v > 0 ? v : 0;
}

static void refill(bucket_t *k, int64_t now_ms)
{
        if (now_ms <= k->last_ms)
                return;
        if (k->rate > 0) {
                k->tokens += k->rate * (double)(now_ms - k->last_ms) / 1000.0;
                if (k->tokens > k->depth)
                        k->tokens = k->depth;
        }
        k->last_ms = now_ms;
}

/* Depth for a group-wide burst at a share: never below 1 while share > 0. */
static double scaled_depth(double burst, double share)
{
        double d = burst * share;

        if (share <= 0)
                return 0;
        return d < 1 ? 1 : d;
}

/* Recomputes rates and depths from the configuration, share and AIMD
 * factors. The buckets must have been refilled to now at the old rates. */
static void apply(cxw_budget_t *b)
{
        b->total.rate = b->total_rps * b->share;
        b->total.depth = scaled_depth(b->total_burst, b->share);
        if (b->total.tokens > b->total.depth)
                b->total.tokens = b->total.depth;
        for (int c = 0; c < CXW_CLASS__CNT; c++) {
                class_state_t *s = &b->cls[c];
                s->b.rate = s->configured * b->share * s->aimd;
                s->b.depth = scaled_depth(s->burst, b->share);
                if (s->b.tokens > s->b.depth)
                        s->b.tokens = s->b.depth;
        }
}

cxw_budget_t *cxw_budget_new(const cxw_budget_conf_t *conf, int64_t now_ms)
{
        cxw_budget_t *b;

        if (!conf)
                return NULL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->share = 1.0;
        b->total_rps = nonneg(conf->total_rps);
        b->total_burst = conf->total_burst > 0 ? conf->total_burst : 0;
        b->total.last_ms = now_ms;
        for (int c = 0; c < CXW_CLASS__CNT; c++) {
                class_state_t *s = &b->cls[c];
                double rps = nonneg(conf->rps[c]);

                if (rps == 0 || (b->total_rps > 0 && b->total_rps < rps))
                        rps = b->total_rps;
                s->configured = rps;
                s->burst = conf->burst[c] > 0 ? conf->burst[c] : b->total_burst;
                s->aimd = 1.0;
                s->b.last_ms = now_ms;
                s->last_increase_ms = now_ms;
        }
        apply(b);
        b->total.tokens = b->total.depth;
        for (int c = 0; c < CXW_CLASS__CNT; c++)
                b->cls[c].b.tokens = b->cls[c].b.depth;
        return b;
}

void cxw_budget_destroy(cxw_budget_t *b)
{
        free(b);
}

static void refill_all(cxw_budget_t *b, int64_t now_ms)
{
        refill(&b->total, now_ms);
        for (int c = 0; c < CXW_CLASS__CNT; c++)
                refill(&b->cls[c].b, now_ms);
}

void cxw_budget_set_share(cxw_budget_t *b, double share, int64_t now_ms)
{
        double old;

        if (!b)
                return;
        if (!isfinite(share) || share < 0)
                share = 0;
        if (share > 1)
                share = 1;
        if (share == b->share)
                return;
        refill_all(b, now_ms);
        old = b->share;
        b->share = share;
        apply(b);
        CXW_INFO("budget",
                 "share %.4f -> %.4f: total rate %.2f/s, contacts %.2f/s, schedules "
                 "%.2f/s, polls %.2f/s",
                 old, share, b->total.rate, b->cls[CXW_CLASS_CONTACTS].b.rate,
                 b->cls[CXW_CLASS_SCHEDULES].b.rate, b->cls[CXW_CLASS_POLLS].b.rate);
}

/* ms until bucket k holds one token (0 if it does now); k refilled to now. */
static int64_t wait_for_token(const bucket_t *k)
{
        double ms;

        if (k->rate <= 0 || k->tokens >= 1 - EPS)
                return 0;
        ms = ceil((1 - k->tokens) * 1000.0 / k->rate - EPS);
        if (ms < 1)
                return 1;
        if (ms > (double)MAX_PAUSE_MS)
                return MAX_PAUSE_MS;
        return (int64_t)ms;
}

int64_t cxw_budget_take(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s;
        int64_t wc, wt;

        if (!b || (unsigned)c >= CXW_CLASS__CNT || b->share <= 0)
                return NO_SHARE_WAIT_MS;
        s = &b->cls[c];
        if (now_ms < s->paused_until)
                return s->paused_until - now_ms;
        refill(&s->b, now_ms);
        refill(&b->total, now_ms);
        wc = wait_for_token(&s->b);
        wt = wait_for_token(&b->total);
        if (wc > 0 || wt > 0)
                return wc > wt ? wc : wt;
        if (s->b.rate > 0)
                s->b.tokens -= 1;
        if (b->total.rate > 0)
                b->total.tokens -= 1;
        return 0;
}

void cxw_budget_on_429(cxw_budget_t *b, cxw_budget_class_t c, int64_t retry_after_ms,
                       int64_t now_ms)
{
        class_state_t *s;
        int64_t pause, until, old_until;
        double old_rate;

        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return;
        s = &b->cls[c];
        refill(&s->b, now_ms);
        old_rate = s->b.rate;

        if (retry_after_ms >= 0) {
                pause = retry_after_ms;
        } else {
                pause = old_rate > 0 ? (int64_t)ceil(1000.0 / old_rate) : 0;
                if (pause < MIN_PAUSE_MS)
                        pause = MIN_PAUSE_MS;
        }
        if (pause > MAX_PAUSE_MS)
                pause = MAX_PAUSE_MS;
        old_until = s->paused_until;
        until = now_ms + pause;
        /* A later 429 never shortens a pause already promised. */
        if (until > s->paused_until)
                s->paused_until = until;

        /* The requests already in flight when the first 429 came answer 429
         * too: cut once per interval, not once per answer. */
        if (s->configured > 0 &&
            (!s->decreased_once || now_ms - s->last_decrease_ms >= MD_INTERVAL_MS)) {
                s->aimd *= MD_FACTOR;
                if (s->aimd < AIMD_FLOOR)
                        s->aimd = AIMD_FLOOR;
                s->decreased_once = 1;
                s->last_decrease_ms = now_ms;
                s->last_increase_ms = now_ms;
                s->b.rate = s->configured * b->share * s->aimd;
        }
        /* Resume with an empty bucket: tokens that accrued during the pause
         * would go out as one burst the moment it ends and trip the limit
         * again. refill() counts from last_ms, so start it at the pause end. */
        s->b.tokens = 0;
        s->b.last_ms = s->paused_until;

        /* Log when a pause starts or the rate changes, not for every 429 of
         * the requests that were already in flight. */
        if (old_until > now_ms && s->b.rate == old_rate)
                return;
        CXW_INFO("budget",
                 "class %s answered 429: paused for %lld ms (until %lld), rate %.2f/s -> "
                 "%.2f/s, share %.4f",
                 class_names[c], (long long)(s->paused_until - now_ms),
                 (long long)s->paused_until, old_rate, s->b.rate, b->share);
}

void cxw_budget_on_success(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s;
        int64_t elapsed;
        double old_rate;

        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return;
        s = &b->cls[c];
        if (s->configured <= 0)
                return;
        if (s->aimd >= 1.0) {
                /* At the ceiling: time spent here is not credited later. */
                s->last_increase_ms = now_ms;
                return;
        }
        elapsed = now_ms - s->last_increase_ms;
        if (elapsed < AI_INTERVAL_MS)
                return;
        refill(&s->b, now_ms);
        old_rate = s->b.rate;
        s->aimd += AI_PER_SEC * (double)elapsed / 1000.0;
        if (s->aimd > 1.0 - EPS)
                s->aimd = 1.0;
        s->last_increase_ms = now_ms;
        s->b.rate = s->configured * b->share * s->aimd;
        CXW_INFO("budget", "class %s rate %.2f/s -> %.2f/s, share %.4f", class_names[c],
                 old_rate, s->b.rate, b->share);
}

double cxw_budget_rate(const cxw_budget_t *b, cxw_budget_class_t c)
{
        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return 0;
        return b->cls[c].b.rate;
}

double cxw_budget_share(const cxw_budget_t *b)
{
        return b ? b->share : 0;
}

int64_t cxw_budget_paused_until(const cxw_budget_t *b, cxw_budget_class_t c,
                                int64_t now_ms)
{
        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return 0;
        return b->cls[c].paused_until > now_ms ? b->cls[c].paused_until : 0;
}

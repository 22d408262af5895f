/* budget.c: token buckets per endpoint class under a total ceiling, scaled by
 * this replica's share, with AIMD on 429 (a pure state machine). */
#include "cxone/budget.h"
#include "cxone/log.h"

#include <math.h>
#include <stdlib.h>

/* What a 429 does to the rate of its class (docs/architecture.md, "Rate
 * budget"). The class pauses for the Retry-After and its rate is cut at once
 * by MD_FACTOR. The answers to what was sent before the first rejected
 * request keep coming in during the pause (a 429 comes back faster than a
 * success); when the pause ends, they show how fast the server accepted:
 * over the EST_WINDOW_MS before that request (or since this class became
 * busy or resumed, if later), the server can have accepted at most its
 * burst plus its rate x the window, so (accepted - burst) / window is a
 * lower bound of its rate for us (the burst taken as configured, x share).
 * The cut is then replaced by that x EST_MARGIN, kept within
 * [EST_MIN_CUT, EST_MAX_CUT] x the rate that tripped. A window shorter than
 * EST_MIN_WINDOW_MS, or nothing above the burst, leaves the plain cut. */
#define MD_FACTOR         0.7
#define EST_MARGIN        0.99
#define EST_MIN_CUT       0.3
#define EST_MAX_CUT       0.95
#define EST_WINDOW_MS     4000
#define EST_MIN_WINDOW_MS 50
/* Accepted answers by send time, in slots of ACC_SLOT_MS: the window above
 * must fit (ACC_SLOTS x ACC_SLOT_MS > EST_WINDOW_MS + a pause's answers). */
#define ACC_SLOTS   1024
#define ACC_SLOT_MS 10
/* Two trips at rates within EST_SAME of each other are the same limit: the
 * estimates are averaged and the hold doubles. */
#define EST_SAME 0.1
/* After a pause the rate holds for HOLD_MS (doubling up to HOLD_MAX_MS
 * while trips repeat at the same rate), then regrows additively: first
 * AI_SLOW of the resumed rate per second, the step doubling every
 * AI_ACCEL_MS without a 429, at most AI_PER_SEC of the configured rate per
 * second, in steps of at least AI_INTERVAL_MS (one log line per step). */
#define HOLD_MS        10000
#define HOLD_MAX_MS    60000
#define AI_SLOW        0.005
#define AI_ACCEL_MS    10000
#define AI_PER_SEC     0.05
#define AI_INTERVAL_MS 1000
/* The rate never drops below this fraction of the configured one. */
#define AIMD_FLOOR 0.01
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
        int64_t resumed_at; /**< end of the last pause: later sends are news */
        /* The trip being measured (ev_pending until the pause ends). */
        int ev_pending;
        int64_t ev_first_sent;       /**< send time of its first rejected request */
        int64_t ev_from;             /**< start of the window measured */
        double ev_rate;              /**< the rate that tripped */
        int64_t busy_since;          /**< first take after an idle (full) bucket */
        int64_t acc_slot[ACC_SLOTS]; /**< ACC_SLOT_MS slot number held */
        uint32_t acc_cnt[ACC_SLOTS]; /**< accepted answers sent in it */
        double last_trip_rate;       /**< 0 before the first trip */
        double last_estimate;        /**< req/s, 0 if none */
        int64_t hold_ms;
        int64_t grow_from;        /**< no increase before this */
        int64_t last_increase_ms; /**< last step (or grow_from) */
        double step;              /**< first additive step, req/s per s */
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

/* A replica's bucket holds this fraction of its share of the burst. The
 * server's bucket, full after a quiet spell, stops refilling while our
 * burst is on its way to it; a bucket as deep as the server's would then
 * send its last token before the server has one (a 429 on every idle-to-busy
 * turn). */
#define DEPTH_FACTOR 0.9

/* Depth for a group-wide burst at a share: never below 1 while share > 0. */
static double scaled_depth(double burst, double share)
{
        double d = burst * share * DEPTH_FACTOR;

        if (share <= 0)
                return 0;
        return d < 1 ? 1 : d;
}

/* The class rate for AIMD factor f, in req/s after the share. */
static double class_rate(const cxw_budget_t *b, const class_state_t *s, double f)
{
        return s->configured * b->share * f;
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
                s->b.rate = class_rate(b, s, s->aimd);
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
                s->grow_from = now_ms;
                s->hold_ms = HOLD_MS;
        }
        apply(b);
        /* One token, not a full burst: a replica that starts (or joins)
         * while the server's bucket is already busy with others would
         * otherwise trip it with its first burst, and a bucket running
         * behind the server's by a burst absorbs send-time jitter. */
        b->total.tokens = b->total.depth < 1 ? b->total.depth : 1;
        for (int c = 0; c < CXW_CLASS__CNT; c++)
                b->cls[c].b.tokens = b->cls[c].b.depth < 1 ? b->cls[c].b.depth : 1;
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

/* Sets the AIMD factor of s so that its rate is rps (within the floor and
 * the ceiling); the bucket must be refilled to now at the old rate. */
static void set_rate(const cxw_budget_t *b, class_state_t *s, double rps)
{
        double full = class_rate(b, s, 1.0);
        double f = full > 0 ? rps / full : 1.0;

        if (!isfinite(f) || f < AIMD_FLOOR)
                f = AIMD_FLOOR;
        if (f > 1.0 - EPS)
                f = 1.0;
        s->aimd = f;
        s->b.rate = class_rate(b, s, f);
}

/* The pause of class c is over and every answer of the trip's window has
 * come in: replace the provisional cut by what the server was seen to
 * accept, and start the hold before the rate regrows. */
static void settle(cxw_budget_t *b, cxw_budget_class_t c, int64_t now_ms)
{
        class_state_t *s = &b->cls[c];
        int64_t window = s->ev_first_sent - s->ev_from;
        double rps, est = 0, burst = s->burst * b->share;
        long accepted = 0;
        int same;

        if (!s->ev_pending || now_ms < s->paused_until)
                return;
        s->ev_pending = 0;
        same = s->last_trip_rate > 0 &&
               fabs(s->ev_rate - s->last_trip_rate) <= EST_SAME * s->last_trip_rate;
        for (int64_t k = s->ev_from / ACC_SLOT_MS;
             k <= (s->ev_first_sent - 1) / ACC_SLOT_MS; k++)
                if (s->acc_slot[k % ACC_SLOTS] == k)
                        accepted += s->acc_cnt[k % ACC_SLOTS];
        rps = s->ev_rate * MD_FACTOR;
        /* With a share below 1 other replicas spend the same server
         * bucket at the same time: what this one got through says little
         * about the server's rate (measured: the estimates of two replicas
         * ratcheted each other down), so only a whole-budget replica
         * measures; the others keep the plain AIMD. */
        if (b->share >= 1.0 - EPS && window >= EST_MIN_WINDOW_MS && accepted > burst) {
                est = ((double)accepted - burst) * 1000.0 / (double)window;
                if (same && s->last_estimate > 0)
                        est = (est + s->last_estimate) / 2;
                s->last_estimate = est;
                rps = est * EST_MARGIN;
                if (rps < s->ev_rate * EST_MIN_CUT)
                        rps = s->ev_rate * EST_MIN_CUT;
                if (rps > s->ev_rate * EST_MAX_CUT)
                        rps = s->ev_rate * EST_MAX_CUT;
        }
        s->hold_ms = same && s->hold_ms > 0 ? s->hold_ms * 2 : HOLD_MS;
        if (s->hold_ms > HOLD_MAX_MS)
                s->hold_ms = HOLD_MAX_MS;
        s->last_trip_rate = s->ev_rate;
        refill(&s->b, now_ms);
        set_rate(b, s, rps);
        s->step = s->b.rate * AI_SLOW;
        if (est <= 0) {
                /* Nothing measured (a short window, e.g. a stray 429 right
                 * after a start): no reason to hold a blind cut; regrow at
                 * the full additive step. */
                s->hold_ms = 0;
                s->step = 0;
        }
        s->grow_from = now_ms + s->hold_ms;
        s->last_increase_ms = s->grow_from;
        CXW_INFO("budget",
                 "class %s resumes at %.2f/s (was %.2f/s when the 429 came; %ld accepted "
                 "in the %lld ms before it, burst %.1f%s%.2f/s); holds %lld s",
                 class_names[c], s->b.rate, s->ev_rate, accepted, (long long)window,
                 burst,
                 est > 0 ? ": server rate for us >= " : ", too few to measure; cut to ",
                 est > 0 ? est : rps, (long long)(s->hold_ms / 1000));
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
        settle(b, c, now_ms);
        refill(&s->b, now_ms);
        refill(&b->total, now_ms);
        if (s->b.rate > 0 && s->b.tokens >= s->b.depth - EPS)
                s->busy_since = now_ms; /* the bucket was full: we were idle */
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

/* Counts an accepted answer to a request sent at sent_ms. */
static void count_accepted(class_state_t *s, int64_t sent_ms)
{
        int64_t k = sent_ms / ACC_SLOT_MS;
        size_t i = (size_t)(k % ACC_SLOTS);

        if (sent_ms < 0)
                return;
        if (s->acc_slot[i] != k) {
                s->acc_slot[i] = k;
                s->acc_cnt[i] = 0;
        }
        s->acc_cnt[i]++;
}

void cxw_budget_on_429(cxw_budget_t *b, cxw_budget_class_t c, int64_t retry_after_ms,
                       int64_t sent_ms, int64_t now_ms)
{
        class_state_t *s;
        int64_t pause, until, old_until;
        double old_rate;
        int trip;

        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return;
        s = &b->cls[c];
        if (sent_ms > now_ms)
                sent_ms = now_ms;
        settle(b, c, now_ms);
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

        /* A request sent before the last pause ended belongs to the trip
         * already handled (it was in flight): it can extend the pause but
         * not cut the rate again. A later one is a new trip. */
        trip = sent_ms >= s->resumed_at && !s->ev_pending;
        if (trip && s->configured > 0) {
                s->ev_pending = 1;
                s->ev_first_sent = sent_ms;
                s->ev_from = sent_ms - EST_WINDOW_MS;
                if (s->ev_from < s->busy_since)
                        s->ev_from = s->busy_since;
                if (s->ev_from < s->resumed_at)
                        s->ev_from = s->resumed_at;
                if (s->ev_from > sent_ms)
                        s->ev_from = sent_ms;
                s->ev_rate = old_rate;
                set_rate(b, s, old_rate * MD_FACTOR); /* provisional, see settle() */
                s->grow_from = INT64_MAX;
        }
        s->resumed_at = s->paused_until;
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

void cxw_budget_on_success(cxw_budget_t *b, cxw_budget_class_t c, int64_t sent_ms,
                           int64_t now_ms)
{
        class_state_t *s;
        int64_t elapsed, since;
        double old_rate, step, max_step;

        if (!b || (unsigned)c >= CXW_CLASS__CNT)
                return;
        s = &b->cls[c];
        if (s->configured <= 0)
                return;
        count_accepted(s, sent_ms);
        settle(b, c, now_ms);
        if (s->ev_pending || now_ms < s->grow_from)
                return;
        if (s->aimd >= 1.0) {
                /* At the ceiling: time spent here is not credited later. */
                s->last_increase_ms = now_ms;
                return;
        }
        elapsed = now_ms - s->last_increase_ms;
        if (elapsed < AI_INTERVAL_MS)
                return;
        since = now_ms - s->grow_from;
        max_step = class_rate(b, s, 1.0) * AI_PER_SEC;
        step = s->step > 0 ? s->step : max_step;
        for (int64_t k = since / AI_ACCEL_MS; k > 0 && step < max_step; k--)
                step *= 2;
        if (step > max_step)
                step = max_step;
        refill(&s->b, now_ms);
        old_rate = s->b.rate;
        set_rate(b, s, old_rate + step * (double)elapsed / 1000.0);
        s->last_increase_ms = now_ms;
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

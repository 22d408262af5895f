/* bucket.c: a token bucket (a pure state machine). */
#include "cxone/flow/bucket.h"

#include <math.h>

/* Slack for floating-point rounding in token counts: without it, 0.1 token
 * added ten times could fall short of 1 and cost a needless extra ms. */
#define EPS 1e-6
/* The longest wait answered: it keeps now + wait far from overflow at the
 * tiniest rates. */
#define MAX_WAIT_MS ((int64_t)3600 * 1000)

void cxw_bucket_init(cxw_bucket_t *k, int64_t now_ms)
{
        k->rate = 0;
        k->depth = 0;
        k->tokens = 0;
        k->last_ms = now_ms;
}

void cxw_bucket_set(cxw_bucket_t *k, double rate, double depth)
{
        k->rate = rate;
        k->depth = depth;
        if (k->tokens > k->depth)
                k->tokens = k->depth;
}

void cxw_bucket_refill(cxw_bucket_t *k, int64_t now_ms)
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

int cxw_bucket_full(const cxw_bucket_t *k)
{
        return k->rate > 0 && k->tokens >= k->depth - EPS;
}

int64_t cxw_bucket_wait(const cxw_bucket_t *k)
{
        double ms;

        if (k->rate <= 0 || k->tokens >= 1 - EPS)
                return 0;
        ms = ceil((1 - k->tokens) * 1000.0 / k->rate - EPS);
        if (ms < 1)
                return 1;
        if (ms > (double)MAX_WAIT_MS)
                return MAX_WAIT_MS;
        return (int64_t)ms;
}

void cxw_bucket_take(cxw_bucket_t *k)
{
        if (k->rate > 0)
                k->tokens -= 1;
}

void cxw_bucket_set_tokens(cxw_bucket_t *k, double n)
{
        k->tokens = k->depth < n ? k->depth : n;
}

void cxw_bucket_cap(cxw_bucket_t *k, double n)
{
        if (k->tokens > n)
                k->tokens = n;
}

void cxw_bucket_empty_until(cxw_bucket_t *k, int64_t at_ms)
{
        k->tokens = 0;
        k->last_ms = at_ms;
}

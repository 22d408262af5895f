/* bisect.c: one batch's requests. Segments are nodes of a binary tree over
 * the batch's entries (the root is the whole batch, a split adds its two
 * halves), so there are at most 2n - 1 of them and their array is allocated
 * once. The history of calls grows as requests go, bounded by max_sends per
 * segment. */
#include "cxone/flow/bisect.h"

#include "cxone/flow/retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
        SEG_READY,     /* may go at not_before */
        SEG_IN_FLIGHT, /* its last call is out */
        SEG_HELD,      /* answered RETRY: waits for retry_at or end */
        SEG_DONE,      /* OK, SPLIT, REJECTED or FAILED */
} seg_state_t;

typedef struct seg_s {
        uint32_t lo, hi;
        seg_state_t state;
        int sends;
        int64_t not_before;
        int last_call;
} seg_t;

struct cxw_bisect_s {
        size_t n;
        int max_sends;
        seg_t *segs;
        size_t nsegs, segs_cap; /* segs_cap = 2n - 1 */
        cxw_batch_call_t *calls;
        size_t ncalls, calls_cap;
        size_t in_flight;
        cxw_bisect_counts_t counts;
};

cxw_bisect_t *cxw_bisect_new(size_t n, int max_sends)
{
        cxw_bisect_t *b;

        if (n < 1 || n > CXW_BISECT_N_MAX || max_sends < 1 ||
            max_sends > CXW_BISECT_SENDS_MAX)
                return NULL;
        b = calloc(1, sizeof(*b));
        if (!b)
                return NULL;
        b->segs_cap = 2 * n - 1;
        b->segs = calloc(b->segs_cap, sizeof(*b->segs));
        /* room for every call of a batch without retries: only retries
         * can make next() run out of memory */
        b->calls_cap = b->segs_cap;
        b->calls = malloc(b->calls_cap * sizeof(*b->calls));
        if (!b->segs || !b->calls) {
                free(b->segs);
                free(b->calls);
                free(b);
                return NULL;
        }
        b->n = n;
        b->max_sends = max_sends;
        b->segs[0] =
            (seg_t){.lo = 0, .hi = (uint32_t)n, .state = SEG_READY, .last_call = -1};
        b->nsegs = 1;
        return b;
}

void cxw_bisect_destroy(cxw_bisect_t *b)
{
        if (!b)
                return;
        for (size_t i = 0; i < b->ncalls; i++)
                free(b->calls[i].error);
        free(b->calls);
        free(b->segs);
        free(b);
}

int cxw_bisect_next(cxw_bisect_t *b, int64_t now, size_t *lo, size_t *hi)
{
        cxw_batch_call_t *c;
        seg_t *s = NULL;
        size_t i;

        if (!b)
                return -1;
        for (i = 0; i < b->nsegs; i++) {
                if (b->segs[i].state == SEG_READY && b->segs[i].not_before <= now) {
                        s = &b->segs[i];
                        break;
                }
        }
        if (!s || b->ncalls > (size_t)INT32_MAX - 1)
                return -1;
        if (b->ncalls == b->calls_cap) {
                size_t cap = b->calls_cap ? b->calls_cap * 2 : 4;
                cxw_batch_call_t *v = realloc(b->calls, cap * sizeof(*v));
                if (!v)
                        return -1;
                b->calls = v;
                b->calls_cap = cap;
        }
        c = &b->calls[b->ncalls];
        *c = (cxw_batch_call_t){.lo = s->lo,
                                .hi = s->hi,
                                .seg = (uint32_t)i,
                                .sent_ms = now,
                                .verdict = CXW_BATCH_CALL_IN_FLIGHT};
        s->state = SEG_IN_FLIGHT;
        s->last_call = (int)b->ncalls;
        if (s->sends++ > 0)
                b->counts.retries++;
        else if (i > 0)
                b->counts.bisect_requests++;
        b->counts.requests++;
        b->in_flight++;
        if (lo)
                *lo = s->lo;
        if (hi)
                *hi = s->hi;
        return (int)b->ncalls++;
}

/* A bounded copy of text, or NULL. */
static char *keep(const char *text)
{
        size_t len;
        char *s;

        if (!text)
                return NULL;
        len = strnlen(text, CXW_BISECT_ERROR_MAX);
        s = malloc(len + 1);
        if (s) {
                memcpy(s, text, len);
                s[len] = '\0';
        }
        return s;
}

/* The segment's entries get a final verdict. */
static void decide(cxw_bisect_t *b, seg_t *s, cxw_batch_call_t *c, int64_t now,
                   cxw_batch_verdict_t v, char *error)
{
        uint64_t size = s->hi - s->lo;

        c->verdict = v;
        c->decided_ms = now;
        free(c->error);
        c->error = error;
        s->state = SEG_DONE;
        if (v == CXW_BATCH_CALL_OK)
                b->counts.succeeded += size;
        else if (v == CXW_BATCH_CALL_REJECTED)
                b->counts.rejected += size;
        else
                b->counts.failed += size;
}

/* 4xx answers that name something in the body, so that a smaller batch
 * without the culprit can pass. Others (403, 404 for an unknown book, 405,
 * ...) would refuse any batch. */
static int entry_level(long status)
{
        return status == 400 || status == 409 || status == 413 || status == 422;
}

static seg_t *call_seg(cxw_bisect_t *b, int call, cxw_batch_call_t **c)
{
        seg_t *s;

        if (!b || call < 0 || (size_t)call >= b->ncalls)
                return NULL;
        *c = &b->calls[call];
        s = &b->segs[(*c)->seg];
        if (s->last_call != call)
                return NULL;
        return s;
}

int cxw_bisect_answer(cxw_bisect_t *b, int call, int64_t now, long http_status,
                      int transport_error, const char *error)
{
        cxw_batch_call_t *c = NULL;
        seg_t *s = call_seg(b, call, &c);
        char buf[CXW_BISECT_ERROR_MAX + 1];
        cxw_result_class_t cls;

        if (!s || s->state != SEG_IN_FLIGHT)
                return -1;
        b->in_flight--;
        c->http_status = transport_error ? 0 : http_status;
        cls = cxw_result_classify(http_status, transport_error);
        switch (cls) {
        case CXW_RESULT_OK:
                decide(b, s, c, now, CXW_BATCH_CALL_OK, NULL);
                break;
        case CXW_RESULT_FINAL:
                if (s->hi - s->lo >= 2 && entry_level(http_status) &&
                    b->nsegs + 2 <= b->segs_cap) {
                        uint32_t mid = s->lo + (s->hi - s->lo) / 2;
                        uint32_t lo = s->lo, hi = s->hi;
                        c->verdict = CXW_BATCH_CALL_SPLIT;
                        c->decided_ms = now;
                        s->state = SEG_DONE;
                        b->segs[b->nsegs++] = (seg_t){.lo = lo,
                                                      .hi = mid,
                                                      .state = SEG_READY,
                                                      .not_before = now,
                                                      .last_call = -1};
                        b->segs[b->nsegs++] = (seg_t){.lo = mid,
                                                      .hi = hi,
                                                      .state = SEG_READY,
                                                      .not_before = now,
                                                      .last_call = -1};
                        b->counts.splits++;
                        break;
                }
                snprintf(buf, sizeof(buf), "CXone answered HTTP %ld: %s", http_status,
                         error ? error : "no description");
                decide(b, s, c, now, CXW_BATCH_CALL_REJECTED, keep(buf));
                break;
        default: /* 429, 5xx, 408, no answer, 401 */
                if (s->sends >= b->max_sends) {
                        if (transport_error)
                                snprintf(buf, sizeof(buf),
                                         "gave up after %d requests: %s", s->sends,
                                         error ? error : "no answer");
                        else
                                snprintf(buf, sizeof(buf),
                                         "gave up after %d requests: HTTP %ld: %s",
                                         s->sends, http_status,
                                         error ? error : "no description");
                        decide(b, s, c, now, CXW_BATCH_CALL_FAILED, keep(buf));
                        break;
                }
                c->verdict = CXW_BATCH_CALL_RETRY;
                c->decided_ms = now;
                s->state = SEG_HELD;
                break;
        }
        return (int)c->verdict;
}

int cxw_bisect_retry_at(cxw_bisect_t *b, int call, int64_t at_ms)
{
        cxw_batch_call_t *c = NULL;
        seg_t *s = call_seg(b, call, &c);

        if (!s || s->state != SEG_HELD)
                return -1;
        s->state = SEG_READY;
        s->not_before = at_ms;
        return 0;
}

int cxw_bisect_end(cxw_bisect_t *b, int call, int64_t now, cxw_batch_verdict_t verdict,
                   const char *why)
{
        cxw_batch_call_t *c = NULL;
        seg_t *s = call_seg(b, call, &c);

        if (!s || s->state != SEG_HELD ||
            (verdict != CXW_BATCH_CALL_FAILED && verdict != CXW_BATCH_CALL_REJECTED))
                return -1;
        decide(b, s, c, now, verdict, keep(why));
        return 0;
}

int cxw_bisect_finished(const cxw_bisect_t *b)
{
        return b && b->counts.succeeded + b->counts.rejected + b->counts.failed == b->n;
}

size_t cxw_bisect_in_flight(const cxw_bisect_t *b)
{
        return b ? b->in_flight : 0;
}

int64_t cxw_bisect_next_ms(const cxw_bisect_t *b)
{
        int64_t t = INT64_MAX;

        if (!b)
                return t;
        for (size_t i = 0; i < b->nsegs; i++)
                if (b->segs[i].state == SEG_READY && b->segs[i].not_before < t)
                        t = b->segs[i].not_before;
        return t;
}

int cxw_bisect_sends(const cxw_bisect_t *b, int call)
{
        if (!b || call < 0 || (size_t)call >= b->ncalls)
                return -1;
        return b->segs[b->calls[call].seg].sends;
}

const cxw_batch_call_t *cxw_bisect_calls(const cxw_bisect_t *b, size_t *ncalls)
{
        if (ncalls)
                *ncalls = b ? b->ncalls : 0;
        return b ? b->calls : NULL;
}

const cxw_bisect_counts_t *cxw_bisect_counts(const cxw_bisect_t *b)
{
        return b ? &b->counts : NULL;
}

const char *cxw_batch_verdict_str(cxw_batch_verdict_t v)
{
        switch (v) {
        case CXW_BATCH_CALL_IN_FLIGHT:
                return "in_flight";
        case CXW_BATCH_CALL_OK:
                return "ok";
        case CXW_BATCH_CALL_SPLIT:
                return "split";
        case CXW_BATCH_CALL_RETRY:
                return "retry";
        case CXW_BATCH_CALL_REJECTED:
                return "rejected";
        case CXW_BATCH_CALL_FAILED:
                return "failed";
        }
        return "unknown";
}

int cxw_batch_verdict_final(cxw_batch_verdict_t v)
{
        return v == CXW_BATCH_CALL_OK || v == CXW_BATCH_CALL_REJECTED ||
               v == CXW_BATCH_CALL_FAILED;
}

size_t cxw_batch_results(const cxw_batch_call_t *calls, size_t ncalls, size_t n,
                         const int64_t *consumed_ms, cxw_batch_result_t *out)
{
        size_t final = 0;

        if (!out)
                return 0;
        memset(out, 0, n * sizeof(*out));
        for (size_t k = 0; calls && k < ncalls; k++) {
                const cxw_batch_call_t *c = &calls[k];
                for (size_t i = c->lo; i < c->hi && i < n; i++) {
                        out[i].attempts++;
                        out[i].verdict = c->verdict;
                        out[i].http_status = c->http_status;
                        out[i].error = c->error;
                        out[i].finished_ms = c->decided_ms;
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (!cxw_batch_verdict_final(out[i].verdict)) {
                        out[i].finished_ms = 0;
                        continue;
                }
                final++;
                if (consumed_ms)
                        out[i].latency_ms = out[i].finished_ms - consumed_ms[i];
        }
        return final;
}

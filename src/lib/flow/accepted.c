/* accepted.c: accepted answers by send time, in a ring of 1 ms slots. */
#include "cxone/flow/accepted.h"

#include <string.h>

void cxw_accepted_init(cxw_accepted_t *a)
{
        memset(a, 0, sizeof(*a));
}

void cxw_accepted_add(cxw_accepted_t *a, int64_t sent_ms, int64_t now_ms)
{
        int64_t k = sent_ms / CXW_ACCEPTED_SLOT_MS, rtt = now_ms - sent_ms;
        size_t i = (size_t)(k % CXW_ACCEPTED_SLOTS);

        if (sent_ms < 0)
                return;
        if (rtt < 0)
                rtt = 0;
        if (rtt > UINT32_MAX)
                rtt = UINT32_MAX;
        if (a->slot[i] != k) {
                a->slot[i] = k;
                a->cnt[i] = 0;
                a->rtt[i] = UINT32_MAX;
        }
        a->cnt[i]++;
        if ((uint32_t)rtt < a->rtt[i])
                a->rtt[i] = (uint32_t)rtt;
}

long cxw_accepted_count(const cxw_accepted_t *a, int64_t from_ms, int64_t to_ms,
                        int64_t *first_ms)
{
        uint32_t rtt_first = 0, rtt_min = UINT32_MAX;
        int64_t first = -1, late;
        long n = 0;

        /* The ring holds the last CXW_ACCEPTED_SLOTS slots: an older or
         * negative start (a window from a peer's report is not to be
         * trusted) is cut to what it can hold, so the walk is bounded and
         * never indexes below the ring. */
        if (from_ms < 0)
                from_ms = 0;
        if (to_ms >= 0 && to_ms / CXW_ACCEPTED_SLOT_MS - from_ms / CXW_ACCEPTED_SLOT_MS >=
                              CXW_ACCEPTED_SLOTS)
                from_ms = (to_ms / CXW_ACCEPTED_SLOT_MS - CXW_ACCEPTED_SLOTS + 1) *
                          CXW_ACCEPTED_SLOT_MS;
        for (int64_t k = from_ms / CXW_ACCEPTED_SLOT_MS;
             k <= to_ms / CXW_ACCEPTED_SLOT_MS; k++) {
                size_t i = (size_t)(k % CXW_ACCEPTED_SLOTS);

                if (a->slot[i] != k || a->cnt[i] == 0)
                        continue;
                n += a->cnt[i];
                if (first < 0) {
                        first = k * CXW_ACCEPTED_SLOT_MS;
                        rtt_first = a->rtt[i];
                }
                if (a->rtt[i] < rtt_min)
                        rtt_min = a->rtt[i];
        }
        *first_ms = first;
        if (first < 0)
                return n;
        /* A first answer slower than the fastest one came from a request
         * that waited before the server saw it. */
        late = (int64_t)rtt_first - (int64_t)rtt_min;
        if (late > (to_ms - first) / 4)
                late = (to_ms - first) / 4;
        *first_ms = first + late;
        return n;
}

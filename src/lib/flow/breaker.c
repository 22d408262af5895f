/* breaker.c: the outage breaker (breaker.h). */
#include "cxone/flow/breaker.h"

void cxw_breaker_init(cxw_breaker_t *b, int threshold, int64_t probe_min_ms,
                      int64_t probe_max_ms)
{
        *b = (cxw_breaker_t){0};
        b->threshold = threshold;
        b->probe_min_ms = probe_min_ms > 0 ? probe_min_ms : 1;
        b->probe_max_ms = probe_max_ms > b->probe_min_ms ? probe_max_ms : b->probe_min_ms;
}

int64_t cxw_breaker_allow(cxw_breaker_t *b, int64_t now_ms)
{
        if (!b->open)
                return 0;
        if (b->probing)
                return b->wait_ms; /* asked again when the probe ends */
        if (now_ms < b->next_probe)
                return b->next_probe - now_ms;
        b->probing = 1;
        return 0;
}

int cxw_breaker_on_success(cxw_breaker_t *b)
{
        int was_open = b->open;

        b->failures = 0;
        b->open = 0;
        b->probing = 0;
        return was_open;
}

int cxw_breaker_on_failure(cxw_breaker_t *b, int64_t now_ms, int probe)
{
        if (b->threshold <= 0)
                return 0;
        if (b->open) {
                /* The probe failed: wait longer before the next one. A call
                 * started before the breaker opened changes nothing. */
                if (probe && b->probing) {
                        b->probing = 0;
                        b->wait_ms = b->wait_ms > b->probe_max_ms / 2 ? b->probe_max_ms
                                                                      : b->wait_ms * 2;
                        b->next_probe = now_ms + b->wait_ms;
                }
                return 1;
        }
        if (++b->failures < b->threshold)
                return 0;
        b->open = 1;
        b->opened++;
        b->opened_at = now_ms;
        b->probing = 0;
        b->wait_ms = b->probe_min_ms;
        b->next_probe = now_ms + b->wait_ms;
        return 1;
}

/* batch.c: pending updates gathered into batches, one entry per key, with a
 * target fill that doubles while the budget holds due batches back and
 * halves when it does not (the rule is in batch.h).
 *
 * The pending entries are one array in add order. A take scans it from the
 * oldest, picks up to batch_max entries of distinct keys and closes the gap
 * behind them; an entry skipped for its key keeps its place at the front.
 * Keys are compared by a hash first, so the scan costs one pass over what it
 * looks at plus a check against at most batch_max picked keys. */
#include "cxone/flow/batch.h"

#include "cxone/base/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct ent_s {
        void *handle;
        char *key; /* malloc'd copy */
        uint64_t hash;
        int64_t added_ms;
} ent_t;

typedef struct pick_s {
        uint64_t hash;
        const char *key;
} pick_t;

struct cxw_batcher_s {
        size_t batch_max;
        int64_t linger_ms;
        size_t capacity;
        ent_t *v; /* pending, add order */
        size_t n, alloc;
        pick_t *picks; /* batch_max of them, scratch for take */
        size_t target;
        int pressed; /* a due batch was held back since the last take */
        cxw_batcher_counts_t counts;
};

cxw_batcher_t *cxw_batcher_new(size_t batch_max, int64_t linger_ms, size_t capacity,
                               char *errstr, size_t errstr_size)
{
        cxw_batcher_t *b = NULL;

        if (batch_max < 1 || batch_max > CXW_BATCH_MAX_LIMIT) {
                cxw_set_err(errstr, errstr_size, "batch_max %zu is outside 1..%d",
                            batch_max, CXW_BATCH_MAX_LIMIT);
                goto fail;
        }
        if (linger_ms < 0 || linger_ms > CXW_BATCH_LINGER_MS_LIMIT) {
                cxw_set_err(errstr, errstr_size, "batch_linger_ms %lld is outside 0..%d",
                            (long long)linger_ms, CXW_BATCH_LINGER_MS_LIMIT);
                goto fail;
        }
        if (capacity < 1 || capacity > CXW_BATCH_CAPACITY_LIMIT) {
                cxw_set_err(errstr, errstr_size, "batch capacity %zu is outside 1..%d",
                            capacity, CXW_BATCH_CAPACITY_LIMIT);
                goto fail;
        }
        b = calloc(1, sizeof(*b));
        if (!b)
                goto oom;
        b->picks = calloc(batch_max, sizeof(*b->picks));
        if (!b->picks)
                goto oom;
        b->batch_max = batch_max;
        b->linger_ms = linger_ms;
        b->capacity = capacity;
        b->target = 1;
        return b;
oom:
        cxw_set_err(errstr, errstr_size, "out of memory");
fail:
        cxw_batcher_destroy(b);
        return NULL;
}

void cxw_batcher_destroy(cxw_batcher_t *b)
{
        if (!b)
                return;
        for (size_t i = 0; i < b->n; i++)
                free(b->v[i].key);
        free(b->v);
        free(b->picks);
        free(b);
}

/* FNV-1a: keys are short and this is only a pre-check before strcmp. */
static uint64_t key_hash(const char *s, size_t len)
{
        uint64_t h = 1469598103934665603ULL;

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ULL;
        }
        return h;
}

int cxw_batcher_add(cxw_batcher_t *b, void *handle, const char *key, int64_t now)
{
        size_t len;
        ent_t *e;

        if (!b || !key || b->n >= b->capacity)
                return -1;
        len = strnlen(key, CXW_BATCH_KEY_MAX + 1);
        if (len == 0 || len > CXW_BATCH_KEY_MAX)
                return -1;
        if (b->n == b->alloc) {
                size_t alloc = b->alloc ? b->alloc * 2 : 64;
                ent_t *v;
                if (alloc > b->capacity)
                        alloc = b->capacity;
                v = realloc(b->v, alloc * sizeof(*v));
                if (!v)
                        return -1;
                b->v = v;
                b->alloc = alloc;
        }
        e = &b->v[b->n];
        e->key = malloc(len + 1);
        if (!e->key)
                return -1;
        memcpy(e->key, key, len + 1);
        e->hash = key_hash(key, len);
        e->handle = handle;
        e->added_ms = now;
        b->n++;
        return 0;
}

size_t cxw_batcher_pending(const cxw_batcher_t *b)
{
        return b ? b->n : 0;
}

size_t cxw_batcher_room(const cxw_batcher_t *b)
{
        return b ? b->capacity - b->n : 0;
}

int cxw_batcher_due(const cxw_batcher_t *b, int64_t now)
{
        if (!b || b->n == 0)
                return 0;
        if (b->linger_ms == 0 || b->n >= b->target)
                return 1;
        /* entries are added in time order: v[0] is the oldest */
        return now - b->v[0].added_ms >= b->linger_ms;
}

int64_t cxw_batcher_due_at(const cxw_batcher_t *b)
{
        if (!b || b->n == 0)
                return INT64_MAX;
        if (b->linger_ms == 0 || b->n >= b->target)
                return b->v[0].added_ms; /* due already */
        return b->v[0].added_ms + b->linger_ms;
}

void cxw_batcher_blocked(cxw_batcher_t *b, int64_t now)
{
        if (!cxw_batcher_due(b, now) || b->pressed)
                return;
        b->pressed = 1;
        if (b->target < b->batch_max) {
                b->target = b->target * 2 > b->batch_max ? b->batch_max : b->target * 2;
                b->counts.grows++;
        }
}

static int picked(const cxw_batcher_t *b, size_t m, const ent_t *e)
{
        for (size_t k = 0; k < m; k++)
                if (b->picks[k].hash == e->hash && strcmp(b->picks[k].key, e->key) == 0)
                        return 1;
        return 0;
}

size_t cxw_batcher_take(cxw_batcher_t *b, int64_t now, int slot_available, void **out,
                        size_t cap)
{
        size_t lim, m = 0, i, j = 0;

        if (!b || !out || cap == 0 || !cxw_batcher_due(b, now))
                return 0;
        if (!slot_available) {
                cxw_batcher_blocked(b, now);
                return 0;
        }
        lim = cap < b->batch_max ? cap : b->batch_max;
        for (i = 0; i < b->n && m < lim; i++) {
                ent_t *e = &b->v[i];
                if (picked(b, m, e)) {
                        b->counts.deferred++;
                        b->v[j++] = *e; /* keeps its place for a later batch */
                        continue;
                }
                b->picks[m].hash = e->hash;
                b->picks[m].key = e->key;
                out[m++] = e->handle;
        }
        /* picks[] holds the only pointer left to a picked key (its slot
         * may be overwritten by a kept entry already) */
        for (size_t k = 0; k < m; k++)
                free((char *)b->picks[k].key);
        if (i < b->n)
                memmove(&b->v[j], &b->v[i], (b->n - i) * sizeof(*b->v));
        b->n = j + (b->n - i);

        b->counts.batches++;
        b->counts.entries += m;
        if (!b->pressed && b->target > 1) {
                b->target /= 2;
                b->counts.shrinks++;
        }
        b->pressed = 0;
        return m;
}

size_t cxw_batcher_target(const cxw_batcher_t *b)
{
        return b ? b->target : 0;
}

const cxw_batcher_counts_t *cxw_batcher_counts(const cxw_batcher_t *b)
{
        return b ? &b->counts : NULL;
}

void cxw_batcher_remove_if(cxw_batcher_t *b, int (*pred)(void *handle, void *opaque),
                           void (*removed)(void *handle, void *opaque), void *opaque)
{
        size_t j = 0;

        if (!b || !pred)
                return;
        for (size_t i = 0; i < b->n; i++) {
                ent_t e = b->v[i];
                if (pred(e.handle, opaque)) {
                        free(e.key);
                        if (removed)
                                removed(e.handle, opaque);
                } else {
                        b->v[j++] = e;
                }
        }
        b->n = j;
}

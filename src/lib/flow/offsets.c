/* offsets.c: per-partition completion tracking, contiguous-prefix commits.
 *
 * Each partition keeps a ring (deque) of its in-flight offsets in add order,
 * which is increasing order, so an offset is found by binary search. Done
 * entries are popped from the head as long as they are contiguous; the last
 * one popped + 1 is the commit offset. Partitions live in a small chained
 * hash table keyed by (topic, partition). */
#include "cxone/flow/offsets.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
        int64_t offset;
        int done;
} entry_t;

typedef struct part_s {
        struct part_s *next; /* hash chain */
        uint64_t hash;
        int32_t partition;
        int64_t last_added; /* -1 before the first add */
        entry_t *ring;
        size_t cap;  /* a power of 2, or 0 */
        size_t head; /* index of the oldest entry */
        size_t count;
        size_t pending; /* entries not done */
        char topic[];
} part_t;

struct cxw_offsets_s {
        part_t **buckets;
        size_t nbuckets; /* a power of 2 */
        size_t nparts;
        size_t pending_total;
};

#define INITIAL_BUCKETS 16
#define INITIAL_RING    64

static uint64_t hash_of(const char *topic, int32_t partition)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (const unsigned char *p = (const unsigned char *)topic; *p; p++) {
                h ^= *p;
                h *= 1099511628211ULL;
        }
        h ^= (uint32_t)partition;
        h *= 1099511628211ULL;
        return h ^ (h >> 29);
}

cxw_offsets_t *cxw_offsets_new(void)
{
        cxw_offsets_t *o = calloc(1, sizeof(*o));

        if (!o)
                return NULL;
        o->buckets = calloc(INITIAL_BUCKETS, sizeof(*o->buckets));
        if (!o->buckets) {
                free(o);
                return NULL;
        }
        o->nbuckets = INITIAL_BUCKETS;
        return o;
}

static void part_free(part_t *p)
{
        if (!p)
                return;
        free(p->ring);
        free(p);
}

void cxw_offsets_destroy(cxw_offsets_t *o)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->nbuckets; i++) {
                part_t *p = o->buckets[i];
                while (p) {
                        part_t *next = p->next;
                        part_free(p);
                        p = next;
                }
        }
        free(o->buckets);
        free(o);
}

/* The slot that points at the partition (or at NULL where it would go). */
static part_t **find_slot(const cxw_offsets_t *o, const char *topic, int32_t partition,
                          uint64_t h)
{
        part_t **pp = &o->buckets[h & (o->nbuckets - 1)];

        for (; *pp; pp = &(*pp)->next) {
                part_t *p = *pp;
                if (p->hash == h && p->partition == partition &&
                    strcmp(p->topic, topic) == 0)
                        break;
        }
        return pp;
}

static part_t *find(const cxw_offsets_t *o, const char *topic, int32_t partition)
{
        if (!o || !topic)
                return NULL;
        return *find_slot(o, topic, partition, hash_of(topic, partition));
}

static void grow_buckets(cxw_offsets_t *o)
{
        size_t n = o->nbuckets * 2;
        part_t **b = calloc(n, sizeof(*b));

        if (!b)
                return; /* keep working with longer chains */
        for (size_t i = 0; i < o->nbuckets; i++) {
                part_t *p = o->buckets[i];
                while (p) {
                        part_t *next = p->next;
                        p->next = b[p->hash & (n - 1)];
                        b[p->hash & (n - 1)] = p;
                        p = next;
                }
        }
        free(o->buckets);
        o->buckets = b;
        o->nbuckets = n;
}

static part_t *find_or_create(cxw_offsets_t *o, const char *topic, int32_t partition)
{
        uint64_t h = hash_of(topic, partition);
        part_t **slot = find_slot(o, topic, partition, h);
        size_t tlen;
        part_t *p;

        if (*slot)
                return *slot;
        tlen = strlen(topic);
        p = calloc(1, sizeof(*p) + tlen + 1);
        if (!p)
                return NULL;
        memcpy(p->topic, topic, tlen + 1);
        p->hash = h;
        p->partition = partition;
        p->last_added = -1;
        *slot = p;
        o->nparts++;
        if (o->nparts > o->nbuckets)
                grow_buckets(o);
        return p;
}

static entry_t *at(const part_t *p, size_t i)
{
        return &p->ring[(p->head + i) & (p->cap - 1)];
}

/* Doubles the ring, unwrapping it so the oldest entry lands at index 0. */
static int ring_grow(part_t *p)
{
        size_t ncap = p->cap ? p->cap * 2 : INITIAL_RING;
        entry_t *r = malloc(ncap * sizeof(*r));

        if (!r)
                return -1;
        for (size_t i = 0; i < p->count; i++)
                r[i] = *at(p, i);
        free(p->ring);
        p->ring = r;
        p->cap = ncap;
        p->head = 0;
        return 0;
}

int cxw_offsets_add(cxw_offsets_t *o, const char *topic, int32_t partition,
                    int64_t offset)
{
        part_t *p;

        if (!o || !topic || offset < 0)
                return -1;
        p = find_or_create(o, topic, partition);
        if (!p)
                return -1;
        if (offset <= p->last_added)
                return -1;
        if (p->count == p->cap && ring_grow(p) != 0)
                return -1;
        entry_t *e = at(p, p->count);
        e->offset = offset;
        e->done = 0;
        p->count++;
        p->pending++;
        p->last_added = offset;
        o->pending_total++;
        return 0;
}

int64_t cxw_offsets_done(cxw_offsets_t *o, const char *topic, int32_t partition,
                         int64_t offset)
{
        part_t *p = find(o, topic, partition);
        size_t lo = 0, hi;
        int64_t commit = -1;

        if (!p || p->count == 0)
                return -1;
        /* Binary search for offset among the ring's increasing offsets. */
        hi = p->count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (at(p, mid)->offset < offset)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == p->count || at(p, lo)->offset != offset || at(p, lo)->done)
                return -1;
        at(p, lo)->done = 1;
        p->pending--;
        o->pending_total--;

        while (p->count > 0 && at(p, 0)->done) {
                commit = at(p, 0)->offset + 1;
                p->head = (p->head + 1) & (p->cap - 1);
                p->count--;
        }
        return commit;
}

size_t cxw_offsets_pending(const cxw_offsets_t *o, const char *topic, int32_t partition)
{
        const part_t *p = find(o, topic, partition);

        return p ? p->pending : 0;
}

size_t cxw_offsets_pending_total(const cxw_offsets_t *o)
{
        return o ? o->pending_total : 0;
}

void cxw_offsets_drop(cxw_offsets_t *o, const char *topic, int32_t partition)
{
        part_t **slot, *p;

        if (!o || !topic)
                return;
        slot = find_slot(o, topic, partition, hash_of(topic, partition));
        p = *slot;
        if (!p)
                return;
        *slot = p->next;
        o->pending_total -= p->pending;
        o->nparts--;
        part_free(p);
}

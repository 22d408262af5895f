/* offsets.c: per-partition completion tracking, contiguous-prefix commits.
 *
 * Each partition keeps a ring (deque) of its in-flight offsets in add order,
 * which is increasing order, so an offset is found by binary search. Done
 * entries are popped from the head as long as they are contiguous; the last
 * one popped + 1 is the commit offset. Partitions live in a cxw_hmap keyed
 * by (topic, partition). */
#include "cxone/flow/offsets.h"
#include "cxone/base/hmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
        int64_t offset;
        int done;
} entry_t;

typedef struct part_s {
        cxw_hmap_node_t node; /* first: in the table of partitions */
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
        cxw_hmap_t parts; /* of part_t */
        size_t pending_total;
};

#define INITIAL_RING 64

/* What a lookup compares a partition with. */
typedef struct {
        const char *topic;
        int32_t partition;
} part_key_t;

/* The topic's hash and the partition, hashed again (the table's hash over
 * one run of bytes). */
static uint64_t hash_of(const cxw_offsets_t *o, const char *topic, int32_t partition)
{
        unsigned char b[sizeof(uint64_t) + sizeof(int32_t)];
        uint64_t h = cxw_hmap_hash(&o->parts, topic, strlen(topic));

        memcpy(b, &h, sizeof(h));
        memcpy(b + sizeof(h), &partition, sizeof(partition));
        return cxw_hmap_hash(&o->parts, b, sizeof(b));
}

static bool part_eq(const cxw_hmap_node_t *node, const void *key)
{
        const part_t *p = (const part_t *)node;
        const part_key_t *k = key;

        return p->partition == k->partition && strcmp(p->topic, k->topic) == 0;
}

cxw_offsets_t *cxw_offsets_new(void)
{
        cxw_offsets_t *o = calloc(1, sizeof(*o));

        if (!o)
                return NULL;
        cxw_hmap_init(&o->parts);
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
        cxw_hmap_iter_t it = {0};
        cxw_hmap_node_t *n;

        if (!o)
                return;
        while ((n = cxw_hmap_next(&o->parts, &it)))
                part_free((part_t *)n);
        cxw_hmap_fini(&o->parts);
        free(o);
}

static part_t *find_hashed(const cxw_offsets_t *o, const char *topic, int32_t partition,
                           uint64_t h)
{
        part_key_t k = {topic, partition};

        return (part_t *)cxw_hmap_find(&o->parts, h, part_eq, &k);
}

static part_t *find(const cxw_offsets_t *o, const char *topic, int32_t partition)
{
        if (!o || !topic)
                return NULL;
        return find_hashed(o, topic, partition, hash_of(o, topic, partition));
}

static part_t *find_or_create(cxw_offsets_t *o, const char *topic, int32_t partition)
{
        uint64_t h = hash_of(o, topic, partition);
        part_t *p = find_hashed(o, topic, partition, h);
        size_t tlen;

        if (p)
                return p;
        tlen = strlen(topic);
        p = calloc(1, sizeof(*p) + tlen + 1);
        if (!p)
                return NULL;
        memcpy(p->topic, topic, tlen + 1);
        p->partition = partition;
        p->last_added = -1;
        if (cxw_hmap_insert(&o->parts, &p->node, h) != 0) {
                free(p);
                return NULL;
        }
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
        part_t *p = find(o, topic, partition);

        if (!p)
                return;
        cxw_hmap_remove(&o->parts, &p->node);
        o->pending_total -= p->pending;
        part_free(p);
}

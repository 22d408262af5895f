/* dispatch.c: per-key FIFOs, one item in progress per key, FIFO over keys.
 *
 * A key entry exists while it has queued items or an item in progress.
 * Invariant: an entry is on the ready list exactly when it has queued items
 * and nothing in progress, so every ready entry stands for one poppable item
 * and pop/push/release are O(1) (amortized, for the hash table). */
#include "cxone/flow/dispatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct node_s {
        struct node_s *next;
        void *item;
} node_t;

typedef struct key_s {
        struct key_s *hnext;         /* hash chain */
        struct key_s *rprev, *rnext; /* ready list */
        uint64_t hash;
        node_t *head, *tail; /* queued items, push order */
        size_t nitems;
        int in_progress;
        int in_ready;
        char key[];
} keyq_t;

struct cxw_dispatch_s {
        keyq_t **buckets;
        size_t nbuckets; /* a power of 2 */
        size_t nkeys;
        keyq_t *ready_head, *ready_tail;
        size_t nready;
        size_t queued;
};

#define INITIAL_BUCKETS 64

static uint64_t hash_of(const char *s)
{
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                h ^= *p;
                h *= 1099511628211ULL;
        }
        return h ^ (h >> 31);
}

cxw_dispatch_t *cxw_dispatch_new(void)
{
        cxw_dispatch_t *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->buckets = calloc(INITIAL_BUCKETS, sizeof(*d->buckets));
        if (!d->buckets) {
                free(d);
                return NULL;
        }
        d->nbuckets = INITIAL_BUCKETS;
        return d;
}

static void key_free(keyq_t *k)
{
        node_t *n = k->head;

        while (n) {
                node_t *next = n->next;
                free(n);
                n = next;
        }
        free(k);
}

void cxw_dispatch_destroy(cxw_dispatch_t *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->nbuckets; i++) {
                keyq_t *k = d->buckets[i];
                while (k) {
                        keyq_t *next = k->hnext;
                        key_free(k);
                        k = next;
                }
        }
        free(d->buckets);
        free(d);
}

static keyq_t **find_slot(const cxw_dispatch_t *d, const char *key, uint64_t h)
{
        keyq_t **pp = &d->buckets[h & (d->nbuckets - 1)];

        for (; *pp; pp = &(*pp)->hnext)
                if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
                        break;
        return pp;
}

static void grow_buckets(cxw_dispatch_t *d)
{
        size_t n = d->nbuckets * 2;
        keyq_t **b = calloc(n, sizeof(*b));

        if (!b)
                return; /* keep working with longer chains */
        for (size_t i = 0; i < d->nbuckets; i++) {
                keyq_t *k = d->buckets[i];
                while (k) {
                        keyq_t *next = k->hnext;
                        k->hnext = b[k->hash & (n - 1)];
                        b[k->hash & (n - 1)] = k;
                        k = next;
                }
        }
        free(d->buckets);
        d->buckets = b;
        d->nbuckets = n;
}

static void ready_append(cxw_dispatch_t *d, keyq_t *k)
{
        k->rnext = NULL;
        k->rprev = d->ready_tail;
        if (d->ready_tail)
                d->ready_tail->rnext = k;
        else
                d->ready_head = k;
        d->ready_tail = k;
        k->in_ready = 1;
        d->nready++;
}

static void ready_unlink(cxw_dispatch_t *d, keyq_t *k)
{
        if (k->rprev)
                k->rprev->rnext = k->rnext;
        else
                d->ready_head = k->rnext;
        if (k->rnext)
                k->rnext->rprev = k->rprev;
        else
                d->ready_tail = k->rprev;
        k->rprev = k->rnext = NULL;
        k->in_ready = 0;
        d->nready--;
}

/* Unlinks the entry at *slot from the hash table and frees it. */
static void key_remove(cxw_dispatch_t *d, keyq_t **slot)
{
        keyq_t *k = *slot;

        if (k->in_ready)
                ready_unlink(d, k);
        *slot = k->hnext;
        d->nkeys--;
        key_free(k);
}

int cxw_dispatch_push(cxw_dispatch_t *d, const char *key, void *item)
{
        node_t *n;
        keyq_t *k;
        uint64_t h;
        keyq_t **slot;

        if (!d)
                return -1;
        if (!key)
                key = "";
        n = malloc(sizeof(*n));
        if (!n)
                return -1;
        n->next = NULL;
        n->item = item;

        h = hash_of(key);
        slot = find_slot(d, key, h);
        k = *slot;
        if (!k) {
                size_t klen = strlen(key);
                k = calloc(1, sizeof(*k) + klen + 1);
                if (!k) {
                        free(n);
                        return -1;
                }
                memcpy(k->key, key, klen + 1);
                k->hash = h;
                *slot = k;
                d->nkeys++;
                if (d->nkeys > d->nbuckets)
                        grow_buckets(d);
        }
        if (k->tail)
                k->tail->next = n;
        else
                k->head = n;
        k->tail = n;
        k->nitems++;
        d->queued++;
        if (!k->in_progress && !k->in_ready)
                ready_append(d, k);
        return 0;
}

void *cxw_dispatch_pop(cxw_dispatch_t *d)
{
        keyq_t *k;
        node_t *n;
        void *item;

        if (!d || !d->ready_head)
                return NULL;
        k = d->ready_head;
        ready_unlink(d, k);
        n = k->head;
        k->head = n->next;
        if (!k->head)
                k->tail = NULL;
        k->nitems--;
        k->in_progress = 1;
        d->queued--;
        item = n->item;
        free(n);
        return item;
}

void cxw_dispatch_release(cxw_dispatch_t *d, const char *key)
{
        keyq_t **slot;
        keyq_t *k;

        if (!d)
                return;
        if (!key)
                key = "";
        slot = find_slot(d, key, hash_of(key));
        k = *slot;
        if (!k || !k->in_progress)
                return; /* unknown key or nothing in progress: harmless */
        k->in_progress = 0;
        if (k->nitems > 0)
                ready_append(d, k);
        else
                key_remove(d, slot);
}

size_t cxw_dispatch_queued(const cxw_dispatch_t *d)
{
        return d ? d->queued : 0;
}

size_t cxw_dispatch_ready(const cxw_dispatch_t *d)
{
        return d ? d->nready : 0;
}

void cxw_dispatch_remove_if(cxw_dispatch_t *d, int (*pred)(void *item, void *opaque),
                            void (*removed)(void *item, void *opaque), void *opaque)
{
        /* removed() may free the item but must not call back into d. */
        if (!d || !pred)
                return;
        /* A full scan: this runs on partition revoke, not per request. */
        for (size_t i = 0; i < d->nbuckets; i++) {
                keyq_t **slot = &d->buckets[i];
                while (*slot) {
                        keyq_t *k = *slot;
                        node_t **np = &k->head;
                        node_t *last = NULL;
                        while (*np) {
                                node_t *n = *np;
                                if (pred(n->item, opaque)) {
                                        *np = n->next;
                                        k->nitems--;
                                        d->queued--;
                                        if (removed)
                                                removed(n->item, opaque);
                                        free(n);
                                } else {
                                        last = n;
                                        np = &n->next;
                                }
                        }
                        k->tail = last;
                        if (k->nitems == 0 && !k->in_progress) {
                                key_remove(d, slot); /* *slot is now the next */
                                continue;
                        }
                        slot = &k->hnext;
                }
        }
}

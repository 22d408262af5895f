/* dispatch.c: per-key FIFOs, one item in progress per key, FIFO over keys.
 *
 * A key entry exists while it has queued items or an item in progress.
 * Invariant: an entry is on the ready list exactly when it has queued items
 * and nothing in progress, so every ready entry stands for one poppable item
 * and pop/push/release are O(1) (amortized, for the hash table). */
#include "cxone/flow/dispatch.h"
#include "cxone/base/hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct node_s {
        struct node_s *next;
        void *item;
} node_t;

typedef struct key_s {
        cxw_hmap_node_t node;        /* first: in the table of keys */
        struct key_s *rprev, *rnext; /* ready list */
        node_t *head, *tail;         /* queued items, push order */
        size_t nitems;
        int in_progress;
        int in_ready;
        char key[];
} keyq_t;

struct cxw_dispatch_s {
        cxw_hmap_t keys; /* of keyq_t */
        keyq_t *ready_head, *ready_tail;
        size_t nready;
        size_t queued;
};

cxw_dispatch_t *cxw_dispatch_new(void)
{
        cxw_dispatch_t *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        cxw_hmap_init(&d->keys);
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
        cxw_hmap_iter_t it = {0};
        cxw_hmap_node_t *n;

        if (!d)
                return;
        while ((n = cxw_hmap_next(&d->keys, &it)))
                key_free((keyq_t *)n);
        cxw_hmap_fini(&d->keys);
        free(d);
}

static bool key_eq(const cxw_hmap_node_t *node, const void *key)
{
        return strcmp(((const keyq_t *)node)->key, key) == 0;
}

static uint64_t hash_of(const cxw_dispatch_t *d, const char *key)
{
        return cxw_hmap_hash(&d->keys, key, strlen(key));
}

static keyq_t *find(const cxw_dispatch_t *d, const char *key, uint64_t h)
{
        return (keyq_t *)cxw_hmap_find(&d->keys, h, key_eq, key);
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

/* Takes the entry out of the table and frees it. */
static void key_remove(cxw_dispatch_t *d, keyq_t *k)
{
        if (k->in_ready)
                ready_unlink(d, k);
        cxw_hmap_remove(&d->keys, &k->node);
        key_free(k);
}

int cxw_dispatch_push(cxw_dispatch_t *d, const char *key, void *item)
{
        node_t *n;
        keyq_t *k;
        uint64_t h;

        if (!d)
                return -1;
        if (!key)
                key = "";
        n = malloc(sizeof(*n));
        if (!n)
                return -1;
        n->next = NULL;
        n->item = item;

        h = hash_of(d, key);
        k = find(d, key, h);
        if (!k) {
                size_t klen = strlen(key);
                k = calloc(1, sizeof(*k) + klen + 1);
                if (!k) {
                        free(n);
                        return -1;
                }
                memcpy(k->key, key, klen + 1);
                if (cxw_hmap_insert(&d->keys, &k->node, h) != 0) {
                        free(k);
                        free(n);
                        return -1;
                }
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
        keyq_t *k;

        if (!d)
                return;
        if (!key)
                key = "";
        k = find(d, key, hash_of(d, key));
        if (!k || !k->in_progress)
                return; /* unknown key or nothing in progress: harmless */
        k->in_progress = 0;
        if (k->nitems > 0)
                ready_append(d, k);
        else
                key_remove(d, k);
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
        cxw_hmap_iter_t it = {0};
        cxw_hmap_node_t *hn;

        /* removed() may free the item but must not call back into d. */
        if (!d || !pred)
                return;
        /* A full scan: this runs on partition revoke, not per request. */
        while ((hn = cxw_hmap_next(&d->keys, &it))) {
                keyq_t *k = (keyq_t *)hn;
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
                if (k->nitems == 0 && !k->in_progress)
                        key_remove(d, k);
        }
}

/* heap.c: a binary min-heap of fixed-size items in one array. */
#include "cxone/base/heap.h"

#include <stdlib.h>
#include <string.h>

static void *at(const cxw_heap_t *h, size_t i)
{
        return h->items + i * h->size;
}

/* Puts a copy of item at index i and tells the owner. */
static void put(cxw_heap_t *h, size_t i, const void *item)
{
        memcpy(at(h, i), item, h->size);
        if (h->index)
                h->index(at(h, i), i);
}

/* Moves item (held outside the array) up from the hole at i; returns where
 * it lands. */
static size_t sift_up(cxw_heap_t *h, size_t i, const void *item)
{
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (h->cmp(at(h, parent), item) <= 0)
                        break;
                put(h, i, at(h, parent));
                i = parent;
        }
        put(h, i, item);
        return i;
}

/* Moves item (held outside the array) down from the hole at i. */
static void sift_down(cxw_heap_t *h, size_t i, const void *item)
{
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = l;
                if (l >= h->len)
                        break;
                if (r < h->len && h->cmp(at(h, r), at(h, l)) < 0)
                        m = r;
                if (h->cmp(at(h, m), item) >= 0)
                        break;
                put(h, i, at(h, m));
                i = m;
        }
        put(h, i, item);
}

void cxw_heap_init(cxw_heap_t *h, size_t size, cxw_heap_cmp_cb *cmp,
                   cxw_heap_index_cb *index)
{
        memset(h, 0, sizeof(*h));
        h->size = size;
        h->cmp = cmp;
        h->index = index;
}

void cxw_heap_fini(cxw_heap_t *h)
{
        if (!h)
                return;
        free(h->items);
        h->items = NULL;
        h->len = h->cap = 0;
}

int cxw_heap_reserve(cxw_heap_t *h, size_t n)
{
        size_t cap = h->cap ? h->cap : 16;
        unsigned char *items;

        if (n <= h->cap - h->len)
                return 0;
        while (cap - h->len < n) {
                if (cap > ((size_t)-1 / 2) / h->size)
                        return -1;
                cap *= 2;
        }
        items = realloc(h->items, cap * h->size);
        if (!items)
                return -1;
        h->items = items;
        h->cap = cap;
        return 0;
}

int cxw_heap_push(cxw_heap_t *h, const void *item)
{
        unsigned char tmp[CXW_HEAP_ITEM_MAX];

        if (h->size > CXW_HEAP_ITEM_MAX)
                return -1;
        /* Copied first: item may point into the array, which reserve may
         * move (a caller re-pushing the top). */
        memcpy(tmp, item, h->size);
        if (cxw_heap_reserve(h, 1) != 0)
                return -1;
        sift_up(h, h->len++, tmp);
        return 0;
}

void *cxw_heap_top(const cxw_heap_t *h)
{
        return h->len ? at(h, 0) : NULL;
}

int cxw_heap_remove(cxw_heap_t *h, size_t index, void *out)
{
        unsigned char last[CXW_HEAP_ITEM_MAX];

        if (index >= h->len)
                return -1;
        if (out)
                memcpy(out, at(h, index), h->size);
        h->len--;
        if (index == h->len)
                return 0;
        /* The last item fills the hole: down if it is greater than what was
         * there, else up (it may be less than the removed item's parent). */
        memcpy(last, at(h, h->len), h->size);
        if (index > 0 && h->cmp(last, at(h, (index - 1) / 2)) < 0)
                sift_up(h, index, last);
        else
                sift_down(h, index, last);
        return 0;
}

int cxw_heap_pop(cxw_heap_t *h, void *out)
{
        return cxw_heap_remove(h, 0, out);
}

/**
 * @file heap.h
 * @brief A binary min-heap of fixed-size items (pointers, or small structs
 *        held by value) ordered by a compare callback.
 *
 * The one heap of the code base: the event loop's timers, cxone-sim's
 * latency timer and its running jobs. An optional index callback is told
 * every position an item lands at, so an owner can remember where an item
 * is and remove it in O(log n) (the loop's cxw_timer_stop()).
 *
 * The struct is public so that it can be embedded; its members are private
 * to heap.c.
 *
 * @locality not thread-safe; the caller locks.
 */
#ifndef CXONE_HEAP_H
#define CXONE_HEAP_H

#include <stddef.h>

/** The largest item size (bytes): items move through a buffer on the stack. */
#define CXW_HEAP_ITEM_MAX 64

/** @brief <0 when item a comes out before item b (both point at items). */
typedef int(cxw_heap_cmp_cb)(const void *a, const void *b);

/** @brief The item (a pointer into the heap's array) now sits at index. */
typedef void(cxw_heap_index_cb)(void *item, size_t index);

/** A min-heap; zero-initialized it is not usable: cxw_heap_init() first. */
typedef struct cxw_heap_s {
        unsigned char *items; /**< len items of size bytes */
        size_t size;
        size_t len;
        size_t cap;
        cxw_heap_cmp_cb *cmp;
        cxw_heap_index_cb *index; /**< NULL: nobody tracks positions */
} cxw_heap_t;

/**
 * @brief Sets up an empty heap of items of size bytes, at most
 *        CXW_HEAP_ITEM_MAX (no allocation yet).
 * @remark free with cxw_heap_fini().
 */
void cxw_heap_init(cxw_heap_t *h, size_t size, cxw_heap_cmp_cb *cmp,
                   cxw_heap_index_cb *index);

/** @brief Frees the array (not what its items point at); NULL-safe. */
void cxw_heap_fini(cxw_heap_t *h);

/**
 * @brief Makes room for n more items, so the next n pushes cannot fail.
 * @returns 0, or -1 on out-of-memory (the heap stays as it was).
 */
int cxw_heap_reserve(cxw_heap_t *h, size_t n);

/**
 * @brief Adds a copy of the item (size bytes).
 * @returns 0, or -1 on out-of-memory or an item size over
 *          CXW_HEAP_ITEM_MAX (the heap stays as it was).
 */
int cxw_heap_push(cxw_heap_t *h, const void *item);

/** @brief The first item (the least), or NULL when empty; valid until the
 *         next change of the heap. */
void *cxw_heap_top(const cxw_heap_t *h);

/**
 * @brief Removes the first item, copied to out unless out is NULL.
 * @returns 0, or -1 when the heap is empty.
 */
int cxw_heap_pop(cxw_heap_t *h, void *out);

/**
 * @brief Removes the item at index (as the index callback reported it),
 *        copied to out unless out is NULL; O(log n).
 * @returns 0, or -1 when index is out of range.
 */
int cxw_heap_remove(cxw_heap_t *h, size_t index, void *out);

/** @brief Forgets every item (keeps the array for reuse). */
static inline void cxw_heap_clear(cxw_heap_t *h)
{
        h->len = 0;
}

/** @brief How many items the heap holds. */
static inline size_t cxw_heap_len(const cxw_heap_t *h)
{
        return h->len;
}

/**
 * @brief The item at index, 0 <= index < cxw_heap_len(): walks every item in
 *        place, in no particular order (index 0 is the first); valid until
 *        the next change of the heap.
 */
static inline void *cxw_heap_at(const cxw_heap_t *h, size_t index)
{
        return h->items + index * h->size;
}

#endif

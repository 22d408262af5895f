/**
 * @file dispatch.h
 * @brief Per-key queues: items of one key leave in push order and one at a
 *        time; items of different keys leave in parallel (FIFO over keys).
 *
 * An item is popped only when its key has nothing in progress; when the
 * caller is done with it (the request reached its final answer) it calls
 * cxw_dispatch_release(), which makes the key's next item ready. A hot key
 * therefore never stalls other keys, and one partition with many distinct
 * keys runs at full concurrency.
 */
#ifndef CXONE_DISPATCH_H
#define CXONE_DISPATCH_H

#include <stddef.h>

typedef struct cxw_dispatch_s cxw_dispatch_t;

/** @brief A new dispatcher. @remark free with cxw_dispatch_destroy(). */
cxw_dispatch_t *cxw_dispatch_new(void);

/** @brief Frees the dispatcher, not the items; NULL-safe. */
void cxw_dispatch_destroy(cxw_dispatch_t *d);

/**
 * @brief Queues item under key (copied).
 * @returns 0, or -1 on out-of-memory.
 */
int cxw_dispatch_push(cxw_dispatch_t *d, const char *key, void *item);

/**
 * @brief The oldest ready item (its key has nothing in progress), which is
 *        now in progress; NULL when none is ready.
 */
void *cxw_dispatch_pop(cxw_dispatch_t *d);

/**
 * @brief The item in progress under key is finished: the key's next item,
 *        if any, becomes ready (at the back of the ready queue).
 */
void cxw_dispatch_release(cxw_dispatch_t *d, const char *key);

/** @brief Items pushed and not yet popped. */
size_t cxw_dispatch_queued(const cxw_dispatch_t *d);

/** @brief Items ready to pop now. */
size_t cxw_dispatch_ready(const cxw_dispatch_t *d);

/**
 * @brief Removes every queued (not popped) item for which pred returns
 *        non-zero, calling removed(item, opaque) on each, in push order
 *        per key. Used on partition revoke. Items in progress are untouched.
 */
void cxw_dispatch_remove_if(cxw_dispatch_t *d, int (*pred)(void *item, void *opaque),
                            void (*removed)(void *item, void *opaque), void *opaque);

#endif

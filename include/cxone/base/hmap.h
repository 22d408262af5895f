/**
 * @file hmap.h
 * @brief The one hash table of the code base: chained, intrusive (a
 *        cxw_hmap_node_t sits in the caller's entry), keyed by a hash the
 *        table computes with SipHash-2-4 under a random per-table key.
 *
 * Keyed per table: the dispatcher's contact ids, the offset tracker's
 * partitions, metric label values and cxone-sim's ids come from outside,
 * and with a fixed hash (FNV-1a as before) chosen keys could all land in
 * one chain and make every lookup linear. Under a secret random key an
 * outsider cannot tell which keys collide. The table also doubles its
 * buckets whenever entries outnumber them, so chains stay short.
 *
 * Use: hash the key with cxw_hmap_hash() (the same table's key), insert the
 * entry's node with that hash, find it with the hash and an equality
 * callback. The struct is public so that it can be embedded; its members
 * are private to hmap.c.
 *
 * @locality not thread-safe; the caller locks.
 */
#ifndef CXONE_HMAP_H
#define CXONE_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A SipHash key (128 bits). */
typedef struct cxw_hmap_key_s {
        uint64_t k0, k1;
} cxw_hmap_key_t;

/** The link an entry embeds; the table owns neither the node nor the entry. */
typedef struct cxw_hmap_node_s {
        struct cxw_hmap_node_s *next; /**< chain */
        uint64_t hash;
} cxw_hmap_node_t;

/** @brief true when the entry of node has the key that key points at. */
typedef bool(cxw_hmap_eq_cb)(const cxw_hmap_node_t *node, const void *key);

/** A hash table; cxw_hmap_init() before use. */
typedef struct cxw_hmap_s {
        cxw_hmap_node_t **buckets; /**< NULL until the first insert */
        size_t nbuckets;           /**< a power of two, or 0 */
        size_t count;
        cxw_hmap_key_t key;
} cxw_hmap_t;

/** Where an iteration stands; start it zeroed: cxw_hmap_iter_t it = {0}. */
typedef struct cxw_hmap_iter_s {
        size_t bucket;
        cxw_hmap_node_t *next;
} cxw_hmap_iter_t;

/**
 * @brief A fresh random key: from getrandom(), or, where the kernel has
 *        none to give yet, mixed from the clock, the process id and
 *        addresses (weaker, never fails).
 */
void cxw_hmap_key_random(cxw_hmap_key_t *key);

/** @brief SipHash-2-4 of len bytes under key. */
uint64_t cxw_hmap_siphash(const cxw_hmap_key_t *key, const void *data, size_t len);

/**
 * @brief Sets up an empty table with its own random key (no allocation
 *        until the first insert).
 * @remark free with cxw_hmap_fini(); a table is never copied.
 */
void cxw_hmap_init(cxw_hmap_t *m);

/** @brief Frees the bucket array, not the entries; NULL-safe. The table is
 *         empty (and usable) afterwards. */
void cxw_hmap_fini(cxw_hmap_t *m);

/** @brief The hash of len bytes of key for this table. */
static inline uint64_t cxw_hmap_hash(const cxw_hmap_t *m, const void *key, size_t len)
{
        return cxw_hmap_siphash(&m->key, key, len);
}

/**
 * @brief The first entry with this hash for which eq(node, key) holds.
 * @returns its node, or NULL.
 */
cxw_hmap_node_t *cxw_hmap_find(const cxw_hmap_t *m, uint64_t hash, cxw_hmap_eq_cb *eq,
                               const void *key);

/**
 * @brief Adds node under hash (it does not look for an equal entry first).
 *        Doubles the buckets when entries outnumber them; if that cannot be
 *        allocated the table keeps working with longer chains.
 * @returns 0, or -1 when not even the first bucket array could be
 *          allocated (the node is not in the table).
 * @remark the table keeps node until cxw_hmap_remove(); node must stay put.
 */
int cxw_hmap_insert(cxw_hmap_t *m, cxw_hmap_node_t *node, uint64_t hash);

/** @brief Takes node (which is in the table) out of it. */
void cxw_hmap_remove(cxw_hmap_t *m, cxw_hmap_node_t *node);

/**
 * @brief The next entry of an iteration over every entry, in no particular
 *        order; NULL at the end. The returned node may be removed (and
 *        freed) before the next call; no insert during the iteration.
 */
cxw_hmap_node_t *cxw_hmap_next(const cxw_hmap_t *m, cxw_hmap_iter_t *it);

/** @brief How many entries the table holds. */
static inline size_t cxw_hmap_count(const cxw_hmap_t *m)
{
        return m->count;
}

/** @brief The longest chain (for tests and diagnostics; O(n)). */
size_t cxw_hmap_max_chain(const cxw_hmap_t *m);

#endif

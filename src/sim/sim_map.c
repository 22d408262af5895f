/* sim_map.c: string keys to values for cxone-sim, on the library's hash
 * table (cxw_hmap: chained, seeded SipHash); an entry holds a copy of its
 * key. */
#include "sim.h"

#include "cxone/base/hmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
        cxw_hmap_node_t node; /* first: in the table */
        void *val;
        size_t klen;
        char key[]; /* klen bytes + NUL */
} entry_t;

struct cxw_sim_map {
        cxw_hmap_t table; /* of entry_t */
};

/* A key as lookups pass it. */
typedef struct {
        const char *key;
        size_t klen;
} lookup_t;

static bool entry_eq(const cxw_hmap_node_t *node, const void *key)
{
        const entry_t *e = (const entry_t *)node;
        const lookup_t *k = key;

        return e->klen == k->klen && memcmp(e->key, k->key, k->klen) == 0;
}

static entry_t *find(const cxw_sim_map_t *m, const char *key, size_t klen)
{
        lookup_t k = {key, klen};

        return (entry_t *)cxw_hmap_find(&m->table, cxw_hmap_hash(&m->table, key, klen),
                                        entry_eq, &k);
}

cxw_sim_map_t *cxw_sim_map_new(void)
{
        cxw_sim_map_t *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        cxw_hmap_init(&m->table);
        return m;
}

void cxw_sim_map_destroy(cxw_sim_map_t *m, void (*free_val)(void *))
{
        if (!m)
                return;
        cxw_sim_map_remove_if(m, NULL, NULL, free_val);
        cxw_hmap_fini(&m->table);
        free(m);
}

void *cxw_sim_map_get(const cxw_sim_map_t *m, const char *key, size_t klen)
{
        entry_t *e = find(m, key, klen);

        return e ? e->val : NULL;
}

int cxw_sim_map_put(cxw_sim_map_t *m, const char *key, size_t klen, void *val)
{
        entry_t *e = malloc(sizeof(*e) + klen + 1);

        if (!e)
                return -1;
        e->val = val;
        e->klen = klen;
        memcpy(e->key, key, klen);
        e->key[klen] = '\0';
        if (cxw_hmap_insert(&m->table, &e->node, cxw_hmap_hash(&m->table, key, klen)) !=
            0) {
                free(e);
                return -1;
        }
        return 0;
}

void cxw_sim_map_remove_if(cxw_sim_map_t *m, bool (*pred)(void *val, void *ctx),
                           void *ctx, void (*free_val)(void *))
{
        cxw_hmap_iter_t it = {0};
        cxw_hmap_node_t *n;

        while ((n = cxw_hmap_next(&m->table, &it))) {
                entry_t *e = (entry_t *)n;
                if (pred && !pred(e->val, ctx))
                        continue;
                cxw_hmap_remove(&m->table, n);
                if (free_val)
                        free_val(e->val);
                free(e);
        }
}

void *cxw_sim_map_remove(cxw_sim_map_t *m, const char *key, size_t klen)
{
        entry_t *e = find(m, key, klen);
        void *val;

        if (!e)
                return NULL;
        cxw_hmap_remove(&m->table, &e->node);
        val = e->val;
        free(e);
        return val;
}

size_t cxw_sim_map_count(const cxw_sim_map_t *m)
{
        return cxw_hmap_count(&m->table);
}

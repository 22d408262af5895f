/* sim_map.c: a small chained hash table with string keys for cxone-sim. */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
        struct entry *next;
        uint64_t hash;
        void *val;
        size_t klen;
        char key[]; /* klen bytes + NUL */
} entry_t;

struct cxw_sim_map {
        entry_t **buckets;
        size_t nbuckets; /* a power of two */
        size_t count;
};

uint64_t cxw_sim_hash(const char *s, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

cxw_sim_map_t *cxw_sim_map_new(void)
{
        cxw_sim_map_t *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        m->nbuckets = 16;
        m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
        if (!m->buckets) {
                free(m);
                return NULL;
        }
        return m;
}

void cxw_sim_map_destroy(cxw_sim_map_t *m, void (*free_val)(void *))
{
        if (!m)
                return;
        cxw_sim_map_remove_if(m, NULL, NULL, free_val);
        free(m->buckets);
        free(m);
}

void *cxw_sim_map_get(const cxw_sim_map_t *m, const char *key, size_t klen)
{
        uint64_t h = cxw_sim_hash(key, klen);

        for (entry_t *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->next) {
                if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
                        return e->val;
        }
        return NULL;
}

/* Doubles the bucket array; on failure the map stays as it was (only slower). */
static void grow(cxw_sim_map_t *m)
{
        size_t n = m->nbuckets * 2;
        entry_t **b = calloc(n, sizeof(*b));

        if (!b)
                return;
        for (size_t i = 0; i < m->nbuckets; i++) {
                entry_t *e = m->buckets[i];
                while (e) {
                        entry_t *next = e->next;
                        e->next = b[e->hash & (n - 1)];
                        b[e->hash & (n - 1)] = e;
                        e = next;
                }
        }
        free(m->buckets);
        m->buckets = b;
        m->nbuckets = n;
}

int cxw_sim_map_put(cxw_sim_map_t *m, const char *key, size_t klen, void *val)
{
        entry_t *e = malloc(sizeof(*e) + klen + 1);
        size_t i;

        if (!e)
                return -1;
        e->hash = cxw_sim_hash(key, klen);
        e->val = val;
        e->klen = klen;
        memcpy(e->key, key, klen);
        e->key[klen] = '\0';
        if (m->count >= m->nbuckets)
                grow(m);
        i = e->hash & (m->nbuckets - 1);
        e->next = m->buckets[i];
        m->buckets[i] = e;
        m->count++;
        return 0;
}

void cxw_sim_map_remove_if(cxw_sim_map_t *m, bool (*pred)(void *val, void *ctx),
                           void *ctx, void (*free_val)(void *))
{
        for (size_t i = 0; i < m->nbuckets; i++) {
                entry_t **pp = &m->buckets[i];
                while (*pp) {
                        entry_t *e = *pp;
                        if (pred && !pred(e->val, ctx)) {
                                pp = &e->next;
                                continue;
                        }
                        *pp = e->next;
                        if (free_val)
                                free_val(e->val);
                        free(e);
                        m->count--;
                }
        }
}

void *cxw_sim_map_remove(cxw_sim_map_t *m, const char *key, size_t klen)
{
        uint64_t h = cxw_sim_hash(key, klen);

        for (entry_t **pp = &m->buckets[h & (m->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
                entry_t *e = *pp;
                void *val;
                if (e->hash != h || e->klen != klen || memcmp(e->key, key, klen) != 0)
                        continue;
                *pp = e->next;
                val = e->val;
                free(e);
                m->count--;
                return val;
        }
        return NULL;
}

size_t cxw_sim_map_count(const cxw_sim_map_t *m)
{
        return m->count;
}

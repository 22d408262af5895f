/* hmap.c: a chained hash table under SipHash-2-4 with a per-table key. */
#include "cxone/base/hmap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define INITIAL_BUCKETS 16

/* ---- SipHash-2-4 (Aumasson and Bernstein), 64-bit output ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND                                                                         \
        do {                                                                             \
                v0 += v1;                                                                \
                v1 = ROTL(v1, 13);                                                       \
                v1 ^= v0;                                                                \
                v0 = ROTL(v0, 32);                                                       \
                v2 += v3;                                                                \
                v3 = ROTL(v3, 16);                                                       \
                v3 ^= v2;                                                                \
                v0 += v3;                                                                \
                v3 = ROTL(v3, 21);                                                       \
                v3 ^= v0;                                                                \
                v2 += v1;                                                                \
                v1 = ROTL(v1, 17);                                                       \
                v1 ^= v2;                                                                \
                v2 = ROTL(v2, 32);                                                       \
        } while (0)

static uint64_t load_le64(const unsigned char *p)
{
        uint64_t v = 0;

        for (int i = 7; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

uint64_t cxw_hmap_siphash(const cxw_hmap_key_t *key, const void *data, size_t len)
{
        const unsigned char *p = data;
        const unsigned char *end = p + (len & ~(size_t)7);
        uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
        uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
        uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
        uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
        uint64_t b = (uint64_t)len << 56;

        for (; p != end; p += 8) {
                uint64_t m = load_le64(p);
                v3 ^= m;
                SIPROUND;
                SIPROUND;
                v0 ^= m;
        }
        for (size_t i = 0; i < (len & 7); i++)
                b |= (uint64_t)p[i] << (8 * i);
        v3 ^= b;
        SIPROUND;
        SIPROUND;
        v0 ^= b;
        v2 ^= 0xff;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- keys ---- */

static uint64_t splitmix64(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

void cxw_hmap_key_random(cxw_hmap_key_t *key)
{
        uint64_t k[2];
        struct timespec ts;
        uint64_t s;

        if (getrandom(k, sizeof(k), GRND_NONBLOCK) == (ssize_t)sizeof(k)) {
                key->k0 = k[0];
                key->k1 = k[1];
                return;
        }
        /* No entropy yet (early boot) or no getrandom: not secret, but it
         * still differs per process and per table. */
        clock_gettime(CLOCK_REALTIME, &ts);
        s = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        s ^= (uint64_t)getpid() << 32;
        s ^= (uint64_t)(uintptr_t)key;
        s ^= (uint64_t)(uintptr_t)&ts;
        key->k0 = splitmix64(&s);
        key->k1 = splitmix64(&s);
}

/* ---- the table ---- */

void cxw_hmap_init(cxw_hmap_t *m)
{
        memset(m, 0, sizeof(*m));
        cxw_hmap_key_random(&m->key);
}

void cxw_hmap_fini(cxw_hmap_t *m)
{
        if (!m)
                return;
        free(m->buckets);
        m->buckets = NULL;
        m->nbuckets = 0;
        m->count = 0;
}

cxw_hmap_node_t *cxw_hmap_find(const cxw_hmap_t *m, uint64_t hash, cxw_hmap_eq_cb *eq,
                               const void *key)
{
        if (!m->nbuckets)
                return NULL;
        for (cxw_hmap_node_t *n = m->buckets[hash & (m->nbuckets - 1)]; n; n = n->next)
                if (n->hash == hash && eq(n, key))
                        return n;
        return NULL;
}

/* Rehashes into n buckets; on failure the table stays as it was. */
static int resize(cxw_hmap_t *m, size_t n)
{
        cxw_hmap_node_t **b = calloc(n, sizeof(*b));

        if (!b)
                return -1;
        for (size_t i = 0; i < m->nbuckets; i++) {
                cxw_hmap_node_t *e = m->buckets[i];
                while (e) {
                        cxw_hmap_node_t *next = e->next;
                        e->next = b[e->hash & (n - 1)];
                        b[e->hash & (n - 1)] = e;
                        e = next;
                }
        }
        free(m->buckets);
        m->buckets = b;
        m->nbuckets = n;
        return 0;
}

int cxw_hmap_insert(cxw_hmap_t *m, cxw_hmap_node_t *node, uint64_t hash)
{
        cxw_hmap_node_t **slot;

        if (!m->nbuckets && resize(m, INITIAL_BUCKETS) != 0)
                return -1;
        if (m->count >= m->nbuckets && m->nbuckets <= ((size_t)-1 / 2) / sizeof(node))
                resize(m, m->nbuckets * 2); /* else: longer chains, still works */
        node->hash = hash;
        slot = &m->buckets[hash & (m->nbuckets - 1)];
        node->next = *slot;
        *slot = node;
        m->count++;
        return 0;
}

void cxw_hmap_remove(cxw_hmap_t *m, cxw_hmap_node_t *node)
{
        cxw_hmap_node_t **pp = &m->buckets[node->hash & (m->nbuckets - 1)];

        for (; *pp; pp = &(*pp)->next) {
                if (*pp == node) {
                        *pp = node->next;
                        node->next = NULL;
                        m->count--;
                        return;
                }
        }
}

cxw_hmap_node_t *cxw_hmap_next(const cxw_hmap_t *m, cxw_hmap_iter_t *it)
{
        cxw_hmap_node_t *n = it->next;

        while (!n && it->bucket < m->nbuckets)
                n = m->buckets[it->bucket++];
        it->next = n ? n->next : NULL;
        return n;
}

size_t cxw_hmap_max_chain(const cxw_hmap_t *m)
{
        size_t max = 0;

        for (size_t i = 0; i < m->nbuckets; i++) {
                size_t len = 0;
                for (const cxw_hmap_node_t *n = m->buckets[i]; n; n = n->next)
                        len++;
                if (len > max)
                        max = len;
        }
        return max;
}

/* metrics_series.c: the series of a family, found by their label values
 * in the family's hash table (past the registry's cap, one overflow series
 * with every label "other"), and their updates: counters, gauges and
 * histogram buckets. */
#include "metrics_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- lookup ---- */

/* The label-less key: no values, so an empty key. */
static cxw_series_t *new_series(cxw_metric_t *m, const char *key, size_t keylen)
{
        size_t nb = m->type == CXW_METRIC_HISTOGRAM ? m->n_bounds + 1 : 0;
        /* The bucket counts follow the key, aligned for uint64_t. */
        size_t off = (sizeof(cxw_series_t) + keylen + 7) & ~(size_t)7;
        cxw_series_t *s = calloc(1, off + nb * sizeof(uint64_t));

        if (!s)
                return NULL;
        s->m = m;
        s->keylen = keylen;
        memcpy(s->key, key, keylen);
        if (nb)
                s->buckets = (uint64_t *)((char *)s + off);
        return s;
}

static int table_insert(cxw_metric_t *m, cxw_series_t *s, uint64_t hash)
{
        if (metrics_grow((void **)&m->series, &m->cap_series, m->n_series + 1,
                         sizeof(*m->series)) != 0)
                return -1;
        if (cxw_hmap_insert(&m->table, &s->node, hash) != 0)
                return -1;
        m->series[m->n_series++] = s;
        return 0;
}

/* Bytes of v kept: at most CXW_METRICS_MAX_VALUE, cut before a UTF-8
 * continuation byte so a character is never split. */
size_t metrics_value_len(const char *v)
{
        size_t n = strnlen(v, CXW_METRICS_MAX_VALUE + 1);

        if (n > CXW_METRICS_MAX_VALUE) {
                n = CXW_METRICS_MAX_VALUE;
                while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
                        n--;
        }
        return n;
}

/* A series' key as a lookup compares it. */
typedef struct {
        const char *key;
        size_t keylen;
} series_key_t;

static bool series_eq(const cxw_hmap_node_t *node, const void *key)
{
        const cxw_series_t *s = (const cxw_series_t *)node;
        const series_key_t *k = key;

        return s->keylen == k->keylen && memcmp(s->key, k->key, k->keylen) == 0;
}

cxw_series_t *cxw_metric_series(cxw_metric_t *m, const char *const *label_values)
{
        char key[CXW_METRICS_MAX_LABELS * (CXW_METRICS_MAX_VALUE + 1)];
        size_t keylen = 0;
        uint64_t hash;
        series_key_t lookup;
        cxw_series_t *s;

        if (!m || m->fn)
                return NULL;
        for (size_t i = 0; i < m->n_labels; i++) {
                const char *v = label_values && label_values[i] ? label_values[i] : "";
                size_t n = metrics_value_len(v);

                memcpy(key + keylen, v, n);
                keylen += n;
                key[keylen++] = '\0';
        }
        hash = cxw_hmap_hash(&m->table, key, keylen);
        lookup.key = key;
        lookup.keylen = keylen;
        s = (cxw_series_t *)cxw_hmap_find(&m->table, hash, series_eq, &lookup);
        if (s)
                return s;
        if (m->n_series >= m->reg->max_series) {
                m->overflows++;
                if (!m->overflow) {
                        keylen = 0;
                        for (size_t i = 0; i < m->n_labels; i++) {
                                memcpy(key + keylen, "other", 6);
                                keylen += 6;
                        }
                        m->overflow = new_series(m, key, keylen);
                }
                return m->overflow;
        }
        s = new_series(m, key, keylen);
        if (!s)
                return NULL;
        if (table_insert(m, s, hash) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

/* ---- updates and reads ---- */

void cxw_series_add(cxw_series_t *s, double v)
{
        if (!s || s->m->type == CXW_METRIC_HISTOGRAM)
                return;
        if (s->m->type == CXW_METRIC_COUNTER && !(v >= 0))
                return; /* negative or NaN: a counter only goes up */
        s->value += v;
}

void cxw_series_set(cxw_series_t *s, double v)
{
        if (!s || s->m->type == CXW_METRIC_HISTOGRAM)
                return;
        s->value = v;
}

void cxw_series_observe(cxw_series_t *s, double v)
{
        const cxw_metric_t *m;
        size_t lo = 0, hi;

        if (!s || s->m->type != CXW_METRIC_HISTOGRAM || isnan(v))
                return;
        m = s->m;
        /* The first bound >= v (bucket "le"), or n_bounds for +Inf. */
        hi = m->n_bounds;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (m->bounds[mid] >= v)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        s->buckets[lo]++;
        s->count++;
        s->value += v;
}

double cxw_series_value(const cxw_series_t *s)
{
        return s ? s->value : 0;
}

uint64_t cxw_series_count(const cxw_series_t *s)
{
        return s ? s->count : 0;
}

void cxw_metric_add(cxw_metric_t *m, const char *const *label_values, double v)
{
        cxw_series_add(cxw_metric_series(m, label_values), v);
}

void cxw_metric_set(cxw_metric_t *m, const char *const *label_values, double v)
{
        cxw_series_set(cxw_metric_series(m, label_values), v);
}

void cxw_metric_observe(cxw_metric_t *m, const char *const *label_values, double v)
{
        cxw_series_observe(cxw_metric_series(m, label_values), v);
}

size_t cxw_metric_series_count(const cxw_metric_t *m)
{
        return m ? m->n_series : 0;
}

uint64_t cxw_metric_overflows(const cxw_metric_t *m)
{
        return m ? m->overflows : 0;
}

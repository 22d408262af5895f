/* metrics.c: a Prometheus registry (families of series in hash tables) and
 * its text exposition (format 0.0.4). */
#include "cxone/base/metrics.h"
#include "cxone/base/hmap.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rendered text never grows past this: a registry that big is a bug
 * (a label with unbounded values), and the scrape should fail, not the
 * process. */
#define MAX_RENDER (64u << 20)
/* Room for any number fmt_num() writes ("%.17g" of a double: at most 24). */
#define NUM_SIZE 40

static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,    2.5,   5,    10};

struct cxw_series_s {
        cxw_hmap_node_t node; /**< first: in the family's table */
        cxw_metric_t *m;
        double value;      /**< counter/gauge value; histogram sum */
        uint64_t count;    /**< histogram: observations */
        uint64_t *buckets; /**< histogram: per bucket, not cumulative; n_bounds+1 */
        size_t keylen;     /**< bytes of key */
        char key[];        /**< the label values, each NUL-terminated, in order */
};

struct cxw_metric_s {
        cxw_metrics_t *reg;
        char *name;
        char *help;
        cxw_metric_type_t type;
        size_t n_labels;
        char **labels;
        double *bounds; /**< histogram */
        size_t n_bounds;
        cxw_metrics_gauge_cb *fn; /**< callback gauge */
        void *fn_opaque;
        cxw_series_t **series; /**< in creation order */
        size_t n_series, cap_series;
        cxw_hmap_t table; /**< of the series, by key */
        cxw_series_t *overflow;
        uint64_t overflows;
};

typedef struct collector_s {
        cxw_metrics_collect_cb *fn;
        void *opaque;
} collector_t;

struct cxw_metrics_s {
        size_t max_series;
        cxw_metric_t **families;
        size_t n_families, cap_families;
        collector_t *collectors;
        size_t n_collectors, cap_collectors;
};

typedef struct buf_s {
        char *p;
        size_t len, cap;
        bool failed;
} buf_t;

struct cxw_metrics_emitter_s {
        cxw_metrics_t *reg;
        buf_t *b;
        char name[CXW_METRICS_MAX_NAME + 1]; /**< current family; "" = none/invalid */
        char **seen;                         /**< collector family names of this render */
        size_t n_seen, cap_seen;
        bool failed;
};

/* ---- growable arrays and the output buffer ---- */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
        size_t ncap;
        void *p;

        if (need <= *cap)
                return 0;
        ncap = *cap ? *cap * 2 : 8;
        while (ncap < need)
                ncap *= 2;
        p = realloc(*arr, ncap * elem);
        if (!p)
                return -1;
        *arr = p;
        *cap = ncap;
        return 0;
}

static void buf_put(buf_t *b, const char *s, size_t n)
{
        if (b->failed)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t ncap = b->cap ? b->cap * 2 : 4096;
                char *p;

                while (ncap < b->len + n + 1)
                        ncap *= 2;
                if (ncap > MAX_RENDER) {
                        b->failed = true;
                        return;
                }
                p = realloc(b->p, ncap);
                if (!p) {
                        b->failed = true;
                        return;
                }
                b->p = p;
                b->cap = ncap;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

static void buf_str(buf_t *b, const char *s)
{
        buf_put(b, s, strlen(s));
}

static void buf_printf(buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void buf_printf(buf_t *b, const char *fmt, ...)
{
        char tmp[128];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(tmp)) {
                b->failed = true; /* only short numbers are printed here */
                return;
        }
        buf_put(b, tmp, (size_t)n);
}

/* A number as Prometheus reads it (Go's ParseFloat): integral values below
 * 2^53 without exponent, others in the shortest form that reads back. */
static const char *fmt_num(char out[NUM_SIZE], double v)
{
        if (isnan(v))
                return "NaN";
        if (isinf(v))
                return v > 0 ? "+Inf" : "-Inf";
        if (v == floor(v) && fabs(v) < 9007199254740992.0) {
                snprintf(out, NUM_SIZE, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
        } else {
                snprintf(out, NUM_SIZE, "%.15g", v);
                if (strtod(out, NULL) != v)
                        snprintf(out, NUM_SIZE, "%.17g", v);
        }
        return out;
}

static void buf_num(buf_t *b, double v)
{
        char tmp[NUM_SIZE];

        buf_str(b, fmt_num(tmp, v));
}

/* Length of the valid UTF-8 sequence at s (of n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        size_t len;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                cp = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                cp = s[0] & 0x07;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        return len;
}

/* Escapes s for a label value (quote=true: \\ \" \n) or a help text
 * (quote=false: \\ \n); invalid UTF-8 bytes become '?'. */
static void buf_escaped(buf_t *b, const char *s, bool quote)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t n = strlen(s);
        size_t run = 0; /* bytes at p[0..run) to copy verbatim */

        while (run < n) {
                unsigned char c = p[run];
                const char *rep = NULL;
                size_t l = 1;

                if (c == '\\')
                        rep = "\\\\";
                else if (c == '\n')
                        rep = "\\n";
                else if (c == '"' && quote)
                        rep = "\\\"";
                else if (c >= 0x80 && (l = utf8_len(p + run, n - run)) == 0)
                        rep = "?", l = 1;
                if (rep) {
                        buf_put(b, (const char *)p, run);
                        buf_str(b, rep);
                        p += run + l;
                        n -= run + l;
                        run = 0;
                } else {
                        run += l;
                }
        }
        buf_put(b, (const char *)p, run);
}

/* ---- names ---- */

static bool valid_metric_name(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > CXW_METRICS_MAX_NAME)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             c == '_' || c == ':';
                if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
                        return false;
        }
        return true;
}

static bool valid_label_name(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > CXW_METRICS_MAX_NAME || strncmp(s, "__", 2) == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
                if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
                        return false;
        }
        return true;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && strcmp(s + n - k, suffix) == 0;
}

static cxw_metric_t *find_family(const cxw_metrics_t *reg, const char *name)
{
        for (size_t i = 0; i < reg->n_families; i++)
                if (strcmp(reg->families[i]->name, name) == 0)
                        return reg->families[i];
        return NULL;
}

/* ---- registry ---- */

cxw_metrics_t *cxw_metrics_new(size_t max_series)
{
        cxw_metrics_t *reg = calloc(1, sizeof(*reg));

        if (!reg)
                return NULL;
        reg->max_series = max_series ? max_series : CXW_METRICS_MAX_SERIES;
        return reg;
}

static void free_family(cxw_metric_t *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_series; i++)
                free(m->series[i]);
        free(m->overflow);
        free(m->series);
        cxw_hmap_fini(&m->table);
        for (size_t i = 0; i < m->n_labels; i++)
                free(m->labels[i]);
        free(m->labels);
        free(m->bounds);
        free(m->name);
        free(m->help);
        free(m);
}

void cxw_metrics_destroy(cxw_metrics_t *reg)
{
        if (!reg)
                return;
        for (size_t i = 0; i < reg->n_families; i++)
                free_family(reg->families[i]);
        free(reg->families);
        free(reg->collectors);
        free(reg);
}

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
        if (grow((void **)&m->series, &m->cap_series, m->n_series + 1,
                 sizeof(*m->series)) != 0)
                return -1;
        if (cxw_hmap_insert(&m->table, &s->node, hash) != 0)
                return -1;
        m->series[m->n_series++] = s;
        return 0;
}

static cxw_metric_t *add_family(cxw_metrics_t *reg, const char *name, const char *help,
                                cxw_metric_type_t type, const char *const *labels,
                                const double *bounds, size_t n_bounds, char *errstr,
                                size_t errstr_size)
{
        cxw_metric_t *m = NULL;
        size_t n_labels = 0;

        if (!reg) {
                snprintf(errstr, errstr_size, "no registry");
                return NULL;
        }
        if (!valid_metric_name(name)) {
                snprintf(errstr, errstr_size,
                         "invalid metric name \"%.*s\": want [a-zA-Z_:][a-zA-Z0-9_:]*, "
                         "at most %d characters",
                         CXW_METRICS_MAX_NAME, name ? name : "", CXW_METRICS_MAX_NAME);
                return NULL;
        }
        if (type == CXW_METRIC_COUNTER && !ends_with(name, "_total")) {
                snprintf(errstr, errstr_size, "counter %s: the name must end in _total",
                         name);
                return NULL;
        }
        if (find_family(reg, name)) {
                snprintf(errstr, errstr_size, "metric %s is already registered", name);
                return NULL;
        }
        while (labels && labels[n_labels]) {
                const char *l = labels[n_labels];

                if (n_labels == CXW_METRICS_MAX_LABELS) {
                        snprintf(errstr, errstr_size, "metric %s: more than %d labels",
                                 name, CXW_METRICS_MAX_LABELS);
                        return NULL;
                }
                if (!valid_label_name(l)) {
                        snprintf(errstr, errstr_size,
                                 "metric %s: invalid label name \"%.*s\": want "
                                 "[a-zA-Z_][a-zA-Z0-9_]*, not starting with __",
                                 name, CXW_METRICS_MAX_NAME, l);
                        return NULL;
                }
                if (type == CXW_METRIC_HISTOGRAM && strcmp(l, "le") == 0) {
                        snprintf(errstr, errstr_size,
                                 "histogram %s: the label name le is reserved", name);
                        return NULL;
                }
                for (size_t j = 0; j < n_labels; j++)
                        if (strcmp(labels[j], l) == 0) {
                                snprintf(errstr, errstr_size,
                                         "metric %s: label %s is repeated", name, l);
                                return NULL;
                        }
                n_labels++;
        }
        if (type == CXW_METRIC_HISTOGRAM) {
                if (n_bounds > CXW_METRICS_MAX_BUCKETS) {
                        snprintf(errstr, errstr_size,
                                 "histogram %s: more than %d buckets", name,
                                 CXW_METRICS_MAX_BUCKETS);
                        return NULL;
                }
                for (size_t i = 0; bounds && i < n_bounds; i++)
                        if (!isfinite(bounds[i]) ||
                            (i > 0 && bounds[i] <= bounds[i - 1])) {
                                snprintf(errstr, errstr_size,
                                         "histogram %s: bucket bounds must be finite "
                                         "and strictly increasing",
                                         name);
                                return NULL;
                        }
                if (!bounds || n_bounds == 0) {
                        bounds = default_bounds;
                        n_bounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
                }
        }

        m = calloc(1, sizeof(*m));
        if (!m)
                goto fail;
        cxw_hmap_init(&m->table);
        m->reg = reg;
        m->type = type;
        m->name = strdup(name);
        m->help = strdup(help ? help : "");
        if (!m->name || !m->help)
                goto fail;
        if (n_labels) {
                m->labels = calloc(n_labels, sizeof(*m->labels));
                if (!m->labels)
                        goto fail;
                for (; m->n_labels < n_labels; m->n_labels++) {
                        m->labels[m->n_labels] = strdup(labels[m->n_labels]);
                        if (!m->labels[m->n_labels])
                                goto fail;
                }
        }
        if (type == CXW_METRIC_HISTOGRAM) {
                m->bounds = malloc(n_bounds * sizeof(*m->bounds));
                if (!m->bounds)
                        goto fail;
                memcpy(m->bounds, bounds, n_bounds * sizeof(*m->bounds));
                m->n_bounds = n_bounds;
        }
        if (grow((void **)&reg->families, &reg->cap_families, reg->n_families + 1,
                 sizeof(*reg->families)) != 0)
                goto fail;
        /* A label-less family has its one series from the start: it renders 0
         * before the first event. */
        if (n_labels == 0 && !cxw_metric_series(m, NULL))
                goto fail;
        reg->families[reg->n_families++] = m;
        return m;

fail:
        free_family(m);
        snprintf(errstr, errstr_size, "metric %s: out of memory", name);
        return NULL;
}

cxw_metric_t *cxw_metrics_counter(cxw_metrics_t *reg, const char *name, const char *help,
                                  const char *const *labels, char *errstr,
                                  size_t errstr_size)
{
        return add_family(reg, name, help, CXW_METRIC_COUNTER, labels, NULL, 0, errstr,
                          errstr_size);
}

cxw_metric_t *cxw_metrics_gauge(cxw_metrics_t *reg, const char *name, const char *help,
                                const char *const *labels, char *errstr,
                                size_t errstr_size)
{
        return add_family(reg, name, help, CXW_METRIC_GAUGE, labels, NULL, 0, errstr,
                          errstr_size);
}

cxw_metric_t *cxw_metrics_histogram(cxw_metrics_t *reg, const char *name,
                                    const char *help, const char *const *labels,
                                    const double *bounds, size_t n_bounds, char *errstr,
                                    size_t errstr_size)
{
        return add_family(reg, name, help, CXW_METRIC_HISTOGRAM, labels, bounds, n_bounds,
                          errstr, errstr_size);
}

int cxw_metrics_gauge_fn(cxw_metrics_t *reg, const char *name, const char *help,
                         cxw_metrics_gauge_cb *fn, void *opaque, char *errstr,
                         size_t errstr_size)
{
        cxw_metric_t *m;

        if (!fn) {
                snprintf(errstr, errstr_size, "gauge %s: no callback", name ? name : "");
                return -1;
        }
        m = add_family(reg, name, help, CXW_METRIC_GAUGE, NULL, NULL, 0, errstr,
                       errstr_size);
        if (!m)
                return -1;
        m->fn = fn;
        m->fn_opaque = opaque;
        return 0;
}

int cxw_metrics_add_collector(cxw_metrics_t *reg, cxw_metrics_collect_cb *collect,
                              void *opaque)
{
        if (!reg || !collect)
                return -1;
        if (grow((void **)&reg->collectors, &reg->cap_collectors, reg->n_collectors + 1,
                 sizeof(*reg->collectors)) != 0)
                return -1;
        reg->collectors[reg->n_collectors].fn = collect;
        reg->collectors[reg->n_collectors].opaque = opaque;
        reg->n_collectors++;
        return 0;
}

/* ---- series ---- */

/* Bytes of v kept: at most CXW_METRICS_MAX_VALUE, cut before a UTF-8
 * continuation byte so a character is never split. */
static size_t value_len(const char *v)
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
                size_t n = value_len(v);

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

/* ---- rendering ---- */

static const char *type_str(cxw_metric_type_t t)
{
        switch (t) {
        case CXW_METRIC_COUNTER:
                return "counter";
        case CXW_METRIC_GAUGE:
                return "gauge";
        case CXW_METRIC_HISTOGRAM:
                return "histogram";
        }
        return "untyped";
}

static void render_header(buf_t *b, const char *name, const char *help,
                          cxw_metric_type_t type)
{
        buf_str(b, "# HELP ");
        buf_str(b, name);
        buf_str(b, " ");
        buf_escaped(b, help ? help : "", false);
        buf_str(b, "\n# TYPE ");
        buf_str(b, name);
        buf_str(b, " ");
        buf_str(b, type_str(type));
        buf_str(b, "\n");
}

/* Writes {a="x",b="y"[,le="..."]} for series s, or nothing without labels. */
static void render_labels(buf_t *b, const cxw_series_t *s, const char *le)
{
        const cxw_metric_t *m = s->m;
        const char *v = s->key;

        if (m->n_labels == 0 && !le)
                return;
        buf_str(b, "{");
        for (size_t i = 0; i < m->n_labels; i++) {
                if (i > 0)
                        buf_str(b, ",");
                buf_str(b, m->labels[i]);
                buf_str(b, "=\"");
                buf_escaped(b, v, true);
                buf_str(b, "\"");
                v += strlen(v) + 1;
        }
        if (le) {
                if (m->n_labels > 0)
                        buf_str(b, ",");
                buf_str(b, "le=\"");
                buf_str(b, le);
                buf_str(b, "\"");
        }
        buf_str(b, "}");
}

static void render_series(buf_t *b, const cxw_series_t *s)
{
        const cxw_metric_t *m = s->m;

        if (m->type != CXW_METRIC_HISTOGRAM) {
                buf_str(b, m->name);
                render_labels(b, s, NULL);
                buf_str(b, " ");
                buf_num(b, s->value);
                buf_str(b, "\n");
                return;
        }
        uint64_t cum = 0;
        for (size_t i = 0; i <= m->n_bounds; i++) {
                char le[NUM_SIZE];
                cum += s->buckets[i];
                buf_str(b, m->name);
                buf_str(b, "_bucket");
                render_labels(b, s, i < m->n_bounds ? fmt_num(le, m->bounds[i]) : "+Inf");
                buf_printf(b, " %" PRIu64 "\n", cum);
        }
        buf_str(b, m->name);
        buf_str(b, "_sum");
        render_labels(b, s, NULL);
        buf_str(b, " ");
        buf_num(b, s->value);
        buf_str(b, "\n");
        buf_str(b, m->name);
        buf_str(b, "_count");
        render_labels(b, s, NULL);
        buf_printf(b, " %" PRIu64 "\n", s->count);
}

static void render_family(buf_t *b, const cxw_metric_t *m)
{
        if (m->fn) {
                render_header(b, m->name, m->help, m->type);
                buf_str(b, m->name);
                buf_str(b, " ");
                buf_num(b, m->fn(m->fn_opaque));
                buf_str(b, "\n");
                return;
        }
        if (m->n_series == 0 && !m->overflow)
                return; /* a labelled family before its first series */
        render_header(b, m->name, m->help, m->type);
        for (size_t i = 0; i < m->n_series; i++)
                render_series(b, m->series[i]);
        if (m->overflow)
                render_series(b, m->overflow);
}

int cxw_metrics_emit_family(cxw_metrics_emitter_t *e, const char *name, const char *help,
                            cxw_metric_type_t type)
{
        e->name[0] = '\0';
        if (!valid_metric_name(name) ||
            (type != CXW_METRIC_COUNTER && type != CXW_METRIC_GAUGE) ||
            (type == CXW_METRIC_COUNTER && !ends_with(name, "_total")) ||
            find_family(e->reg, name))
                return -1;
        for (size_t i = 0; i < e->n_seen; i++)
                if (strcmp(e->seen[i], name) == 0)
                        return -1;
        if (grow((void **)&e->seen, &e->cap_seen, e->n_seen + 1, sizeof(*e->seen)) != 0 ||
            !(e->seen[e->n_seen] = strdup(name))) {
                e->failed = true;
                return -1;
        }
        e->n_seen++;
        snprintf(e->name, sizeof(e->name), "%s", name);
        render_header(e->b, name, help, type);
        return 0;
}

int cxw_metrics_emit_sample(cxw_metrics_emitter_t *e, const char *const *labels,
                            double value)
{
        size_t n = 0;

        if (e->name[0] == '\0')
                return -1;
        while (labels && labels[n] && labels[n + 1]) {
                if (!valid_label_name(labels[n]))
                        return -1;
                for (size_t j = 0; j < n; j += 2)
                        if (strcmp(labels[j], labels[n]) == 0)
                                return -1;
                n += 2;
        }
        if (labels && labels[n])
                return -1; /* a name without a value */
        buf_str(e->b, e->name);
        for (size_t i = 0; i < n; i += 2) {
                char v[CXW_METRICS_MAX_VALUE + 1];
                size_t len = value_len(labels[i + 1]);

                memcpy(v, labels[i + 1], len);
                v[len] = '\0';
                buf_str(e->b, i == 0 ? "{" : ",");
                buf_str(e->b, labels[i]);
                buf_str(e->b, "=\"");
                buf_escaped(e->b, v, true);
                buf_str(e->b, "\"");
        }
        if (n > 0)
                buf_str(e->b, "}");
        buf_str(e->b, " ");
        buf_num(e->b, value);
        buf_str(e->b, "\n");
        return 0;
}

int cxw_metrics_render(cxw_metrics_t *reg, char **out, size_t *out_len)
{
        buf_t b = {0};
        cxw_metrics_emitter_t e;
        int ret = -1;

        *out = NULL;
        if (out_len)
                *out_len = 0;
        if (!reg)
                return -1;
        buf_put(&b, "", 0); /* an empty registry renders "" */
        for (size_t i = 0; i < reg->n_families; i++)
                render_family(&b, reg->families[i]);

        memset(&e, 0, sizeof(e));
        e.reg = reg;
        e.b = &b;
        for (size_t i = 0; i < reg->n_collectors; i++) {
                e.name[0] = '\0';
                reg->collectors[i].fn(reg->collectors[i].opaque, &e);
        }
        for (size_t i = 0; i < e.n_seen; i++)
                free(e.seen[i]);
        free(e.seen);
        if (b.failed || e.failed || !b.p)
                goto out;
        *out = b.p;
        if (out_len)
                *out_len = b.len;
        b.p = NULL;
        ret = 0;
out:
        free(b.p);
        return ret;
}

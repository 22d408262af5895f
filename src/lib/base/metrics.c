/* metrics.c: a Prometheus registry: families of series, their names and
 * labels checked once at registration, and the collectors asked for more
 * at each render. The series are in metrics_series.c, the text exposition
 * in metrics_render.c. */
#include "metrics_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,    2.5,   5,    10};

/* ---- growable arrays ---- */

int metrics_grow(void **arr, size_t *cap, size_t need, size_t elem)
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

/* ---- names ---- */

bool metrics_name_ok(const char *s)
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

bool metrics_label_ok(const char *s)
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

bool metrics_ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && strcmp(s + n - k, suffix) == 0;
}

cxw_metric_t *metrics_find_family(const cxw_metrics_t *reg, const char *name)
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
        if (!metrics_name_ok(name)) {
                snprintf(errstr, errstr_size,
                         "invalid metric name \"%.*s\": want [a-zA-Z_:][a-zA-Z0-9_:]*, "
                         "at most %d characters",
                         CXW_METRICS_MAX_NAME, name ? name : "", CXW_METRICS_MAX_NAME);
                return NULL;
        }
        if (type == CXW_METRIC_COUNTER && !metrics_ends_with(name, "_total")) {
                snprintf(errstr, errstr_size, "counter %s: the name must end in _total",
                         name);
                return NULL;
        }
        if (metrics_find_family(reg, name)) {
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
                if (!metrics_label_ok(l)) {
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
        if (metrics_grow((void **)&reg->families, &reg->cap_families, reg->n_families + 1,
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
        if (metrics_grow((void **)&reg->collectors, &reg->cap_collectors,
                         reg->n_collectors + 1, sizeof(*reg->collectors)) != 0)
                return -1;
        reg->collectors[reg->n_collectors].fn = collect;
        reg->collectors[reg->n_collectors].opaque = opaque;
        reg->n_collectors++;
        return 0;
}

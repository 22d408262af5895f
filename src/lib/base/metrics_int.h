/* metrics_int.h: what the parts of the metrics module share, private to
 * src/lib/base/metrics*.c:
 *   metrics.c         the registry: families, their names and labels,
 *                     collectors
 *   metrics_series.c  the series of a family: lookup by label values, the
 *                     overflow series, counter/gauge/histogram updates
 *   metrics_render.c  the text exposition (format 0.0.4) of the registry and
 *                     of the collectors' samples */
#ifndef CXONE_BASE_METRICS_INT_H
#define CXONE_BASE_METRICS_INT_H

#include "cxone/base/hmap.h"
#include "cxone/base/metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- metrics.c --------------------------------------------------------- */

/* Grows *arr (of elem-sized items, *cap of them) to hold need items.
 * @returns 0, or -1 out of memory (*arr unchanged). */
int metrics_grow(void **arr, size_t *cap, size_t need, size_t elem);
/* [a-zA-Z_:][a-zA-Z0-9_:]*, at most CXW_METRICS_MAX_NAME characters. */
bool metrics_name_ok(const char *s);
/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with __, at most CXW_METRICS_MAX_NAME. */
bool metrics_label_ok(const char *s);
bool metrics_ends_with(const char *s, const char *suffix);
/* The registry's family of that name, or NULL. */
cxw_metric_t *metrics_find_family(const cxw_metrics_t *reg, const char *name);

/* ---- metrics_series.c -------------------------------------------------- */

/* Bytes of a label value kept: at most CXW_METRICS_MAX_VALUE, cut before a
 * UTF-8 continuation byte so a character is never split. */
size_t metrics_value_len(const char *v);

#endif

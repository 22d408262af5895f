/**
 * @file metrics.h
 * @brief A Prometheus metrics registry (text exposition format 0.0.4):
 *        counters, gauges and histograms with fixed label names, callback
 *        gauges computed at render time, and collectors that write whole
 *        families at render time.
 *
 * The model:
 * - a registry (cxw_metrics_t) holds metric families (cxw_metric_t), in
 *   registration order, each with a name, help text, a type and a fixed,
 *   ordered list of label names;
 * - a family holds series (cxw_series_t), one per tuple of label values,
 *   created on first use by cxw_metric_series(). The handle stays valid until
 *   the registry is destroyed, so hot paths look a series up once and then
 *   call cxw_series_add() / _set() / _observe(), which are O(1) (a histogram
 *   observation is a binary search over its bounds);
 * - a label-less family has its single series from registration on, so it
 *   renders 0 before its first event; a labelled family renders nothing
 *   until it has a series.
 *
 * Bounds: a family holds at most max_series series (cxw_metrics_new()).
 * Beyond that, values for new label tuples go to one overflow series whose
 * every label value is "other", and each such lookup is counted
 * (cxw_metric_overflows()). A label value is cut to CXW_METRICS_MAX_VALUE
 * bytes (at a UTF-8 character boundary) before lookup, so long values that
 * share their first bytes share a series.
 *
 * Names: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* without a "__" prefix; a counter's name ends in
 * "_total" and is rendered as registered (no suffix is added); "le" is
 * reserved in histograms. Label values are escaped on output (\\, \", \n),
 * help texts too (\\, \n); bytes that are not valid UTF-8 are rendered as
 * '?'. Numbers: integral values below 2^53 without exponent or decimals,
 * others in the shortest form that reads back exactly, NaN as "NaN" and
 * infinities as "+Inf" / "-Inf".
 *
 * @locality not thread-safe: one thread (the loop thread) registers,
 *           updates and renders.
 */
#ifndef CXONE_METRICS_H
#define CXONE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/** Default cap on series per family (see cxw_metrics_new()). */
#define CXW_METRICS_MAX_SERIES 10000
/** Longest label value kept, in bytes; longer ones are cut. */
#define CXW_METRICS_MAX_VALUE 256
/** Most label names of one family. */
#define CXW_METRICS_MAX_LABELS 16
/** Most histogram bounds (the implicit +Inf bucket not counted). */
#define CXW_METRICS_MAX_BUCKETS 64
/** Longest metric or label name, in bytes. */
#define CXW_METRICS_MAX_NAME 200

/** A compound literal for label names or values: CXW_LABELS("a", "b"). */
#define CXW_LABELS(...) ((const char *const[]){__VA_ARGS__})

typedef enum {
        CXW_METRIC_COUNTER = 0, /**< monotonic total; name ends in _total */
        CXW_METRIC_GAUGE,       /**< a value that goes up and down */
        CXW_METRIC_HISTOGRAM,   /**< observations in cumulative buckets */
} cxw_metric_type_t;

typedef struct cxw_metrics_s cxw_metrics_t;
typedef struct cxw_metric_s cxw_metric_t;
typedef struct cxw_series_s cxw_series_t;
typedef struct cxw_metrics_emitter_s cxw_metrics_emitter_t;

/** A callback gauge's value, computed at render time. */
typedef double(cxw_metrics_gauge_cb)(void *opaque);

/**
 * A collector: writes families whose label sets are known only at render
 * time (e.g. consumer lag per partition) with cxw_metrics_emit_family() and
 * cxw_metrics_emit_sample().
 */
typedef void(cxw_metrics_collect_cb)(void *opaque, cxw_metrics_emitter_t *e);

/**
 * @brief An empty registry.
 * @param max_series cap on series per family; 0 = CXW_METRICS_MAX_SERIES.
 * @returns NULL only when out of memory.
 * @remark free with cxw_metrics_destroy(), which frees every family and
 *         series handle obtained from it.
 */
cxw_metrics_t *cxw_metrics_new(size_t max_series);

/** @brief NULL-safe. Every cxw_metric_t and cxw_series_t of reg dies with it. */
void cxw_metrics_destroy(cxw_metrics_t *reg);

/**
 * @brief Registers a counter family.
 * @param name must end in "_total"; unique in the registry.
 * @param help one line of help (escaped on output); NULL = "".
 * @param labels NULL-terminated label names, or NULL for none; copied.
 * @returns the family (owned by reg), or NULL with errstr naming the
 *          problem (invalid or duplicate name, invalid label name, ...).
 */
cxw_metric_t *cxw_metrics_counter(cxw_metrics_t *reg, const char *name, const char *help,
                                  const char *const *labels, char *errstr,
                                  size_t errstr_size);

/** @brief Registers a gauge family; as cxw_metrics_counter() without the suffix rule. */
cxw_metric_t *cxw_metrics_gauge(cxw_metrics_t *reg, const char *name, const char *help,
                                const char *const *labels, char *errstr,
                                size_t errstr_size);

/**
 * @brief Registers a histogram family.
 * @param bounds upper bounds of the buckets, finite and strictly increasing
 *        (+Inf is implicit); NULL or n_bounds 0 = Prometheus' defaults
 *        (0.005 .. 10, for seconds). Copied. At most CXW_METRICS_MAX_BUCKETS.
 * @param labels as for cxw_metrics_counter(); "le" is not allowed.
 * @returns the family (owned by reg), or NULL with errstr.
 */
cxw_metric_t *cxw_metrics_histogram(cxw_metrics_t *reg, const char *name,
                                    const char *help, const char *const *labels,
                                    const double *bounds, size_t n_bounds, char *errstr,
                                    size_t errstr_size);

/**
 * @brief Registers a label-less gauge whose value is fn(opaque), called at
 *        every render (e.g. requests in flight).
 * @returns 0, or -1 with errstr.
 * @remark opaque must stay valid until reg is destroyed.
 */
int cxw_metrics_gauge_fn(cxw_metrics_t *reg, const char *name, const char *help,
                         cxw_metrics_gauge_cb *fn, void *opaque, char *errstr,
                         size_t errstr_size);

/**
 * @brief Adds a collector, called at every render after the registered
 *        families, in the order added.
 * @returns 0, or -1 when out of memory.
 * @remark opaque must stay valid until reg is destroyed.
 */
int cxw_metrics_add_collector(cxw_metrics_t *reg, cxw_metrics_collect_cb *collect,
                              void *opaque);

/**
 * @brief Starts a family inside a collector: writes its # HELP and # TYPE
 *        lines. The samples that follow belong to it.
 * @param type CXW_METRIC_COUNTER (name ending in _total) or CXW_METRIC_GAUGE.
 * @returns 0, or -1 if the name is invalid, already used by a registered
 *          family or by an earlier family of this render, or the type is not
 *          allowed; then the samples until the next family are dropped.
 */
int cxw_metrics_emit_family(cxw_metrics_emitter_t *e, const char *name, const char *help,
                            cxw_metric_type_t type);

/**
 * @brief Writes one sample of the current family.
 * @param labels NULL-terminated pairs: name, value, name, value, ..., NULL;
 *        or NULL for none. Values are cut and escaped as for series.
 * @returns 0, or -1 (dropped) when there is no valid current family or a
 *          label name is invalid or repeated.
 */
int cxw_metrics_emit_sample(cxw_metrics_emitter_t *e, const char *const *labels,
                            double value);

/**
 * @brief The series of m for these label values, created on first use.
 * @param label_values as many values as m has label names, in the same
 *        order; ignored for a label-less family. NULL, or a NULL value,
 *        reads as "".
 * @returns a handle valid until the registry is destroyed (callers may
 *          cache it); the overflow series when m is full; NULL if m is NULL,
 *          a callback gauge, or memory ran out.
 */
cxw_series_t *cxw_metric_series(cxw_metric_t *m, const char *const *label_values);

/**
 * @brief Adds v to a counter or gauge. A counter ignores v < 0 and NaN;
 *        a histogram ignores the call. NULL-safe.
 */
void cxw_series_add(cxw_series_t *s, double v);

/**
 * @brief Sets a gauge, or a counter that mirrors a total kept elsewhere
 *        (the caller keeps it monotonic). A histogram ignores it. NULL-safe.
 */
void cxw_series_set(cxw_series_t *s, double v);

/** @brief Records one observation in a histogram (NaN is ignored); others ignore it. */
void cxw_series_observe(cxw_series_t *s, double v);

/** @brief A counter's or gauge's value; a histogram's sum. 0 for NULL. */
double cxw_series_value(const cxw_series_t *s);

/** @brief A histogram's observation count; 0 for other types and NULL. */
uint64_t cxw_series_count(const cxw_series_t *s);

/** @brief Convenience: cxw_series_add(cxw_metric_series(m, values), v). */
void cxw_metric_add(cxw_metric_t *m, const char *const *label_values, double v);

/** @brief Convenience: cxw_series_set(cxw_metric_series(m, values), v). */
void cxw_metric_set(cxw_metric_t *m, const char *const *label_values, double v);

/** @brief Convenience: cxw_series_observe(cxw_metric_series(m, values), v). */
void cxw_metric_observe(cxw_metric_t *m, const char *const *label_values, double v);

/** @brief Series of m, the overflow series not counted. */
size_t cxw_metric_series_count(const cxw_metric_t *m);

/** @brief Lookups of m that went to the overflow series because m was full. */
uint64_t cxw_metric_overflows(const cxw_metric_t *m);

/**
 * @brief Renders every family, then every collector's, as Prometheus text
 *        format 0.0.4 ("text/plain; version=0.0.4").
 * @param out set to a NUL-terminated buffer; free it with free().
 * @param out_len set to its length without the NUL; may be NULL.
 * @returns 0, or -1 when out of memory (or past 64 MiB of text).
 */
int cxw_metrics_render(cxw_metrics_t *reg, char **out, size_t *out_len);

#endif

/* metrics_render.c: the registry's text exposition (Prometheus format
 * 0.0.4): each family's HELP and TYPE, its series with escaped label
 * values, histograms' cumulative buckets, then the collectors' samples. */
#include "metrics_int.h"

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

/* ---- the output buffer ---- */

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
        if (!metrics_name_ok(name) ||
            (type != CXW_METRIC_COUNTER && type != CXW_METRIC_GAUGE) ||
            (type == CXW_METRIC_COUNTER && !metrics_ends_with(name, "_total")) ||
            metrics_find_family(e->reg, name))
                return -1;
        for (size_t i = 0; i < e->n_seen; i++)
                if (strcmp(e->seen[i], name) == 0)
                        return -1;
        if (metrics_grow((void **)&e->seen, &e->cap_seen, e->n_seen + 1,
                         sizeof(*e->seen)) != 0 ||
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
                if (!metrics_label_ok(labels[n]))
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
                size_t len = metrics_value_len(labels[i + 1]);

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

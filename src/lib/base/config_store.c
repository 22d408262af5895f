/* config_store.c: storing values into cxw_config_t, from their text form
 * (the table defaults, the environment) and from the settings of a
 * libconfig file, with "did you mean" for an unknown key. */
#include "config_int.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- storing values ---------------------------------------------------- */

/* Wiped: a librdkafka property may hold a password. */
void cfg_strlist_free(cxw_strlist_t *l)
{
        for (size_t i = 0; i < l->cnt; i++) {
                explicit_bzero(l->v[i], strlen(l->v[i]));
                free(l->v[i]);
        }
        free(l->v);
        l->v = NULL;
        l->cnt = 0;
}

int cfg_set_str(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        char **dst = cfg_field(ctx->cfg, p);
        char *copy;

        if (strlen(v) > MAX_STR_BYTES) {
                cfg_prop_err(ctx, p, o, "longer than %d bytes", MAX_STR_BYTES);
                return -1;
        }
        copy = strdup(v);
        if (!copy) {
                ctx->oom = true;
                return -1;
        }
        free(*dst);
        *dst = copy;
        return 0;
}

static int set_int(ctx_t *ctx, const prop_t *p, const origin_t *o, long long v)
{
        if ((double)v < p->min || (double)v > p->max) {
                cfg_prop_err(ctx, p, o, "%lld is out of range %.15g..%.15g", v, p->min,
                             p->max);
                return -1;
        }
        if (p->type == PT_INT64)
                *(int64_t *)cfg_field(ctx->cfg, p) = (int64_t)v;
        else
                *(int *)cfg_field(ctx->cfg, p) = (int)v;
        return 0;
}

static int set_dbl(ctx_t *ctx, const prop_t *p, const origin_t *o, double v)
{
        if (!isfinite(v) || v < p->min || v > p->max) {
                cfg_prop_err(ctx, p, o, "%g is out of range %.15g..%.15g", v, p->min,
                             p->max);
                return -1;
        }
        *(double *)cfg_field(ctx->cfg, p) = v;
        return 0;
}

static int set_bool(ctx_t *ctx, const prop_t *p, bool v)
{
        *(bool *)cfg_field(ctx->cfg, p) = v;
        return 0;
}

/* Takes ownership of items (cnt strings). */
static int set_list(ctx_t *ctx, const prop_t *p, char **items, size_t cnt)
{
        cxw_strlist_t *l = cfg_field(ctx->cfg, p);

        cfg_strlist_free(l);
        l->v = items;
        l->cnt = cnt;
        return 0;
}

/* Splits "a,b,c" (the env and default syntax of a list); empty gives []. */
static int set_list_csv(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        char **items = NULL;
        size_t cnt = 0;
        const char *s = v;

        while (*v && s) {
                const char *comma = strchr(s, ',');
                size_t len = comma ? (size_t)(comma - s) : strlen(s);
                char **grown;

                if (cnt >= MAX_LIST_ITEMS) {
                        cfg_prop_err(ctx, p, o, "more than %d items", MAX_LIST_ITEMS);
                        goto fail;
                }
                grown = realloc(items, (cnt + 1) * sizeof(*items));
                if (!grown)
                        goto oom;
                items = grown;
                items[cnt] = strndup(s, len);
                if (!items[cnt])
                        goto oom;
                cnt++;
                s = comma ? comma + 1 : NULL;
        }
        return set_list(ctx, p, items, cnt);
oom:
        ctx->oom = true;
fail:
        for (size_t i = 0; i < cnt; i++)
                free(items[i]);
        free(items);
        return -1;
}

/* A value in the text form of the environment and of the table defaults. */
int cfg_set_text(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        char *end = NULL;

        switch (p->type) {
        case PT_STR:
                return cfg_set_str(ctx, p, o, v);
        case PT_INT:
        case PT_INT64: {
                long long n;

                errno = 0;
                n = strtoll(v, &end, 10);
                if (errno || end == v || *end) {
                        cfg_prop_err(ctx, p, o, "expected an integer, got '%.64s'", v);
                        return -1;
                }
                return set_int(ctx, p, o, n);
        }
        case PT_DBL: {
                double d;

                errno = 0;
                d = strtod(v, &end);
                if (errno || end == v || *end || !isfinite(d)) {
                        cfg_prop_err(ctx, p, o, "expected a number, got '%.64s'", v);
                        return -1;
                }
                return set_dbl(ctx, p, o, d);
        }
        case PT_BOOL:
                if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
                        return set_bool(ctx, p, true);
                if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
                        return set_bool(ctx, p, false);
                cfg_prop_err(ctx, p, o, "expected true or false, got '%.64s'", v);
                return -1;
        case PT_LIST:
                return set_list_csv(ctx, p, o, v);
        }
        return -1;
}

/* ---- the file ---------------------------------------------------------- */

static origin_t file_origin(const ctx_t *ctx, const config_setting_t *s)
{
        origin_t o = {FROM_FILE, config_setting_source_file(s),
                      (int)config_setting_source_line(s), NULL};

        if (!o.file)
                o.file = ctx->path;
        return o;
}

static int set_from_setting(ctx_t *ctx, const prop_t *p, const config_setting_t *s)
{
        origin_t o = file_origin(ctx, s);
        int type = config_setting_type(s);
        int rc = -1;

        switch (p->type) {
        case PT_STR:
                if (type != CONFIG_TYPE_STRING)
                        cfg_prop_err(ctx, p, &o, "expected a string");
                else
                        rc = cfg_set_str(ctx, p, &o, config_setting_get_string(s));
                break;
        case PT_INT:
        case PT_INT64:
                if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
                        cfg_prop_err(ctx, p, &o, "expected an integer");
                else
                        rc = set_int(ctx, p, &o, config_setting_get_int64(s));
                break;
        case PT_DBL:
                if (type == CONFIG_TYPE_FLOAT)
                        rc = set_dbl(ctx, p, &o, config_setting_get_float(s));
                else if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
                        rc = set_dbl(ctx, p, &o, (double)config_setting_get_int64(s));
                else
                        cfg_prop_err(ctx, p, &o, "expected a number");
                break;
        case PT_BOOL:
                if (type != CONFIG_TYPE_BOOL)
                        cfg_prop_err(ctx, p, &o, "expected true or false");
                else
                        rc = set_bool(ctx, p, config_setting_get_bool(s) != 0);
                break;
        case PT_LIST: {
                int n = config_setting_length(s);
                char **items;
                int i;

                if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
                        cfg_prop_err(ctx, p, &o,
                                     "expected a list of strings, [\"...\", ...]");
                        break;
                }
                if (n > MAX_LIST_ITEMS) {
                        cfg_prop_err(ctx, p, &o, "more than %d items", MAX_LIST_ITEMS);
                        break;
                }
                for (i = 0; i < n; i++) {
                        const config_setting_t *e =
                            config_setting_get_elem(s, (unsigned)i);
                        origin_t eo = file_origin(ctx, e);

                        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                                cfg_prop_err(ctx, p, &eo, "item %d: expected a string",
                                             i + 1);
                                break;
                        }
                        if (strlen(config_setting_get_string(e)) > MAX_STR_BYTES) {
                                cfg_prop_err(ctx, p, &eo, "item %d: longer than %d bytes",
                                             i + 1, MAX_STR_BYTES);
                                break;
                        }
                }
                if (i < n)
                        break;
                items = calloc(n > 0 ? (size_t)n : 1, sizeof(*items));
                if (!items) {
                        ctx->oom = true;
                        break;
                }
                for (i = 0; i < n; i++) {
                        items[i] = strdup(config_setting_get_string_elem(s, i));
                        if (!items[i]) {
                                ctx->oom = true;
                                while (i-- > 0)
                                        free(items[i]);
                                free(items);
                                return -1;
                        }
                }
                rc = set_list(ctx, p, items, (size_t)n);
                break;
        }
        }
        if (rc == 0)
                ctx->orig[p - cfg_props] = o;
        return rc;
}

/* Is path a group of the table ("kafka", "kafka.topics", ...)? */
static bool is_group(const char *path)
{
        size_t len = strlen(path);

        for (size_t i = 0; i < cfg_nprops; i++)
                if (!strncmp(cfg_props[i].path, path, len) &&
                    cfg_props[i].path[len] == '.')
                        return true;
        return false;
}

/* Edit distance, for "did you mean"; both strings are short. */
static size_t distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        size_t row[MAX_PATH_CHARS + 1];

        if (la > MAX_PATH_CHARS || lb > MAX_PATH_CHARS)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] != b[j - 1]);

                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

/* The key most like path: a small typo, a left-out suffix, or the same last
 * name in another group; NULL if none is close. */
static const char *suggest(const char *path)
{
        const char *best = NULL, *leaf = strrchr(path, '.');
        size_t best_d = 3; /* accept up to 2 edits */

        for (size_t i = 0; i < cfg_nprops; i++) {
                size_t d = distance(path, cfg_props[i].path);

                if (d < best_d) {
                        best_d = d;
                        best = cfg_props[i].path;
                }
        }
        if (best)
                return best;
        for (size_t i = 0; i < cfg_nprops; i++) /* a suffix left out: _ms */
                if (!strncmp(cfg_props[i].path, path, strlen(path)) &&
                    cfg_props[i].path[strlen(path)] == '_')
                        return cfg_props[i].path;
        leaf = leaf ? leaf + 1 : path;
        for (size_t i = 0; i < cfg_nprops; i++) {
                const char *pl = strrchr(cfg_props[i].path, '.') + 1;

                if (!strcmp(pl, leaf))
                        return cfg_props[i].path;
        }
        return NULL;
}

static void walk(ctx_t *ctx, const config_setting_t *grp, const char *prefix)
{
        int n = config_setting_length(grp);

        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
                const char *name = config_setting_name(s);
                origin_t o = file_origin(ctx, s);
                char path[MAX_PATH_CHARS];
                const prop_t *p;
                const char *hint;

                snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
                         name ? name : "?");
                p = cfg_find_prop(path);
                if (p) {
                        set_from_setting(ctx, p, s);
                } else if (is_group(path)) {
                        if (config_setting_is_group(s))
                                walk(ctx, s, path);
                        else
                                cfg_add_err(ctx,
                                            "%s:%d: %s: expected a group, %s = { ... };",
                                            o.file, o.line, path, path);
                } else if ((hint = suggest(path)) != NULL) {
                        cfg_add_err(ctx, "%s:%d: unknown key '%s' (did you mean '%s'?)",
                                    o.file, o.line, path, hint);
                } else {
                        cfg_add_err(ctx, "%s:%d: unknown key '%s'", o.file, o.line, path);
                }
        }
}

/* Reads path into the config. @returns 0, or -1 when the file could not be
 * read or parsed (the problem is recorded). */
int cfg_load_file(ctx_t *ctx, const char *path)
{
        config_t *lc = &ctx->lc;
        struct stat st;

        if (stat(path, &st) != 0) {
                cfg_add_err(ctx, "%s: cannot read: %s", path, strerror(errno));
                return -1;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
                cfg_add_err(ctx, "%s: not a regular file of at most %d bytes", path,
                            MAX_FILE_BYTES);
                return -1;
        }
        config_init(lc);
        ctx->lc_live = true;
        /* No auto-conversion: the type of every value is checked here, and
         * int-for-double is accepted explicitly. */
        config_set_options(lc, 0);
        if (!config_read_file(lc, path)) {
                if (config_error_type(lc) == CONFIG_ERR_PARSE)
                        cfg_add_err(ctx, "%s:%d: %s",
                                    config_error_file(lc) ? config_error_file(lc) : path,
                                    config_error_line(lc), config_error_text(lc));
                else
                        cfg_add_err(ctx, "%s: cannot read: %s", path,
                                    config_error_text(lc));
                return -1;
        }
        walk(ctx, config_root_setting(lc), "");
        return 0;
}

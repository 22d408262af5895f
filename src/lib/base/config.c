/* config.c: one property table (config_table.c); a libconfig file and the
 * environment are read through it into cxw_config_t (config_store.c),
 * checked (config_check.c), dumped and documented (config_print.c). Here:
 * the problems, the environment, the derived values and the secret files,
 * and the public API of the load. */
#include "config_int.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- problems ---------------------------------------------------------- */

static void add_errv(ctx_t *ctx, const char *fmt, va_list ap)
{
        char *msg = NULL;
        char **v;

        if (ctx->errs->cnt >= MAX_ERRORS) {
                ctx->dropped++;
                return;
        }
        if (vasprintf(&msg, fmt, ap) < 0) {
                ctx->oom = true;
                return;
        }
        v = realloc(ctx->errs->v, (ctx->errs->cnt + 1) * sizeof(*v));
        if (!v) {
                free(msg);
                ctx->oom = true;
                return;
        }
        v[ctx->errs->cnt++] = msg;
        ctx->errs->v = v;
}

void cfg_add_err(ctx_t *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        add_errv(ctx, fmt, ap);
        va_end(ap);
}

/* A problem with a value: "file:line: key: msg", "ENV (key): msg" or
 * "key: msg", depending on where the value came from. */
void cfg_prop_err(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (o->from == FROM_FILE)
                cfg_add_err(ctx, "%s:%d: %s: %s", o->file, o->line, p->path, msg);
        else if (o->from == FROM_ENV)
                cfg_add_err(ctx, "%s (%s): %s", o->env, p->path, msg);
        else
                cfg_add_err(ctx, "%s: %s", p->path, msg);
}

/* Does a librdkafka property name (or a "name=value" item that failed to
 * split) say it holds a secret: sasl.password, ssl.key.password,
 * ssl.key.pem, sasl.oauthbearer.client.secret, ...? Its value is never
 * shown. */
bool cfg_kafka_prop_secret(const char *name)
{
        static const char *const words[] = {"password", "secret", "key"};

        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (strcasestr(name, words[i]))
                        return true;
        return false;
}

/* ---- the environment --------------------------------------------------- */

static const char *env_of(const prop_t *p)
{
        const char *v = p->env ? getenv(p->env) : NULL;

        /* An empty variable counts as unset, as compose files often pass
         * "${VAR:-}" through. */
        return v && *v ? v : NULL;
}

/* Secrets that may come from a file: the key, then the key of its file. */
static const char *const secret_pairs[][2] = {
    {"cxone.client_secret", "cxone.client_secret_file"},
    {"rate.peer_secret", "rate.peer_secret_file"},
    {"cxone.access_key_secret", "cxone.access_key_secret_file"},
};

static void load_env(ctx_t *ctx)
{
        for (size_t k = 0; k < sizeof(secret_pairs) / sizeof(secret_pairs[0]); k++) {
                const prop_t *sec = cfg_find_prop(secret_pairs[k][0]);
                const prop_t *secf = cfg_find_prop(secret_pairs[k][1]);

                /* The secret and its file are one setting in two forms: either
                 * form in the environment replaces both forms of the file. */
                if (env_of(sec) || env_of(secf)) {
                        cfg_set_str(ctx, sec, &ctx->orig[sec - cfg_props], "");
                        cfg_set_str(ctx, secf, &ctx->orig[secf - cfg_props], "");
                        ctx->orig[sec - cfg_props].from = FROM_DEFAULT;
                        ctx->orig[secf - cfg_props].from = FROM_DEFAULT;
                }
        }
        for (size_t i = 0; i < cfg_nprops; i++) {
                const prop_t *p = &cfg_props[i];
                const char *v = env_of(p);
                origin_t o = {FROM_ENV, NULL, 0, p->env};

                if (!v)
                        continue;
                if (strlen(v) > MAX_STR_BYTES) {
                        cfg_prop_err(ctx, p, &o, "longer than %d bytes", MAX_STR_BYTES);
                        continue;
                }
                if (cfg_set_text(ctx, p, &o, v) == 0)
                        ctx->orig[i] = o;
        }
}

/* ---- the profile -------------------------------------------------------- */

/* The profile's defaults (cfg_presets) replace the table's for every key
 * that neither the file nor the environment set. */
static void apply_profile(ctx_t *ctx)
{
        for (size_t i = 0; i < cfg_npresets; i++) {
                const preset_t *ps = &cfg_presets[i];
                const prop_t *p = cfg_find_prop(ps->path);

                if (!p || strcmp(ps->profile, ctx->cfg->profile) != 0 ||
                    ctx->orig[p - cfg_props].from != FROM_DEFAULT)
                        continue;
                if (cfg_set_text(ctx, p, &ctx->orig[p - cfg_props], ps->value) != 0)
                        ctx->oom = true; /* the presets always parse */
        }
}

/* ---- derived values and the secret file -------------------------------- */

/* Reads the secret of key name from the file named by key name_file. */
static void read_secret_file(ctx_t *ctx, const char *name, const char *name_file)
{
        const prop_t *sec = cfg_find_prop(name);
        const prop_t *secf = cfg_find_prop(name_file);
        const origin_t *so = &ctx->orig[sec - cfg_props],
                       *fo = &ctx->orig[secf - cfg_props];
        const char *path = *(char **)cfg_field(ctx->cfg, secf);
        char buf[MAX_SECRET_BYTES + 1];
        struct stat st;
        size_t len = 0;
        ssize_t n = 0;
        int fd;

        if (!*path)
                return;
        if (**(char **)cfg_field(ctx->cfg, sec)) {
                cfg_prop_err(ctx, secf, fo, "set only one of %s (%s) and %s (%s)%s",
                             sec->path, sec->env, secf->path, secf->env,
                             so->from == FROM_FILE ? " (the file sets both)" : "");
                return;
        }
        /* Only the worker uses the secrets; cxonectl need not reach the file. */
        if (ctx->purpose != CXW_CONFIG_FOR_WORKER)
                return;
        /* O_NONBLOCK: a FIFO without a writer must not hang the start. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
                cfg_prop_err(ctx, secf, fo, "cannot read '%.512s': %s", path,
                             strerror(errno));
                return;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                cfg_prop_err(ctx, secf, fo, "'%.512s' is not a regular file", path);
                goto out;
        }
        while (len < sizeof(buf)) {
                n = read(fd, buf + len, sizeof(buf) - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        if (n < 0) {
                cfg_prop_err(ctx, secf, fo, "cannot read '%.512s': %s", path,
                             strerror(errno));
                goto out;
        }
        if (len > MAX_SECRET_BYTES) {
                cfg_prop_err(ctx, secf, fo, "'%.512s' is larger than %d bytes", path,
                             MAX_SECRET_BYTES);
                goto out;
        }
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len > 0 && buf[len - 1] == '\r')
                len--;
        buf[len] = '\0';
        if (len == 0) {
                cfg_prop_err(ctx, secf, fo, "'%.512s' is empty", path);
                goto out;
        }
        if (memchr(buf, '\0', len)) {
                cfg_prop_err(ctx, secf, fo, "'%.512s' holds a NUL byte", path);
                goto out;
        }
        if (cfg_set_str(ctx, sec, fo, buf) == 0)
                ctx->orig[sec - cfg_props] = *fo;
out:
        explicit_bzero(buf, sizeof(buf));
        close(fd);
}

static void derive(ctx_t *ctx)
{
        cxw_config_t *cfg = ctx->cfg;
        const prop_t *tok = cfg_find_prop("cxone.token_url");
        const prop_t *wid = cfg_find_prop("worker.id");
        origin_t o = {FROM_DERIVED, NULL, 0, NULL};
        char buf[MAX_STR_BYTES + 64];

        /* With an issuer, an empty token_url is discovered (cxone profile). */
        if (!*cfg->token_url && !*cfg->issuer_url && *cfg->base_url) {
                size_t len = strlen(cfg->base_url);

                while (len > 0 && cfg->base_url[len - 1] == '/')
                        len--;
                snprintf(buf, sizeof(buf), "%.*s/oauth/token", (int)len, cfg->base_url);
                if (cfg_set_str(ctx, tok, &o, buf) == 0)
                        ctx->orig[tok - cfg_props] = o;
        }
        if (!*cfg->worker_id) {
                char host[256] = "localhost";

                if (gethostname(host, sizeof(host)) != 0 || !*host)
                        cxw_strlcpy(host, "localhost", sizeof(host));
                host[sizeof(host) - 1] = '\0';
                snprintf(buf, sizeof(buf), "%s-%ld", host, (long)getpid());
                if (cfg_set_str(ctx, wid, &o, buf) == 0)
                        ctx->orig[wid - cfg_props] = o;
        }
}

/* ---- public ------------------------------------------------------------ */

cxw_config_t *cxw_config_load(const char *path, cxw_config_purpose_t purpose,
                              cxw_config_errors_t *errs)
{
        cxw_config_errors_t scratch = {0};
        ctx_t *ctx = NULL;
        cxw_config_t *cfg = NULL;

        if (!errs)
                errs = &scratch;
        ctx = calloc(1, sizeof(*ctx) + cfg_nprops * sizeof(ctx->orig[0]));
        cfg = calloc(1, sizeof(*cfg));
        if (!ctx || !cfg)
                goto fail;
        ctx->cfg = cfg;
        ctx->errs = errs;
        ctx->purpose = purpose;
        if (path) {
                cfg->source = strdup(path);
                if (!cfg->source)
                        goto fail;
                ctx->path = cfg->source;
        }

        for (size_t i = 0; i < cfg_nprops; i++) {
                ctx->orig[i].from = FROM_DEFAULT;
                if (cfg_set_text(ctx, &cfg_props[i], &ctx->orig[i], cfg_props[i].def) !=
                    0)
                        ctx->oom = true; /* the table's defaults always parse */
        }
        if (ctx->oom)
                goto fail;
        /* A file that cannot be read or parsed is the one problem reported:
         * checking on without its keys would add false ones ("client_id is
         * required" for a key that is in the file). */
        if (!path || cfg_load_file(ctx, path) == 0) {
                load_env(ctx);
                apply_profile(ctx);
                for (size_t k = 0; k < sizeof(secret_pairs) / sizeof(secret_pairs[0]);
                     k++)
                        read_secret_file(ctx, secret_pairs[k][0], secret_pairs[k][1]);
                derive(ctx);
                cfg_validate(ctx);
        }
        if (ctx->dropped) {
                ctx->errs->cnt--; /* make room for the count */
                free(ctx->errs->v[ctx->errs->cnt]);
                ctx->dropped++;
                cfg_add_err(ctx, "... and %zu more problems", ctx->dropped);
        }
        cfg->from_env = calloc(cfg_nprops, sizeof(*cfg->from_env));
        if (!cfg->from_env)
                ctx->oom = true;
        for (size_t i = 0; cfg->from_env && i < cfg_nprops; i++)
                if (ctx->orig[i].from == FROM_ENV)
                        cfg->from_env[i] = ctx->orig[i].env; /* a table string */
        if (ctx->oom)
                goto fail;
        if (ctx->lc_live)
                config_destroy(&ctx->lc);
        free(ctx);
        cxw_config_errors_clear(&scratch);
        return cfg;
fail:
        if (ctx && ctx->lc_live)
                config_destroy(&ctx->lc);
        free(ctx);
        cxw_config_destroy(cfg);
        cxw_config_errors_clear(&scratch);
        return NULL;
}

void cxw_config_destroy(cxw_config_t *cfg)
{
        if (!cfg)
                return;
        for (size_t i = 0; i < cfg_nprops; i++) {
                const prop_t *p = &cfg_props[i];

                if (p->type == PT_STR) {
                        char **s = cfg_field(cfg, p);

                        if (*s && (p->flags & PF_SECRET))
                                explicit_bzero(*s, strlen(*s));
                        free(*s);
                } else if (p->type == PT_LIST) {
                        cfg_strlist_free(cfg_field(cfg, p));
                }
        }
        free(cfg->source);
        free(cfg->from_env);
        free(cfg);
}

void cxw_config_errors_clear(cxw_config_errors_t *errs)
{
        if (!errs)
                return;
        for (size_t i = 0; i < errs->cnt; i++)
                free(errs->v[i]);
        free(errs->v);
        errs->v = NULL;
        errs->cnt = 0;
}

int cxw_config_split_prop(const char *prop, char **name, char **value)
{
        char *copy, *eq;

        *name = NULL;
        *value = NULL;
        if (!prop || !(eq = strchr(prop, '=')) || eq == prop)
                return -1;
        copy = strdup(prop);
        if (!copy)
                return -1;
        eq = copy + (eq - prop);
        *eq = '\0';
        *name = copy;
        *value = eq + 1;
        return 0;
}

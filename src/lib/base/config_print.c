/* config_print.c: the reference (docs/configuration.md), the dump of a
 * loaded config (secrets hidden), the list of environment overrides, and
 * the warnings about a loaded config. */
#include "config_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reference and dump ------------------------------------------------ */

static const char *type_name(ptype_t t)
{
        switch (t) {
        case PT_STR:
                return "string";
        case PT_INT:
                return "integer";
        case PT_INT64:
                return "integer (64-bit)";
        case PT_DBL:
                return "number";
        case PT_BOOL:
                return "boolean";
        case PT_LIST:
                return "list of strings";
        }
        return "?";
}

static void print_rules(FILE *out, const prop_t *p)
{
        static const struct {
                int flag;
                const char *text;
        } rules[] = {
            {PF_NONEMPTY, "non-empty"},
            {PF_TOPIC, "topic name"},
            {PF_PROPS, "each `name=value`"},
            {PF_LOGLEVEL, "`error`, `warn`, `info`, `debug`"},
            {PF_ASSIGN, "`cooperative-sticky`, `eager`"},
            {PF_LISTEN, "empty or `HOST:PORT`"},
            {PF_URL, "`https://` URL; `http://` to loopback only, unless "
                     "`cxone.allow_insecure_http`"},
            {PF_REQUIRED, "required (worker)"},
            {PF_METHOD, "`PATCH`, `PUT`, `POST`"},
            {PF_CONTACTID, "contains `{contactId}`"},
            {PF_IDENTS, "non-empty; names of letters, digits, `_`"},
            {PF_VALUES, "non-empty; each 1-32 of letters, digits, `_`, `-`"},
            {PF_FILE, "readable file, at most 4 KiB"},
            {PF_EMPTYOK, "or empty"},
            {PF_IDENTMAP, "each `field=ident`, field in cxone.contacts.fields"},
            {PF_CAFILE, "empty or a readable file"},
            {PF_TENANT, "empty or 1-128 of letters, digits, `.`, `_`, `-`"},
            {PF_PREFIX, "empty or a path starting with `/`"},
            {PF_JSONKEY, "1-64 printable ASCII characters"},
        };
        const char *const *words = cfg_choice_words(p);
        const char *sep = "";

        if (p->type == PT_INT || p->type == PT_INT64 || p->type == PT_DBL) {
                fprintf(out, "%.15g..%.15g", p->min, p->max);
                return;
        }
        for (size_t i = 0; (p->flags & PF_CHOICE) && words && words[i]; i++) {
                fprintf(out, "%s`%s`", sep, words[i]);
                sep = ", ";
        }
        if (p->flags & PF_CHOICE)
                sep = "; ";
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                if (p->flags & rules[i].flag) {
                        fprintf(out, "%s%s", sep, rules[i].text);
                        sep = "; ";
                }
        }
}

static void print_default(FILE *out, const prop_t *p)
{
        if (p->doc_def) {
                fprintf(out, "`%s`", p->doc_def);
        } else if (p->type == PT_STR) {
                fprintf(out, "`\"%s\"`", p->def);
        } else if (p->type == PT_LIST) {
                const char *s = p->def;

                fputs("`[", out);
                while (*s) {
                        size_t len = strcspn(s, ",");

                        fprintf(out, "%s\"%.*s\"", s == p->def ? "" : ", ", (int)len, s);
                        s += len;
                        if (*s == ',')
                                s++;
                }
                fputs("]`", out);
        } else {
                fprintf(out, "`%s`", p->def);
        }
}

void cxw_config_print_reference(FILE *out)
{
        fputs("| Key | Type | Default | Range | Env | Description |\n"
              "|-----|------|---------|-------|-----|-------------|\n",
              out);
        for (size_t i = 0; i < cfg_nprops; i++) {
                const prop_t *p = &cfg_props[i];

                fprintf(out, "| `%s` | %s | ", p->path, type_name(p->type));
                print_default(out, p);
                fputs(" | ", out);
                print_rules(out, p);
                fputs(" | ", out);
                if (p->env)
                        fprintf(out, "`%s`", p->env);
                fprintf(out, " | %s |\n", p->desc);
        }
}

/* A string's characters in libconfig syntax, escaped, without quotes. */
static void print_quoted_body(FILE *out, const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\')
                        fprintf(out, "\\%c", c);
                else if (c < ' ' || c == 0x7f)
                        fprintf(out, "\\x%02x", c);
                else
                        fputc(c, out);
        }
}

/* A string in libconfig syntax, escaped. */
static void print_quoted(FILE *out, const char *s)
{
        fputc('"', out);
        print_quoted_body(out, s);
        fputc('"', out);
}

/* A librdkafka property whose name says it is a secret: "name=(set)". An
 * item without '=' (refused by the checks) is hidden whole. */
static void print_prop_hidden(FILE *out, const char *item, const char *eq)
{
        char name[MAX_STR_BYTES + 1];
        size_t len = eq ? (size_t)(eq - item) : 0;

        if (!eq || len >= sizeof(name)) {
                fputs("\"(hidden)\"", out);
                return;
        }
        memcpy(name, item, len);
        name[len] = '\0';
        if (!cfg_kafka_prop_secret(name)) { /* the word was in the value only */
                print_quoted(out, item);
                return;
        }
        fputc('"', out);
        print_quoted_body(out, name);
        fputs(eq[1] ? "=(set)\"" : "=(unset)\"", out);
}

void cxw_config_dump(const cxw_config_t *cfg, FILE *out)
{
        if (!cfg)
                return;
        fprintf(out, "# source: %s\n", cfg->source ? cfg->source : "(defaults)");
        for (size_t i = 0; i < cfg_nprops; i++) {
                const prop_t *p = &cfg_props[i];
                const void *f = cfg_cfield(cfg, p);

                fprintf(out, "%s = ", p->path);
                switch (p->type) {
                case PT_STR: {
                        const char *s = *(char *const *)f;

                        if (p->flags & PF_SECRET)
                                fputs(s && *s ? "(set)" : "(unset)", out);
                        else
                                print_quoted(out, s ? s : "");
                        break;
                }
                case PT_INT:
                        fprintf(out, "%d", *(const int *)f);
                        break;
                case PT_INT64:
                        fprintf(out, "%lld", (long long)*(const int64_t *)f);
                        break;
                case PT_DBL:
                        fprintf(out, "%.15g", *(const double *)f);
                        break;
                case PT_BOOL:
                        fputs(*(const bool *)f ? "true" : "false", out);
                        break;
                case PT_LIST: {
                        const cxw_strlist_t *l = f;

                        fputc('[', out);
                        for (size_t j = 0; j < l->cnt; j++) {
                                const char *eq = strchr(l->v[j], '=');

                                if (j)
                                        fputs(", ", out);
                                if ((p->flags & PF_PROPS) &&
                                    cfg_kafka_prop_secret(l->v[j]))
                                        print_prop_hidden(out, l->v[j], eq);
                                else
                                        print_quoted(out, l->v[j]);
                        }
                        fputc(']', out);
                        break;
                }
                }
                if (cfg->from_env && cfg->from_env[i])
                        fprintf(out, "  # env %s", cfg->from_env[i]);
                fputc('\n', out);
        }
}

void cxw_config_print_env(FILE *out, const char *indent)
{
        for (size_t i = 0; i < cfg_nprops; i++)
                if (cfg_props[i].env)
                        fprintf(out, "%s%-26s %s\n", indent, cfg_props[i].env,
                                cfg_props[i].path);
}

/* ---- warnings ------------------------------------------------------------ */

static int warn_add(cxw_config_errors_t *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int warn_add(cxw_config_errors_t *w, const char *fmt, ...)
{
        char *msg = NULL, **v;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        v = realloc(w->v, (w->cnt + 1) * sizeof(*v));
        if (!v) {
                free(msg);
                return -1;
        }
        v[w->cnt++] = msg;
        w->v = v;
        return 0;
}

/* Is gid the process's effective group or one of its supplementary ones? */
static bool own_group(gid_t gid)
{
        gid_t groups[256];
        int n = getgroups(256, groups);

        if (gid == getegid())
                return true;
        for (int i = 0; i < n; i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

/* A secret file others can read, or its group when the worker does not need
 * the group to read it (it owns the file, or the group is not its own:
 * Kubernetes' fsGroup with defaultMode 0440 is fine). */
static int warn_secret_file(const prop_t *p, const char *path, cxw_config_errors_t *w)
{
        struct stat st;

        if (!*path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                return 0; /* the load reported it */
        if (!(st.st_mode & S_IROTH) &&
            !((st.st_mode & S_IRGRP) &&
              (st.st_uid == geteuid() || !own_group(st.st_gid))))
                return 0;
        return warn_add(w,
                        "%s: '%.512s' is readable by %s (mode %04o): make it readable by "
                        "the worker alone, e.g. chmod 0400 (0440 with a group only the "
                        "worker is in)",
                        p->path, path, (st.st_mode & S_IROTH) ? "others" : "its group",
                        (unsigned)(st.st_mode & 07777));
}

int cxw_config_warnings(const cxw_config_t *cfg, cxw_config_errors_t *warns)
{
        for (size_t i = 0; i < cfg_nprops; i++) {
                const prop_t *p = &cfg_props[i];
                const char *v;

                if ((p->flags & PF_FILE) &&
                    warn_secret_file(p, *(char *const *)cfg_cfield(cfg, p), warns) != 0)
                        return -1;
                if (!(p->flags & PF_URL))
                        continue;
                v = *(char *const *)cfg_cfield(cfg, p);
                if (cfg->allow_insecure_http && v && cfg_url_ok(v) &&
                    cfg_url_cleartext_remote(v) &&
                    warn_add(
                        warns,
                        "%s: '%.256s' is http:// to a host that is not loopback, "
                        "allowed by cxone.allow_insecure_http: the client secret and "
                        "the access token cross the network in clear text",
                        p->path, v) != 0)
                        return -1;
        }
        return 0;
}

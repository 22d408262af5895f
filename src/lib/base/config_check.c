/* config_check.c: the checks of the loaded values, each row by its flags,
 * then the rules between keys. */
#include "config_int.h"
#include "cxone/base/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Shows a rejected value, unless it is the secret. Bounded. */
static const char *shown(const prop_t *p, const char *v)
{
        return (p->flags & PF_SECRET) ? "(hidden)" : v;
}

/* ---- checks ------------------------------------------------------------ */

bool cfg_url_ok(const char *u)
{
        const char *h, *end;

        if (!strncasecmp(u, "http://", 7))
                h = u + 7;
        else if (!strncasecmp(u, "https://", 8))
                h = u + 8;
        else
                return false;
        for (const char *c = u; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return false;
        end = h + strcspn(h, "/?#");
        if (memchr(h, '@', (size_t)(end - h)))
                return false; /* no credentials in URLs */
        if (*h == '[') {
                const char *rb = memchr(h, ']', (size_t)(end - h));

                if (!rb || rb == h + 1)
                        return false;
                h = rb + 1;
                if (h < end && *h != ':')
                        return false;
        } else {
                const char *colon = memchr(h, ':', (size_t)(end - h));

                if ((colon ? colon : end) == h)
                        return false;
                h = colon ? colon : end;
        }
        if (h < end) { /* ":port" */
                long port = 0;

                if (++h == end)
                        return false;
                for (; h < end; h++) {
                        if (!isdigit((unsigned char)*h))
                                return false;
                        port = port * 10 + (*h - '0');
                        if (port > 65535)
                                return false;
                }
                if (port == 0)
                        return false;
        }
        return true;
}

/* Is the host of a well-formed URL (url_ok) a loopback address? */
static bool url_host_loopback(const char *u)
{
        const char *h = strstr(u, "://") + 3;
        size_t len = strcspn(h, "/?#");
        char host[256];

        if (*h == '[') {
                const char *rb = memchr(h, ']', len);

                if (!rb)
                        return false;
                h++;
                len = (size_t)(rb - h);
        } else {
                const char *colon = memchr(h, ':', len);

                if (colon)
                        len = (size_t)(colon - h);
        }
        if (len == 0 || len >= sizeof(host))
                return false;
        memcpy(host, h, len);
        host[len] = '\0';
        return cxw_host_is_loopback(host);
}

/* http:// to a host that is not loopback: secrets in clear text. */
bool cfg_url_cleartext_remote(const char *u)
{
        return !strncasecmp(u, "http://", 7) && !url_host_loopback(u);
}

static bool topic_ok(const char *t)
{
        size_t len = strlen(t);

        if (len == 0 || len > 249 || !strcmp(t, ".") || !strcmp(t, ".."))
                return false;
        for (; *t; t++)
                if (!isalnum((unsigned char)*t) && !strchr("._-", *t))
                        return false;
        return true;
}

static bool ident_ok(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 64 || !(isalpha((unsigned char)*s) || *s == '_'))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_')
                        return false;
        return true;
}

/* An API value such as STRICT or AUTO_RESOLVE (CXW_SCHED_ENUM_MAX). */
static bool value_ok(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

static bool listen_ok(const char *s)
{
        const char *colon = strrchr(s, ':');
        long port = 0;

        if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5)
                return false;
        for (const char *c = colon + 1; *c; c++) {
                if (!isdigit((unsigned char)*c))
                        return false;
                port = port * 10 + (*c - '0');
        }
        return port <= 65535;
}

static void check_choice(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        const char *const *w = cfg_choice_words(p);
        char list[128] = "";

        for (size_t i = 0; w && w[i]; i++) {
                if (!strcmp(v, w[i]))
                        return;
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                         i ? ", " : "", w[i]);
        }
        cfg_prop_err(ctx, p, o, "'%.64s' is not one of %s", v, list);
}

/* A tenant id goes into a URL query: 1-128 of [A-Za-z0-9._-]. */
static bool tenant_ok(const char *s)
{
        size_t n = strlen(s);

        return n >= 1 && n <= 128 &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789._-") == n;
}

/* A path prefix: "/seg/seg", no dot segments, query, fragment or spaces. */
static bool prefix_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0)
                return true;
        if (s[0] != '/' || n > 256 || strstr(s, "/..") || strstr(s, "/./") ||
            strstr(s, "//"))
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789._-~/") == n;
}

/* A JSON member name or value of the job answers: 1-64 printable ASCII. */
static bool jsonkey_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
                        return false;
        return true;
}

/* The checks of the keys of the cxone profile (worker only). */
static void check_str_cxone(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        struct stat st;

        if ((p->flags & PF_TENANT) && *v && !tenant_ok(v))
                cfg_prop_err(ctx, p, o, "'%.256s' is not 1-128 of A-Z a-z 0-9 . _ -", v);
        if ((p->flags & PF_PREFIX) && !prefix_ok(v))
                cfg_prop_err(ctx, p, o,
                             "'%.256s' is not a path: '/' then letters, digits, . _ - ~ "
                             "/ (no '..', no '//')",
                             v);
        if ((p->flags & PF_JSONKEY) && !jsonkey_ok(v))
                cfg_prop_err(ctx, p, o, "must be 1-64 printable ASCII characters");
        if ((p->flags & PF_CAFILE) && *v &&
            (stat(v, &st) != 0 || !S_ISREG(st.st_mode) || access(v, R_OK) != 0))
                cfg_prop_err(ctx, p, o, "'%.512s' is not a readable file", v);
}

/* A custom field's ident: 1-64 of [A-Za-z0-9_.-]. */
static bool dfo_ident_ok(const char *s)
{
        size_t n = strlen(s);

        return n >= 1 && n <= 64 &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789_.-") == n;
}

static void check_identmap(ctx_t *ctx, const prop_t *p, const origin_t *o,
                           const cxw_strlist_t *l)
{
        const cxw_strlist_t *fields = &ctx->cfg->contact_fields;

        for (size_t i = 0; i < l->cnt; i++) {
                char *name = NULL, *value = NULL;
                bool known = false;

                if (cxw_config_split_prop(l->v[i], &name, &value) != 0) {
                        cfg_prop_err(ctx, p, o, "item %zu: '%.256s' is not field=ident",
                                     i + 1, l->v[i]);
                        continue;
                }
                for (size_t k = 0; k < fields->cnt; k++)
                        known = known || !strcmp(fields->v[k], name);
                if (!known)
                        cfg_prop_err(ctx, p, o,
                                     "item %zu: '%.64s' is not in cxone.contacts.fields",
                                     i + 1, name);
                if (!dfo_ident_ok(value))
                        cfg_prop_err(ctx, p, o,
                                     "item %zu: ident '%.64s' is not 1-64 of A-Z a-z 0-9 "
                                     "_ . -",
                                     i + 1, value);
                for (size_t k = 0; k < i; k++)
                        if (!strncmp(l->v[k], name, strlen(name)) &&
                            l->v[k][strlen(name)] == '=')
                                cfg_prop_err(ctx, p, o,
                                             "item %zu: '%.64s' is mapped twice", i + 1,
                                             name);
                free(name);
        }
}

/* The rules between the keys of the cxone profile: what discovery cannot
 * give must be set. */
static void check_cxone_rules(ctx_t *ctx)
{
        const cxw_config_t *cfg = ctx->cfg;
        bool issuer = *cfg->issuer_url != '\0';

        if (!issuer && !*cfg->base_url)
                cfg_add_err(ctx,
                            "cxone.base_url (or CXONE_BASE_URL) is empty: set it, or "
                            "cxone.issuer_url (CXONE_ISSUER_URL) to discover it");
        if (!issuer && !*cfg->token_url)
                cfg_add_err(ctx, "cxone.token_url (or CXONE_TOKEN_URL) is empty: set it, "
                                 "or cxone.issuer_url (CXONE_ISSUER_URL) to discover it");
        if (!issuer && !strcmp(cfg->contacts_target, "dfo-custom-fields") &&
            !*cfg->dfo_base_url)
                cfg_add_err(ctx,
                            "cxone.contacts.target dfo-custom-fields needs "
                            "cxone.dfo_base_url (CXONE_DFO_BASE_URL) or cxone.issuer_url "
                            "(CXONE_ISSUER_URL) to discover it");
        if (!strcmp(cfg->contacts_target, "address-book")) {
                const char *id = cfg->address_book_id;
                size_t n =
                    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_-");

                if (!*id)
                        cfg_add_err(ctx,
                                    "cxone.address_book_id (or CXONE_ADDRESS_BOOK_ID) "
                                    "is required by cxone.contacts.target "
                                    "address-book");
                else if (id[n] || n > 64)
                        cfg_add_err(
                            ctx,
                            "cxone.address_book_id '%.64s' is not 1-64 of A-Z a-z "
                            "0-9 _ -",
                            id);
        }
        if (!strcmp(cfg->auth_grant, "password")) {
                if (!*cfg->access_key_id)
                        cfg_add_err(ctx,
                                    "cxone.access_key_id (or CXONE_ACCESS_KEY_ID) is "
                                    "required by cxone.auth.grant = password");
                if (!*cfg->access_key_secret && !*cfg->access_key_secret_file)
                        cfg_add_err(
                            ctx, "cxone.access_key_secret (or CXONE_ACCESS_KEY_SECRET / "
                                 "CXONE_ACCESS_KEY_SECRET_FILE) is required by "
                                 "cxone.auth.grant = password");
        }
}

static void check_str(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v,
                      bool worker)
{
        if ((p->flags & PF_NONEMPTY) && !*v)
                cfg_prop_err(ctx, p, o, "must not be empty");
        if ((p->flags & PF_TOPIC) && *v && !topic_ok(v))
                cfg_prop_err(
                    ctx, p, o,
                    "'%.256s' is not a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)", v);
        if ((p->flags & PF_LOGLEVEL) && strcmp(v, "error") && strcmp(v, "warn") &&
            strcmp(v, "info") && strcmp(v, "debug"))
                cfg_prop_err(ctx, p, o, "'%.64s' is not one of error, warn, info, debug",
                             v);
        if ((p->flags & PF_ASSIGN) && strcmp(v, "cooperative-sticky") &&
            strcmp(v, "eager"))
                cfg_prop_err(ctx, p, o, "'%.64s' is not one of cooperative-sticky, eager",
                             v);
        if (p->flags & PF_CHOICE)
                check_choice(ctx, p, o, v);
        if ((p->flags & PF_LISTEN) && *v && !listen_ok(v))
                cfg_prop_err(ctx, p, o, "'%.256s' is not HOST:PORT (empty turns it off)",
                             v);
        if (!worker)
                return;
        /* A secret file that failed to give a secret has said so already. */
        if ((p->flags & PF_REQUIRED) && !*v &&
            !((p->flags & PF_SECRET) && *ctx->cfg->client_secret_file)) {
                const char *where = o->from == FROM_FILE ? o->file : NULL;

                if (where)
                        cfg_add_err(ctx, "%s:%d: %s (or %s%s) is required", where,
                                    o->line, p->path, p->env,
                                    (p->flags & PF_SECRET) ? " / CXONE_CLIENT_SECRET_FILE"
                                                           : "");
                else
                        cfg_add_err(ctx, "%s (or %s%s) is required", p->path, p->env,
                                    (p->flags & PF_SECRET) ? " / CXONE_CLIENT_SECRET_FILE"
                                                           : "");
        }
        /* An empty URL is discovered (with an issuer) or off (PF_EMPTYOK);
         * check_cxone_rules says which are needed and how to get them. */
        if ((p->flags & PF_URL) && !*v)
                ; /* nothing to check */
        /* A derived URL is only as good as base_url, which is checked itself. */
        else if ((p->flags & PF_URL) && o->from != FROM_DERIVED && !cfg_url_ok(v))
                cfg_prop_err(ctx, p, o,
                             "'%.256s' is not an http:// or https:// URL with a host",
                             shown(p, v));
        else if ((p->flags & PF_URL) && o->from != FROM_DERIVED &&
                 cfg_url_cleartext_remote(v) && !ctx->cfg->allow_insecure_http)
                cfg_prop_err(
                    ctx, p, o,
                    "'%.256s' is http:// to a host that is not loopback: the client "
                    "secret and the access token would cross the network in clear "
                    "text; use https://, or set cxone.allow_insecure_http = true "
                    "(CXONE_ALLOW_INSECURE_HTTP=true) to allow it",
                    v);
        if ((p->flags & PF_METHOD) && strcmp(v, "PATCH") && strcmp(v, "PUT") &&
            strcmp(v, "POST"))
                cfg_prop_err(ctx, p, o, "'%.64s' is not one of PATCH, PUT, POST", v);
        if ((p->flags & PF_CONTACTID) && (v[0] != '/' || !strstr(v, "{contactId}")))
                cfg_prop_err(ctx, p, o,
                             "'%.256s' must start with '/' and contain {contactId}", v);
        check_str_cxone(ctx, p, o, v);
}

static void check_list(ctx_t *ctx, const prop_t *p, const origin_t *o,
                       const cxw_strlist_t *l, bool worker)
{
        if ((p->flags & PF_NONEMPTY) && l->cnt == 0)
                cfg_prop_err(ctx, p, o, "must not be empty");
        for (size_t i = 0; (p->flags & PF_PROPS) && i < l->cnt; i++) {
                char *name = NULL, *value = NULL;

                if (cxw_config_split_prop(l->v[i], &name, &value) != 0)
                        cfg_prop_err(
                            ctx, p, o, "item %zu: '%.256s' is not name=value", i + 1,
                            cfg_kafka_prop_secret(l->v[i]) ? "(hidden)" : l->v[i]);
                free(name);
        }
        for (size_t i = 0; worker && (p->flags & PF_VALUES) && i < l->cnt; i++)
                if (!value_ok(l->v[i]))
                        cfg_prop_err(ctx, p, o,
                                     "item %zu: '%.64s' is not 1-32 of A-Z a-z 0-9 _ -",
                                     i + 1, l->v[i]);
        if (worker && (p->flags & PF_VALUES) && l->cnt == 0)
                cfg_prop_err(ctx, p, o, "must name at least one value");
        if (worker && (p->flags & PF_IDENTMAP))
                check_identmap(ctx, p, o, l);
        if (!worker || !(p->flags & PF_IDENTS))
                return;
        if (l->cnt == 0)
                cfg_prop_err(ctx, p, o, "must name at least one field");
        for (size_t i = 0; i < l->cnt; i++) {
                if (!ident_ok(l->v[i]))
                        cfg_prop_err(
                            ctx, p, o,
                            "item %zu: '%.64s' is not a field name (letters, digits, _; "
                            "at most 64)",
                            i + 1, l->v[i]);
                else if (!strcmp(l->v[i], "contactId"))
                        cfg_prop_err(ctx, p, o,
                                     "contactId is the key and cannot be a field");
        }
}

/* Room a DLQ copy needs beside the request's value: its key, the request's
 * headers, the dlq-* headers (the reason up to 1 KiB) and librdkafka's
 * per-record overhead. */
#define DLQ_ROOM             16384
#define PRODUCER_MAX_DEFAULT 1000000LL /* librdkafka's message.max.bytes */

/* The producer's message.max.bytes as librdkafka will apply it: the last
 * setting in kafka.properties, then kafka.producer_properties. */
static long long producer_max_bytes(const cxw_config_t *cfg)
{
        const cxw_strlist_t *lists[2] = {&cfg->kafka_props, &cfg->producer_props};
        long long v = PRODUCER_MAX_DEFAULT;

        for (int l = 0; l < 2; l++) {
                for (size_t i = 0; i < lists[l]->cnt; i++) {
                        static const char name[] = "message.max.bytes=";
                        const char *s = lists[l]->v[i];
                        char *end;
                        long long n;

                        if (strncmp(s, name, sizeof(name) - 1) != 0)
                                continue;
                        n = strtoll(s + sizeof(name) - 1, &end, 10);
                        if (*end == '\0' && n > 0)
                                v = n; /* a bad value is librdkafka's to refuse */
                }
        }
        return v;
}

void cfg_validate(ctx_t *ctx)
{
        bool worker = ctx->purpose == CXW_CONFIG_FOR_WORKER;
        const cxw_config_t *cfg = ctx->cfg;

        for (size_t i = 0; i < cfg_nprops; i++) {
                const prop_t *p = &cfg_props[i];

                if (p->type == PT_STR)
                        check_str(ctx, p, &ctx->orig[i],
                                  *(char *const *)cfg_cfield(cfg, p), worker);
                else if (p->type == PT_LIST)
                        check_list(ctx, p, &ctx->orig[i], cfg_cfield(cfg, p), worker);
        }
        if (worker)
                check_cxone_rules(ctx);
        if (cfg->retry_base_delay_ms > cfg->retry_max_delay_ms) {
                const prop_t *p = cfg_find_prop("retry.max_delay_ms");

                cfg_prop_err(ctx, p, &ctx->orig[p - cfg_props],
                             "%d is less than retry.base_delay_ms (%d)",
                             cfg->retry_max_delay_ms, cfg->retry_base_delay_ms);
        }
        /* A derived worker.id holds the pid: a new member at every restart. */
        if (worker && cfg->kafka_static_membership) {
                const prop_t *p = cfg_find_prop("worker.id");

                if (ctx->orig[p - cfg_props].from == FROM_DERIVED) {
                        const prop_t *s = cfg_find_prop("kafka.static_membership");

                        cfg_prop_err(ctx, s, &ctx->orig[s - cfg_props],
                                     "needs worker.id (or CXONE_WORKER_ID) set to a name "
                                     "that stays the same across restarts; the derived "
                                     "'%.256s' changes with every start",
                                     cfg->worker_id);
                }
        }
        if (worker &&
            cfg->max_message_bytes + (long long)DLQ_ROOM > producer_max_bytes(cfg)) {
                const prop_t *p = cfg_find_prop("limits.max_message_bytes");
                long long max = producer_max_bytes(cfg);

                cfg_prop_err(
                    ctx, p, &ctx->orig[p - cfg_props],
                    "%d plus %d bytes for its DLQ copy's key and headers exceeds the "
                    "producer's message.max.bytes (%lld): set it to at most %lld, "
                    "or raise message.max.bytes in kafka.producer_properties (and "
                    "the topics' max.message.bytes on the brokers)",
                    cfg->max_message_bytes, DLQ_ROOM, max, max - DLQ_ROOM);
        }
}

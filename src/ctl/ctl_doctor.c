/* ctl_doctor.c: `cxonectl doctor`: with the worker's configuration and
 * environment, finds the tenant's endpoints, logs in, and checks that the
 * custom fields the ident map names exist; one blocking call at a time
 * (libcurl easy), through the same discovery, login and target modules as
 * the worker. Prints what it found, never a token or a secret, and ends
 * with exactly one line "doctor: OK" or "doctor: FAILED: <what, and what
 * to fix>". */
#include "ctl.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/util.h"
#include "cxone/io/discovery.h"
#include "cxone/io/token.h"
#include "cxone/requests/target.h"

#define BODY_MAX        (1024 * 1024) /* any answer read */
#define MAX_DEFINITIONS 10000

typedef struct body_s {
        char *buf;
        size_t len;
        int truncated;
} body_t;

typedef struct doctor_s {
        const cxw_config_t *cfg;
        char failure[1024]; /* the first failure; "" while all is well */
} doctor_t;

static void wipe_body(body_t *b)
{
        if (b->buf) {
                explicit_bzero(b->buf, b->len);
                free(b->buf);
        }
        memset(b, 0, sizeof(*b));
}

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
        body_t *b = opaque;
        size_t len = size * n, keep = len;
        char *grown;

        if (b->len + keep > BODY_MAX) {
                keep = BODY_MAX - b->len;
                b->truncated = 1;
        }
        if (keep == 0)
                return len;
        grown = malloc(b->len + keep + 1); /* a copy: the old one is wiped */
        if (!grown)
                return 0;
        if (b->buf)
                memcpy(grown, b->buf, b->len);
        memcpy(grown + b->len, data, keep);
        grown[b->len + keep] = '\0';
        if (b->buf) {
                explicit_bzero(b->buf, b->len);
                free(b->buf);
        }
        b->buf = grown;
        b->len += keep;
        return len;
}

static void fail(doctor_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(doctor_t *d, const char *fmt, ...)
{
        va_list ap;

        if (d->failure[0])
                return;
        va_start(ap, fmt);
        vsnprintf(d->failure, sizeof(d->failure), fmt, ap);
        va_end(ap);
}

/* One call: GET, or POST of form (with auth, a header line, or NULL); a
 * bearer token for an API call. @returns the HTTP status, or 0 with err. */
static long call(const doctor_t *d, const char *url, const char *form, const char *auth,
                 const char *bearer, body_t *b, char *err, size_t err_size)
{
        CURL *e = curl_easy_init();
        struct curl_slist *h = NULL;
        char ebuf[CURL_ERROR_SIZE] = "";
        char *line = NULL;
        long status = 0;
        CURLcode rc;

        memset(b, 0, sizeof(*b));
        if (!e) {
                cxw_set_err(err, err_size, "out of memory");
                return 0;
        }
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)d->cfg->connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)d->cfg->token_timeout_ms);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
        if (*d->cfg->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, d->cfg->ca_file);
        if (auth)
                h = curl_slist_append(h, auth);
        if (bearer && asprintf(&line, "Authorization: Bearer %s", bearer) > 0)
                h = curl_slist_append(h, line);
        h = curl_slist_append(h, "Accept: application/json");
        if (form) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
                h = curl_slist_append(h,
                                      "Content-Type: application/x-www-form-urlencoded");
        }
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        rc = curl_easy_perform(e);
        if (rc != CURLE_OK)
                cxw_set_err(err, err_size, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
        else
                curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h); /* its copies of the lines: freed, as curl keeps them */
        if (line) {
                explicit_bzero(line, strlen(line));
                free(line);
        }
        curl_easy_cleanup(e);
        return rc == CURLE_OK ? status : 0;
}

static cxw_disc_http_t http_mode(const cxw_config_t *cfg)
{
        return cfg->allow_insecure_http                  ? CXW_DISC_HTTP_ANY
               : strncmp(cfg->issuer_url, "https://", 8) ? CXW_DISC_HTTP_LOOPBACK
                                                         : CXW_DISC_HTTPS_ONLY;
}

/* The token endpoint: configured, or from the issuer. */
static int find_token_endpoint(doctor_t *d, char *te, size_t size)
{
        const cxw_config_t *cfg = d->cfg;
        char err[512], *url;
        body_t b;
        long st;

        if (*cfg->token_url) {
                cxw_strlcpy(te, cfg->token_url, size);
                printf("token endpoint: %s (configured)\n", te);
                return 0;
        }
        url = cxw_discovery_openid_url(cfg->issuer_url);
        if (!url) {
                fail(d, "out of memory");
                return -1;
        }
        st = call(d, url, NULL, NULL, NULL, &b, err, sizeof(err));
        if (st == 0)
                fail(
                    d,
                    "cannot reach %s: %s; check cxone.issuer_url (CXONE_ISSUER_URL), the "
                    "network and cxone.ca_file (CXONE_CA_FILE)",
                    url, err);
        else if (st != 200)
                fail(d, "%s answered HTTP %ld; check cxone.issuer_url (CXONE_ISSUER_URL)",
                     url, st);
        else if (cxw_discovery_parse_openid(b.buf, b.len, cfg->issuer_url, http_mode(cfg),
                                            te, size, err, sizeof(err)) != 0)
                fail(d, "%s; check cxone.issuer_url (CXONE_ISSUER_URL)", err);
        else
                printf("token endpoint: %s (discovered)\n", te);
        free(url);
        wipe_body(&b);
        return d->failure[0] ? -1 : 0;
}

/* Logs in; token receives the cache holding the access token. */
static int login(doctor_t *d, const char *te, int need_tenant, cxw_token_t **token)
{
        const cxw_config_t *cfg = d->cfg;
        cxw_token_login_t l = {0};
        char *form = NULL, *auth = NULL, err[512];
        body_t b = {0};
        long st;

        *token = cxw_token_new(cfg->token_refresh_ahead_ms, 1, 1);
        if (!*token || cxw_token_grant_parse(cfg->auth_grant, &l.grant) != 0 ||
            cxw_token_client_auth_parse(cfg->client_auth, &l.client_auth) != 0) {
                fail(d, "out of memory");
                return -1;
        }
        cxw_token_require_tenant(*token, need_tenant);
        l.client_id = cfg->client_id;
        l.client_secret = cfg->client_secret;
        l.username = cfg->access_key_id;
        l.password = cfg->access_key_secret;
        l.scope = cfg->scope;
        printf("login: %s grant, client %s (%s)%s%s\n", cfg->auth_grant, cfg->client_id,
               cfg->client_auth,
               l.grant == CXW_TOKEN_GRANT_PASSWORD ? ", access key " : "",
               l.grant == CXW_TOKEN_GRANT_PASSWORD ? cfg->access_key_id : "");
        if (cxw_token_login_request(&l, &form, &auth, err, sizeof(err)) != 0) {
                fail(d, "%s", err);
                return -1;
        }
        st = call(d, te, form, auth, NULL, &b, err, sizeof(err));
        if (st == 0)
                fail(d,
                     "cannot reach the token endpoint %s: %s; check the network and "
                     "cxone.ca_file (CXONE_CA_FILE)",
                     te, err);
        else if (cxw_token_fetch_done(*token, st, b.buf, b.len, cxw_now_ms(), err,
                                      sizeof(err)) != 0)
                fail(
                    d,
                    "login refused: %s; check cxone.client_id and the client secret "
                    "(CXONE_CLIENT_ID, CXONE_CLIENT_SECRET), %scxone.auth.client_auth",
                    err,
                    l.grant == CXW_TOKEN_GRANT_PASSWORD
                        ? "the access key (CXONE_ACCESS_KEY_ID, CXONE_ACCESS_KEY_SECRET) "
                          "and "
                        : "");
        else
                printf("login: OK, token lifetime %lld s\n",
                       (long long)(cxw_token_lifetime_ms(*token) / 1000));
        wipe_body(&b);
        explicit_bzero(form, strlen(form));
        free(form);
        if (auth) {
                explicit_bzero(auth, strlen(auth));
                free(auth);
        }
        return d->failure[0] ? -1 : 0;
}

/* The API and DFO bases: configured, or from the tenant's configuration. */
static int find_hosts(doctor_t *d, const char *tenant, int dfo, char *api, char *dfo_base,
                      size_t size)
{
        const cxw_config_t *cfg = d->cfg;
        cxw_cxone_hosts_t h;
        char err[512], *url;
        body_t b;
        long st;

        if (*cfg->base_url && (!dfo || *cfg->dfo_base_url)) {
                snprintf(api, size, "%s%s", cfg->base_url, cfg->admin_prefix);
                cxw_strlcpy(dfo_base, cfg->dfo_base_url, size);
                printf("API base: %s (configured)\n", api);
                if (dfo)
                        printf("DFO base: %s (configured)\n", dfo_base);
                return 0;
        }
        url = cxw_discovery_cxone_url(cfg->issuer_url, tenant);
        if (!url) {
                fail(d, "tenant id '%.128s' cannot go into a URL; check cxone.tenant_id",
                     tenant);
                return -1;
        }
        st = call(d, url, NULL, NULL, NULL, &b, err, sizeof(err));
        if (st == 0)
                fail(d, "cannot reach %s: %s", url, err);
        else if (st != 200)
                fail(d,
                     "%s answered HTTP %ld; check the tenant id (cxone.tenant_id, or the "
                     "id_token's tenantId) and cxone.issuer_url",
                     url, st);
        else if (cxw_discovery_parse_cxone(b.buf, b.len, http_mode(cfg), &h, err,
                                           sizeof(err)) != 0)
                fail(d, "%s", err);
        free(url);
        wipe_body(&b);
        if (d->failure[0])
                return -1;
        printf("hosts: area %s, domain %s%s%s\n", h.area, h.domain,
               h.cluster[0] ? ", cluster " : "", h.cluster);
        snprintf(api, size, "%s%s", *cfg->base_url ? cfg->base_url : h.api_endpoint,
                 cfg->admin_prefix);
        printf("API base: %s (%s)\n", api, *cfg->base_url ? "configured" : "discovered");
        if (dfo) {
                cxw_strlcpy(dfo_base, *cfg->dfo_base_url ? cfg->dfo_base_url : h.dfo_base,
                            size);
                printf("DFO base: %s (%s)\n", dfo_base,
                       *cfg->dfo_base_url ? "configured" : "discovered");
        }
        return 0;
}

/* The idents defined: {"definitions":[{"ident"},...]} or a bare array. */
static json_t *definitions(doctor_t *d, const body_t *b)
{
        json_t *j = json_loadb(b->buf ? b->buf : "", b->len, 0, NULL);
        json_t *arr = json_is_object(j) ? json_object_get(j, "definitions") : j;

        if (!json_is_array(arr) || json_array_size(arr) > MAX_DEFINITIONS) {
                fail(d,
                     "the custom field definitions are not a JSON array (or "
                     "{\"definitions\": [...]}) of at most %d",
                     MAX_DEFINITIONS);
                json_decref(j);
                return NULL;
        }
        json_incref(arr);
        json_decref(j);
        return arr;
}

static int defined(json_t *arr, const char *ident)
{
        size_t i;
        json_t *v;

        json_array_foreach(arr, i, v)
        {
                const char *s = json_string_value(json_object_get(v, "ident"));

                if (s && !strcmp(s, ident))
                        return 1;
        }
        return 0;
}

/* Every field a message may carry has its custom field in the tenant. */
static void check_idents(doctor_t *d, const char *dfo_base, const char *bearer)
{
        const cxw_config_t *cfg = d->cfg;
        char url[CXW_DISCOVERY_URL_MAX + 64], err[512];
        json_t *arr = NULL;
        body_t b;
        long st;

        snprintf(url, sizeof(url), "%s/dfo/3.0/customers/custom-field-definitions",
                 dfo_base);
        st = call(d, url, NULL, NULL, bearer, &b, err, sizeof(err));
        if (st == 0)
                fail(d, "cannot reach %s: %s", url, err);
        else if (st != 200)
                fail(d,
                     "%s answered HTTP %ld; check that the access key's user may read "
                     "Digital custom fields",
                     url, st);
        else
                arr = definitions(d, &b);
        wipe_body(&b);
        if (!arr)
                return;
        printf("custom fields defined: %zu\n", json_array_size(arr));
        for (size_t i = 0; i < cfg->contact_fields.cnt; i++) {
                const char *field = cfg->contact_fields.v[i], *ident = NULL;
                size_t n = strlen(field);

                for (size_t k = 0; k < cfg->contact_idents.cnt; k++)
                        if (!strncmp(cfg->contact_idents.v[k], field, n) &&
                            cfg->contact_idents.v[k][n] == '=')
                                ident = cfg->contact_idents.v[k] + n + 1;
                if (!ident && cfg->contact_idents.cnt)
                        continue; /* not mapped: such an update is rejected */
                if (!ident)
                        ident = field;
                if (defined(arr, ident)) {
                        printf("field %s -> ident %s: defined\n", field, ident);
                } else {
                        printf("field %s -> ident %s: NOT defined\n", field, ident);
                        fail(d,
                             "custom field '%s' (for %s) is not defined in the tenant; "
                             "create it in CXone (Digital, custom fields) or map %s to "
                             "another ident in cxone.contacts.idents",
                             ident, field, field);
                }
        }
        json_decref(arr);
}

/* The address-book target: the configured book exists (GET of it). */
static void check_address_book(doctor_t *d, const char *api, const char *bearer)
{
        const cxw_config_t *cfg = d->cfg;
        char url[CXW_DISCOVERY_URL_MAX + 400], err[512];
        size_t n = strlen(api);
        json_t *j = NULL;
        body_t b;
        long st;

        while (n > 0 && api[n - 1] == '/')
                n--;
        snprintf(url, sizeof(url), "%.*s/address-books/%s", (int)n, api,
                 cfg->address_book_id);
        st = call(d, url, NULL, NULL, bearer, &b, err, sizeof(err));
        if (st == 0) {
                fail(d, "cannot reach %s: %s", url, err);
        } else if (st == 404) {
                printf("address book %s: NOT found\n", cfg->address_book_id);
                fail(d,
                     "address book %s does not exist in the tenant (%s answered HTTP "
                     "404); check cxone.address_book_id (CXONE_ADDRESS_BOOK_ID), or "
                     "create "
                     "a dynamic address book in CXone",
                     cfg->address_book_id, url);
        } else if (st != 200) {
                fail(d,
                     "%s answered HTTP %ld; check that the access key's user may read "
                     "address books",
                     url, st);
        } else {
                j = b.len ? json_loadb(b.buf, b.len, 0, NULL) : NULL;
                if (!json_is_object(j))
                        fail(d, "%s answered 200 with a body that is not a JSON object",
                             url);
                else
                        printf("address book %s: exists\n", cfg->address_book_id);
        }
        json_decref(j);
        wipe_body(&b);
}

static void run(doctor_t *d)
{
        const cxw_config_t *cfg = d->cfg;
        char te[CXW_DISCOVERY_URL_MAX], api[CXW_DISCOVERY_URL_MAX + 300],
            dfo_base[CXW_DISCOVERY_URL_MAX + 300] = "";
        int dfo = !strcmp(cfg->contacts_target, "dfo-custom-fields");
        int need_hosts = !*cfg->base_url || (dfo && !*cfg->dfo_base_url);
        cxw_token_t *token = NULL;
        const char *tenant, *bearer;

        printf("profile: %s, contacts target: %s\n", cfg->profile, cfg->contacts_target);
        printf("issuer: %s\n", *cfg->issuer_url ? cfg->issuer_url : "(none)");
        if (find_token_endpoint(d, te, sizeof(te)) != 0)
                return;
        if (login(d, te, need_hosts && !*cfg->tenant_id, &token) != 0)
                goto out;
        tenant = *cfg->tenant_id ? cfg->tenant_id : cxw_token_tenant_id(token);
        printf("tenant id: %s%s\n", *tenant ? tenant : "(not named)",
               *cfg->tenant_id ? " (configured)"
               : *tenant       ? " (from the id_token)"
                               : "");
        if (find_hosts(d, tenant, dfo, api, dfo_base, sizeof(api)) != 0)
                goto out;
        bearer = cxw_token_get(token, cxw_now_ms(), NULL);
        if (dfo && bearer)
                check_idents(d, dfo_base, bearer);
        if (!strcmp(cfg->contacts_target, "address-book") && bearer)
                check_address_book(d, api, bearer);
out:
        cxw_token_destroy(token);
}

void ctl_doctor_config_failed(const cxw_config_errors_t *errs)
{
        printf("doctor: FAILED: configuration: %s (see docs/configuration.md)\n",
               errs->cnt ? errs->v[0] : "?");
}

int ctl_doctor_main(const cxw_config_t *cfg, int argc, char **argv)
{
        doctor_t d = {0};

        if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
                printf("usage: cxonectl [-c FILE] doctor\n"
                       "  with the worker's configuration and environment: discover the\n"
                       "  tenant's endpoints, log in, check the custom fields of\n"
                       "  cxone.contacts.idents (dfo-custom-fields) or that the\n"
                       "  address book exists (address-book); the last line is\n"
                       "  \"doctor: OK\" (exit 0) or \"doctor: FAILED: ...\" (exit 1).\n"
                       "  See docs/cxone.md.\n");
                return CTL_EXIT_OK;
        }
        if (argc > 1) {
                fprintf(stderr, "cxonectl: doctor takes no arguments ('%s')\n", argv[1]);
                return CTL_EXIT_ERROR;
        }
        d.cfg = cfg;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        run(&d);
        curl_global_cleanup();
        fflush(stdout);
        if (d.failure[0]) {
                printf("doctor: FAILED: %s\n", d.failure);
                return CTL_EXIT_ERROR;
        }
        printf("doctor: OK\n");
        return CTL_EXIT_OK;
}

/* discovery.c: the OpenID and CXone configuration documents of a tenant,
 * read and checked (a pure parser; the caller does the I/O). */
#include "cxone/io/discovery.h"
#include "cxone/base/util.h"
#include "cxone/io/token.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* A URL split at its parts: pointers into the checked string. */
typedef struct url_parts_s {
        int https;
        const char *host; /* without [] for IPv6 */
        size_t host_len;
        long port;        /* 0 = the scheme's */
        const char *path; /* "" or "/..." */
} url_parts_t;

static int split_url(const char *u, url_parts_t *p, char *errstr, size_t errstr_size)
{
        const char *h, *end, *hp_end;
        size_t len = strlen(u);

        memset(p, 0, sizeof(*p));
        if (len == 0 || len >= CXW_DISCOVERY_URL_MAX) {
                cxw_set_err(errstr, errstr_size, "URL is empty or over %d bytes",
                            CXW_DISCOVERY_URL_MAX - 1);
                return -1;
        }
        if (!strncasecmp(u, "https://", 8)) {
                p->https = 1;
                h = u + 8;
        } else if (!strncasecmp(u, "http://", 7)) {
                h = u + 7;
        } else {
                cxw_set_err(errstr, errstr_size, "'%.200s' is not an https:// URL", u);
                return -1;
        }
        end = h + strcspn(h, "/");
        if (strpbrk(u, "?#@\\ \t\r\n") || strspn(u, ALNUM "-._~:/[]%") != len) {
                cxw_set_err(errstr, errstr_size,
                            "'%.200s' holds user info, a query, a fragment or characters "
                            "not allowed here",
                            u);
                return -1;
        }
        if (*h == '[') {
                const char *rb = memchr(h, ']', (size_t)(end - h));

                if (!rb || rb == h + 1 ||
                    strspn(h + 1, "0123456789abcdefABCDEF:.") != (size_t)(rb - h - 1))
                        goto bad_host;
                p->host = h + 1;
                p->host_len = (size_t)(rb - h - 1);
                hp_end = rb + 1;
        } else {
                const char *colon = memchr(h, ':', (size_t)(end - h));

                hp_end = colon ? colon : end;
                p->host = h;
                p->host_len = (size_t)(hp_end - h);
                if (p->host_len == 0 || p->host_len > 253 ||
                    strspn(h, ALNUM "-.") < p->host_len || h[0] == '.' || h[0] == '-' ||
                    memmem(h, p->host_len, "..", 2))
                        goto bad_host;
        }
        if (hp_end < end) {
                if (*hp_end != ':' || hp_end + 1 == end || end - hp_end > 6)
                        goto bad_host;
                for (const char *c = hp_end + 1; c < end; c++) {
                        if (!isdigit((unsigned char)*c))
                                goto bad_host;
                        p->port = p->port * 10 + (*c - '0');
                }
                if (p->port < 1 || p->port > 65535)
                        goto bad_host;
        }
        p->path = end;
        if (strchr(end, ':') || strchr(end, '[') || strchr(end, ']') ||
            strstr(end, "/../") || strstr(end, "/./") || strstr(end, "//") ||
            (strlen(end) >= 3 && !strcmp(end + strlen(end) - 3, "/..")) ||
            (strlen(end) >= 2 && !strcmp(end + strlen(end) - 2, "/.")) ||
            strstr(end, "%2e") || strstr(end, "%2E") || strstr(end, "%2f") ||
            strstr(end, "%2F")) {
                cxw_set_err(errstr, errstr_size,
                            "'%.200s' has a path that could lead elsewhere", u);
                return -1;
        }
        return 0;
bad_host:
        cxw_set_err(errstr, errstr_size, "'%.200s' has no valid host and port", u);
        return -1;
}

static int scheme_allowed(const char *u, const url_parts_t *p, cxw_disc_http_t http,
                          char *errstr, size_t errstr_size)
{
        char host[256];

        if (p->https || http == CXW_DISC_HTTP_ANY)
                return 0;
        if (http == CXW_DISC_HTTP_LOOPBACK && p->host_len < sizeof(host)) {
                memcpy(host, p->host, p->host_len);
                host[p->host_len] = '\0';
                if (cxw_host_is_loopback(host))
                        return 0;
        }
        cxw_set_err(errstr, errstr_size,
                    "'%.200s' is not https:// (http:// only with "
                    "cxone.allow_insecure_http)",
                    u);
        return -1;
}

int cxw_discovery_url_ok(const char *url, cxw_disc_http_t http, char *errstr,
                         size_t errstr_size)
{
        url_parts_t p;

        if (!url) {
                cxw_set_err(errstr, errstr_size, "no URL");
                return -1;
        }
        if (split_url(url, &p, errstr, errstr_size) != 0)
                return -1;
        return scheme_allowed(url, &p, http, errstr, errstr_size);
}

/* The length of u without its trailing slashes. */
static int trimmed(const char *u)
{
        size_t n = strlen(u);

        while (n > 0 && u[n - 1] == '/')
                n--;
        return (int)n;
}

char *cxw_discovery_openid_url(const char *issuer)
{
        char *s = NULL;

        if (asprintf(&s, "%.*s/.well-known/openid-configuration", trimmed(issuer),
                     issuer) < 0)
                return NULL;
        return s;
}

char *cxw_discovery_cxone_url(const char *issuer, const char *tenant_id)
{
        char *s = NULL;

        if (!cxw_tenant_id_ok(tenant_id))
                return NULL;
        if (asprintf(&s, "%.*s/.well-known/cxone-configuration?tenantId=%s",
                     trimmed(issuer), issuer, tenant_id) < 0)
                return NULL;
        return s;
}

/* The body as a JSON object, bounded. */
static json_t *load_doc(const char *body, size_t len, const char *what, char *errstr,
                        size_t errstr_size)
{
        json_t *j;

        if (!body || len == 0) {
                cxw_set_err(errstr, errstr_size, "%s is empty", what);
                return NULL;
        }
        if (len > CXW_DISCOVERY_MAX_BODY) {
                cxw_set_err(errstr, errstr_size, "%s is over %d bytes (%zu)", what,
                            CXW_DISCOVERY_MAX_BODY, len);
                return NULL;
        }
        j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                cxw_set_err(errstr, errstr_size, "%s is not a JSON object", what);
                return NULL;
        }
        return j;
}

/* A string member, 1..max bytes, no NUL. */
static const char *get_str(json_t *j, const char *name, size_t max, const char *what,
                           char *errstr, size_t errstr_size)
{
        json_t *v = json_object_get(j, name);

        if (!json_is_string(v)) {
                cxw_set_err(errstr, errstr_size, "%s has no %s string", what, name);
                return NULL;
        }
        if (json_string_length(v) == 0 || json_string_length(v) > max ||
            strlen(json_string_value(v)) != json_string_length(v)) {
                cxw_set_err(errstr, errstr_size, "%s: %s is empty or over %zu bytes",
                            what, name, max);
                return NULL;
        }
        return json_string_value(v);
}

int cxw_discovery_parse_openid(const char *body, size_t len, const char *issuer,
                               cxw_disc_http_t http, char *token_endpoint, size_t size,
                               char *errstr, size_t errstr_size)
{
        static const char what[] = "OpenID configuration";
        url_parts_t ip, tp;
        const char *iss, *te;
        char err[300];
        json_t *j;
        int rc = -1;

        if (size)
                token_endpoint[0] = '\0';
        if (split_url(issuer, &ip, err, sizeof(err)) != 0) {
                cxw_set_err(errstr, errstr_size, "issuer: %s", err);
                return -1;
        }
        j = load_doc(body, len, what, errstr, errstr_size);
        if (!j)
                return -1;
        iss = get_str(j, "issuer", CXW_DISCOVERY_URL_MAX - 1, what, errstr, errstr_size);
        te = get_str(j, "token_endpoint", CXW_DISCOVERY_URL_MAX - 1, what, errstr,
                     errstr_size);
        if (!iss || !te)
                goto done;
        if (trimmed(iss) != trimmed(issuer) ||
            strncasecmp(iss, issuer, (size_t)trimmed(issuer)) != 0) {
                cxw_set_err(errstr, errstr_size,
                            "%s names the issuer '%.200s', not the one asked '%.200s'",
                            what, iss, issuer);
                goto done;
        }
        if (split_url(te, &tp, err, sizeof(err)) != 0 ||
            scheme_allowed(te, &tp, http, err, sizeof(err)) != 0) {
                cxw_set_err(errstr, errstr_size, "%s: token_endpoint: %s", what, err);
                goto done;
        }
        if (tp.https != ip.https || tp.port != ip.port || tp.host_len != ip.host_len ||
            strncasecmp(tp.host, ip.host, tp.host_len) != 0) {
                cxw_set_err(errstr, errstr_size,
                            "%s: token_endpoint '%.200s' is not on the issuer's origin "
                            "'%.200s': refused (the credentials would go elsewhere)",
                            what, te, issuer);
                goto done;
        }
        if (strlen(te) >= size) {
                cxw_set_err(errstr, errstr_size, "%s: token_endpoint is too long", what);
                goto done;
        }
        memcpy(token_endpoint, te, strlen(te) + 1);
        rc = 0;
done:
        json_decref(j);
        return rc;
}

/* A DNS label: 1-63 of letters, digits, '-', not starting or ending with '-'. */
static int label_ok(const char *s)
{
        size_t n = strlen(s);

        return n >= 1 && n <= 63 && strspn(s, ALNUM "-") == n && s[0] != '-' &&
               s[n - 1] != '-';
}

/* A host name with an optional :port: labels joined by single dots. */
static int domain_ok(const char *s)
{
        size_t n = strcspn(s, ":");
        char buf[256];
        char *save = NULL;
        int labels = 0;

        if (n == 0 || n >= sizeof(buf))
                return 0;
        if (s[n] == ':') {
                size_t d = strlen(s + n + 1);
                long port = atol(s + n + 1);

                if (d == 0 || d > 5 || strspn(s + n + 1, "0123456789") != d || port < 1 ||
                    port > 65535)
                        return 0;
        }
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (buf[0] == '.' || buf[n - 1] == '.' || strstr(buf, ".."))
                return 0;
        for (char *l = strtok_r(buf, ".", &save); l; l = strtok_r(NULL, ".", &save)) {
                if (!label_ok(l))
                        return 0;
                labels++;
        }
        return labels > 0;
}

int cxw_discovery_parse_cxone(const char *body, size_t len, cxw_disc_http_t http,
                              cxw_cxone_hosts_t *out, char *errstr, size_t errstr_size)
{
        static const char what[] = "CXone configuration";
        const char *api, *area, *domain;
        json_t *j, *cl, *dfo;
        url_parts_t p;
        char err[300];
        int rc = -1, n;

        memset(out, 0, sizeof(*out));
        j = load_doc(body, len, what, errstr, errstr_size);
        if (!j)
                return -1;
        api = get_str(j, "api_endpoint", CXW_DISCOVERY_URL_MAX - 1, what, errstr,
                      errstr_size);
        if (!api)
                goto done;
        if (split_url(api, &p, err, sizeof(err)) != 0 ||
            scheme_allowed(api, &p, http, err, sizeof(err)) != 0) {
                cxw_set_err(errstr, errstr_size, "%s: api_endpoint: %s", what, err);
                goto done;
        }
        area = get_str(j, "area", sizeof(out->area) - 1, what, errstr, errstr_size);
        domain = get_str(j, "domain", sizeof(out->domain) - 1, what, errstr, errstr_size);
        if (!area || !domain)
                goto done;
        if (!label_ok(area)) {
                cxw_set_err(errstr, errstr_size, "%s: area '%.64s' is not a DNS label",
                            what, area);
                goto done;
        }
        if (!domain_ok(domain)) {
                cxw_set_err(errstr, errstr_size,
                            "%s: domain '%.200s' is not a host name (with an optional "
                            ":port)",
                            what, domain);
                goto done;
        }
        cl = json_object_get(j, "cluster");
        if (json_is_string(cl) && json_string_length(cl) < sizeof(out->cluster) &&
            label_ok(json_string_value(cl)))
                cxw_strlcpy(out->cluster, json_string_value(cl), sizeof(out->cluster));
        snprintf(out->api_endpoint, sizeof(out->api_endpoint), "%.*s", trimmed(api), api);
        cxw_strlcpy(out->area, area, sizeof(out->area));
        cxw_strlcpy(out->domain, domain, sizeof(out->domain));
        dfo = json_object_get(j, "dfo_endpoint");
        if (dfo) {
                /* Not sent by the platform; a host that serves DFO elsewhere
                 * (cxone-sim on loopback) names it. Checked as api_endpoint. */
                const char *d = get_str(j, "dfo_endpoint", CXW_DISCOVERY_URL_MAX - 1,
                                        what, errstr, errstr_size);

                if (!d)
                        goto done;
                if (split_url(d, &p, err, sizeof(err)) != 0 ||
                    scheme_allowed(d, &p, http, err, sizeof(err)) != 0) {
                        cxw_set_err(errstr, errstr_size, "%s: dfo_endpoint: %s", what,
                                    err);
                        goto done;
                }
                n = snprintf(out->dfo_base, sizeof(out->dfo_base), "%.*s", trimmed(d), d);
        } else {
                n = snprintf(out->dfo_base, sizeof(out->dfo_base), "https://api-de-%s.%s",
                             area, domain);
        }
        if (n < 0 || (size_t)n >= sizeof(out->dfo_base)) {
                cxw_set_err(errstr, errstr_size, "%s: the DFO host is too long", what);
                goto done;
        }
        /* The host built from area and domain passes the same check as
         * every URL read (a domain can make it longer than a host may be). */
        if (cxw_discovery_url_ok(out->dfo_base, http, err, sizeof(err)) != 0) {
                cxw_set_err(errstr, errstr_size, "%s: the DFO host: %s", what, err);
                goto done;
        }
        rc = 0;
done:
        if (rc != 0)
                memset(out, 0, sizeof(*out));
        json_decref(j);
        return rc;
}

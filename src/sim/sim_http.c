/* sim_http.c: cxone-sim's HTTP front end: the request callbacks of its
 * cxw_httpd daemon, the dispatch table, routing, the fault layer and the
 * answer helpers the endpoint handlers use (sim_req.h says which file holds
 * which handlers).
 *
 * One request, as the daemon calls us:
 *   begin     headers only: route it; /api/ requests are counted in flight
 *             and the drop decision is taken (MHD_NO closes the connection).
 *   (body)    kept by cxw_httpd up to the route's limit.
 *   serve     the body is in: rate limit → error → auth → handler; the
 *             answer is built now, so contacts change in arrival order, then either
 *             queued at once or, for /api/ with latency, the connection is
 *             suspended and parked on the latency timer.
 *   resumed   serve is called once more and queues the stored answer.
 */
#include "sim_req.h"

#include "cxone/base/log.h"
#include "cxone/io/httpd.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The dispatch tables: one per profile, then /_sim/, the same in both. New
 * endpoints are one line each. Every path under a profile's API prefix gets
 * the faults, the rate limit and the latency. */
static const cxw_sim_route_t control_routes[] = {
    {"GET", "/_sim/stats", false, 0, cxw_sim_on_stats, NULL},
    {"GET", "/_sim/tokens", false, 0, cxw_sim_on_tokens, NULL},
    {"GET", "/_sim/contacts/", true, 0, cxw_sim_on_sim_contact, NULL},
    {"GET", "/_sim/jobs/", true, 0, cxw_sim_on_sim_job, NULL},
    {"GET", "/_sim/config", false, 0, cxw_sim_on_config_get, NULL},
    {"POST", "/_sim/config", false, CXW_SIM_CONFIG_BODY_MAX, cxw_sim_on_config_set, NULL},
    {"POST", "/_sim/reset", false, 0, cxw_sim_on_reset, NULL},
};

static const cxw_sim_route_t seed_routes[] = {
    {"POST", "/oauth/token", false, CXW_SIM_TOKEN_BODY_MAX, cxw_sim_on_token, NULL},
    {"PATCH", "/api/v2/contacts/", true, CXW_SIM_PATCH_BODY_MAX, cxw_sim_on_patch_contact,
     NULL},
    {"POST", "/api/v2/wfm/schedules/import", false, CXW_SIM_IMPORT_BODY_MAX,
     cxw_sim_on_schedule_import, NULL},
    {"GET", "/api/v2/wfm/async-jobs/", true, 0, cxw_sim_on_async_job, NULL},
};

static const cxw_sim_route_t cxone_routes[] = {
    {"GET", "/.well-known/openid-configuration", false, 0, cxw_sim_on_openid_config,
     NULL},
    {"GET", "/.well-known/cxone-configuration", false, 0, cxw_sim_on_cxone_config, NULL},
    {"POST", "/auth/token", false, CXW_SIM_TOKEN_BODY_MAX, cxw_sim_on_auth_token, NULL},
    {"GET", "/dfo/3.0/customers/custom-field-definitions", false, 0,
     cxw_sim_on_field_definitions, NULL},
    {"PUT", "/dfo/3.0/customers/", true, CXW_SIM_FIELDS_BODY_MAX,
     cxw_sim_on_custom_fields, "/custom-fields"},
};

/* The cxone profile's admin API: paths after --admin-prefix (default
 * /inContactAPI/services/v30.0). A suffix "" is one path segment. */
static const cxw_sim_route_t cxone_admin_routes[] = {
    {"PUT", "/address-books/", true, CXW_SIM_AB_BODY_MAX, cxw_sim_on_ab_entries,
     "/dynamic-entries"},
    {"GET", "/address-books/", true, 0, cxw_sim_on_ab_get, ""},
    {"GET", "/address-books", false, 0, cxw_sim_on_ab_list, NULL},
};

/* A profile's routes and the prefixes of its API (faults, latency,
 * concurrency, counted) and of its token endpoint (counted); its admin
 * routes (NULL = none) sit under --admin-prefix, faulted like the API. */
typedef struct profile {
        const cxw_sim_route_t *routes;
        size_t n_routes;
        const char *api_prefix;
        const char *auth_prefix;
        const cxw_sim_route_t *admin_routes;
        size_t n_admin;
} profile_t;

static const profile_t profiles[] = {
    [CXW_SIM_PROFILE_SEED] = {seed_routes, sizeof(seed_routes) / sizeof(seed_routes[0]),
                              "/api/", "/oauth/"},
    [CXW_SIM_PROFILE_CXONE] = {cxone_routes,
                               sizeof(cxone_routes) / sizeof(cxone_routes[0]), "/dfo/",
                               "/auth/", cxone_admin_routes,
                               sizeof(cxone_admin_routes) /
                                   sizeof(cxone_admin_routes[0])},
};

/* Whether url is rt's path; for a {param} route, the parameter's start and
 * length go to *param and *param_len. */
static bool path_matches(const cxw_sim_route_t *rt, const char *url, const char **param,
                         size_t *param_len)
{
        size_t n = strlen(rt->path), rest, slen;

        if (!rt->param)
                return strcmp(url, rt->path) == 0;
        if (strncmp(url, rt->path, n) != 0)
                return false;
        *param = url + n;
        rest = strlen(*param);
        if (!rt->suffix) { /* the rest of the path, whatever it holds */
                *param_len = rest;
                return true;
        }
        /* PREFIX{param}SUFFIX: one non-empty segment between them. */
        slen = strlen(rt->suffix);
        if (rest <= slen || strcmp(*param + rest - slen, rt->suffix) != 0 ||
            memchr(*param, '/', rest - slen))
                return false;
        *param_len = rest - slen;
        return true;
}

/* Finds the route for method and url (admin: what follows the admin prefix,
 * NULL if url is not under it); fills r->route, path_known, param and the
 * Allow list for a 405. */
static void route_request(const profile_t *pf, cxw_sim_req_t *r, const char *method,
                          const char *url, const char *admin)
{
        size_t allow_len = 0, plen = 0;
        const char *p = NULL;
        size_t n_control = sizeof(control_routes) / sizeof(control_routes[0]);
        size_t n_admin = admin ? pf->n_admin : 0;

        for (size_t i = 0; i < pf->n_routes + n_admin + n_control; i++) {
                const cxw_sim_route_t *rt;
                const char *rp = NULL, *path = url;
                size_t rlen = 0;

                if (i < pf->n_routes) {
                        rt = &pf->routes[i];
                } else if (i < pf->n_routes + n_admin) {
                        rt = &pf->admin_routes[i - pf->n_routes];
                        path = admin;
                } else {
                        rt = &control_routes[i - pf->n_routes - n_admin];
                }
                if (!path_matches(rt, path, &rp, &rlen))
                        continue;
                r->path_known = true;
                if (strcmp(method, rt->method) == 0) {
                        r->route = rt;
                        p = rp;
                        plen = rlen;
                        break;
                }
                allow_len += (size_t)snprintf(r->hdr_value + allow_len,
                                              sizeof(r->hdr_value) - allow_len, "%s%s",
                                              allow_len ? ", " : "", rt->method);
                if (allow_len >= sizeof(r->hdr_value))
                        allow_len = sizeof(r->hdr_value) - 1;
        }
        if (r->route && r->route->param) {
                size_t keep = plen < sizeof(r->param) ? plen : sizeof(r->param) - 1;

                r->param_too_long = plen >= sizeof(r->param);
                memcpy(r->param, p, keep);
                r->param[keep] = '\0';
        }
        if (r->route)
                r->hdr_value[0] = '\0';
        r->http->body_max = r->route ? r->route->body_max : 0;
}

/* ---- answers ---- */

/* Sets the answer to body (stolen), compact JSON. */
void cxw_sim_answer_json(cxw_sim_req_t *r, unsigned status, json_t *body)
{
        free(r->resp);
        r->resp = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        r->status = r->resp ? status : 500;
        r->resp_len = r->resp ? strlen(r->resp) : 0;
}

/* {"error": message, extra key: extra value (if extra_key)} */
void cxw_sim_answer_error2(cxw_sim_req_t *r, unsigned status, const char *message,
                           const char *extra_key, const char *extra_value)
{
        json_t *o = json_object();

        if (o) {
                json_object_set_new(o, "error", json_string(message));
                if (extra_key)
                        json_object_set_new(o, extra_key, json_string(extra_value));
        }
        cxw_sim_answer_json(r, status, o);
}

void cxw_sim_answer_error(cxw_sim_req_t *r, unsigned status, const char *message)
{
        cxw_sim_answer_error2(r, status, message, NULL, NULL);
}

void cxw_sim_set_header(cxw_sim_req_t *r, const char *name, const char *value)
{
        r->hdr_name = name;
        cxw_strlcpy(r->hdr_value, value, sizeof(r->hdr_value));
}

static enum MHD_Result send_answer(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        static const char oom_body[] = "{\"error\":\"out of memory\"}";
        const char *headers[] = {r->hdr_name, r->hdr_value, NULL};
        enum MHD_Result ret;

        if (r->empty) {
                ret = cxw_httpd_reply(r->http, r->status, NULL, "", 0, CXW_HTTPD_STATIC,
                                      headers);
        } else if (r->resp) {
                char *resp = r->resp;

                r->resp = NULL; /* now the daemon's */
                ret = cxw_httpd_reply(r->http, r->status, "application/json", resp,
                                      r->resp_len, CXW_HTTPD_TAKE, headers);
        } else {
                r->status = 500;
                ret = cxw_httpd_reply(r->http, r->status, "application/json", oom_body,
                                      strlen(oom_body), CXW_HTTPD_STATIC, headers);
        }
        if (r->is_api || r->is_oauth)
                cxw_sim_count_status(sim, r->status);
        return ret;
}

void cxw_sim_answer_empty(cxw_sim_req_t *r, unsigned status)
{
        free(r->resp);
        r->resp = NULL;
        r->resp_len = 0;
        r->status = status;
        r->empty = true;
}

const char *cxw_sim_header(cxw_sim_req_t *r, const char *name)
{
        return cxw_httpd_header(r->http, name);
}

bool cxw_sim_bearer_or_401(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        if (cxw_sim_bearer_ok(sim, r))
                return true;
        cxw_sim_set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        cxw_sim_answer_error(r, 401, "invalid_token");
        return false;
}

bool cxw_sim_request_key(cxw_sim_req_t *r, const char **key)
{
        *key = cxw_sim_header(r, "Idempotency-Key");
        if (!*key)
                *key = cxw_sim_header(r, "X-Request-Id");
        if (*key && strlen(*key) > CXW_SIM_REQKEY_MAX) {
                cxw_sim_answer_error(r, 400,
                                     "Idempotency-Key / X-Request-Id longer than 256");
                return false;
        }
        return true;
}

/* ---- the fault layer and the MHD callbacks ---- */

static void answer_rate_limited(cxw_sim_t *sim, cxw_sim_req_t *r, int64_t wait_ms)
{
        int64_t secs = (wait_ms + 999) / 1000;
        char buf[64];

        if (secs < 1)
                secs = 1;
        atomic_fetch_add(&sim->rate_limited, 1);
        if (sim->opts->profile == CXW_SIM_PROFILE_CXONE) {
                /* The real platform promises no Retry-After, in a header or
                 * in the body: the client must find its own pace. */
                cxw_sim_answer_error(r, 429, "rate limit exceeded");
                return;
        }
        if (sim->opts->retry_after == CXW_SIM_RETRY_SECONDS) {
                snprintf(buf, sizeof(buf), "%lld", (long long)secs);
                cxw_sim_set_header(r, MHD_HTTP_HEADER_RETRY_AFTER, buf);
        } else if (sim->opts->retry_after == CXW_SIM_RETRY_DATE) {
                time_t t = (time_t)(cxw_wall_ms() / 1000 + secs);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
                cxw_sim_set_header(r, MHD_HTTP_HEADER_RETRY_AFTER, buf);
        }
        cxw_sim_answer_json(r, 429,
                            json_pack("{s:s, s:I}", "error", "rate limit exceeded",
                                      "retryAfterSeconds", (json_int_t)secs));
}

/* Builds the answer. @returns true if it may be delayed by the latency. */
static bool process(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        if (r->is_api) {
                int64_t wait_ms = 0;
                double err = atomic_load(&sim->error_rate);

                if (!cxw_sim_rate_take(sim, &wait_ms)) {
                        answer_rate_limited(sim, r, wait_ms);
                        return false;
                }
                if (err > 0 && cxw_sim_rand01(sim) < err) {
                        static const unsigned codes[] = {500, 502, 503};
                        cxw_sim_answer_error(r, codes[cxw_sim_rand64(sim) % 3],
                                             "simulated server error");
                        return true;
                }
        }
        if (r->route) {
                r->route->fn(sim, r);
        } else if (r->path_known) {
                r->hdr_name = MHD_HTTP_HEADER_ALLOW; /* hdr_value holds the list */
                cxw_sim_answer_error(r, 405, "method not allowed");
        } else {
                cxw_sim_answer_error(r, 404, "not found");
        }
        return true;
}

/* Headers of a new request: route it; /api/ requests are counted in flight
 * and may be dropped. */
static enum MHD_Result begin(void *opaque, cxw_httpd_req_t *http, const char *method,
                             const char *url)
{
        cxw_sim_t *sim = opaque;
        const profile_t *pf = &profiles[sim->opts->profile];
        cxw_sim_req_t *r = calloc(1, sizeof(*r));
        size_t alen = strlen(sim->opts->admin_prefix);
        const char *admin = NULL;

        if (!r)
                return MHD_NO;
        http->state = r;
        r->http = http;
        /* Under the admin prefix: the prefix then "/" (never a longer
         * segment: /v30.0x is not /v30.0). */
        if (pf->admin_routes && strncmp(url, sim->opts->admin_prefix, alen) == 0 &&
            url[alen] == '/')
                admin = url + alen;
        r->is_api = admin || strncmp(url, pf->api_prefix, strlen(pf->api_prefix)) == 0;
        r->is_oauth = strncmp(url, pf->auth_prefix, strlen(pf->auth_prefix)) == 0;
        route_request(pf, r, method, url, admin);
        if (r->is_api || r->is_oauth)
                atomic_fetch_add(&sim->requests_total, 1);
        if (r->is_api) {
                double drop = atomic_load(&sim->drop_rate);
                cxw_sim_api_begin(sim);
                if (drop > 0 && cxw_sim_rand01(sim) < drop) {
                        atomic_fetch_add(&sim->dropped, 1);
                        return MHD_NO; /* MHD closes without an answer */
                }
        }
        return MHD_YES;
}

/* The body is in (or the latency is over): answer, or park the connection
 * on the latency timer. */
static enum MHD_Result serve(void *opaque, cxw_httpd_req_t *http)
{
        cxw_sim_t *sim = opaque;
        cxw_sim_req_t *r = http->state;

        if (r->delayed)
                return send_answer(sim, r);
        if (process(sim, r) && r->is_api) {
                int64_t delay = atomic_load(&sim->latency_ms);
                int64_t jitter = sim->opts->latency_jitter_ms;

                if (jitter > 0)
                        delay += (int64_t)(cxw_sim_rand64(sim) % (uint64_t)(jitter + 1));
                delay += r->extra_delay_ms;
                if (delay > 0) {
                        r->delayed = true;
                        MHD_suspend_connection(http->conn);
                        cxw_sim_delay_add(sim->delay, http->conn, cxw_now_ms() + delay);
                        return MHD_YES;
                }
        }
        return send_answer(sim, r);
}

static void end(void *opaque, cxw_httpd_req_t *http)
{
        cxw_sim_t *sim = opaque;
        cxw_sim_req_t *r = http->state;

        if (!r)
                return;
        if (r->is_api)
                cxw_sim_api_end(sim);
        free(r->resp);
        free(r);
        http->state = NULL;
}

cxw_httpd_t *cxw_sim_http_start(cxw_sim_t *sim, uint16_t *port_out, char *errstr,
                                size_t errstr_size)
{
        const cxw_sim_opts_t *o = sim->opts;
        char listen[96];
        cxw_httpd_config_t cfg = {
            .listen = listen,
            .threads = (unsigned)o->threads,
            .suspend_resume = true,
            .limits = {.max_connections = 4096, .backlog = 1024, .timeout_s = 60},
            .log_tag = "mhd",
            .tls_cert_file = o->tls_cert,
            .tls_key_file = o->tls_key,
            .begin = begin,
            .serve = serve,
            .end = end,
            .opaque = sim,
        };
        cxw_httpd_t *h;

        snprintf(listen, sizeof(listen), "%s:%u", o->addr, (unsigned)o->port);
        h = cxw_httpd_start(&cfg, errstr, errstr_size);
        if (h) {
                *port_out = (uint16_t)cxw_httpd_port(h);
                atomic_store(&sim->httpd, h);
        }
        return h;
}

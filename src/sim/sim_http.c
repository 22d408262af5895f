/* sim_http.c: cxone-sim's HTTP front end: the request callbacks of its
 * cxw_httpd daemon, the dispatch table and the endpoint handlers.
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
#include "sim.h"

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

#include <openssl/crypto.h>

typedef struct req req_t;
typedef void (*handler_fn)(cxw_sim_t *sim, req_t *r);

typedef struct route {
        const char *method;
        const char *path; /* exact, or the prefix before {param} */
        bool param;       /* the rest of the path is one parameter */
        size_t body_max;  /* 0 = any body is read and ignored */
        handler_fn fn;
} route_t;

struct req {
        cxw_httpd_req_t *http; /* the connection and the body kept */
        const route_t *route;  /* NULL: no route for this method and path */
        bool path_known;       /* some route has this path (405, not 404) */
        bool is_api;           /* /api/...: faults, latency, concurrency */
        bool is_oauth;         /* /oauth/...: counted by status */
        bool delayed;          /* answer built, waiting out the latency */
        char param[CXW_SIM_ID_MAX + 2];
        bool param_too_long;

        /* The answer. */
        unsigned status;
        char *resp;
        size_t resp_len;
        const char *hdr_name; /* one extra header: Retry-After, Allow, ... */
        char hdr_value[96];
};

static void h_token(cxw_sim_t *sim, req_t *r);
static void h_patch_contact(cxw_sim_t *sim, req_t *r);
static void h_stats(cxw_sim_t *sim, req_t *r);
static void h_tokens(cxw_sim_t *sim, req_t *r);
static void h_sim_contact(cxw_sim_t *sim, req_t *r);
static void h_config_get(cxw_sim_t *sim, req_t *r);
static void h_config_set(cxw_sim_t *sim, req_t *r);
static void h_reset(cxw_sim_t *sim, req_t *r);
static void h_schedule_import(cxw_sim_t *sim, req_t *r);
static void h_async_job(cxw_sim_t *sim, req_t *r);
static void h_sim_job(cxw_sim_t *sim, req_t *r);

/* The dispatch table. New endpoints are one line each. Every /api/ path gets
 * the faults, the rate limit and the latency. */
static const route_t routes[] = {
    {"POST", "/oauth/token", false, CXW_SIM_TOKEN_BODY_MAX, h_token},
    {"PATCH", "/api/v2/contacts/", true, CXW_SIM_PATCH_BODY_MAX, h_patch_contact},
    {"POST", "/api/v2/wfm/schedules/import", false, CXW_SIM_IMPORT_BODY_MAX,
     h_schedule_import},
    {"GET", "/api/v2/wfm/async-jobs/", true, 0, h_async_job},
    {"GET", "/_sim/stats", false, 0, h_stats},
    {"GET", "/_sim/tokens", false, 0, h_tokens},
    {"GET", "/_sim/contacts/", true, 0, h_sim_contact},
    {"GET", "/_sim/jobs/", true, 0, h_sim_job},
    {"GET", "/_sim/config", false, 0, h_config_get},
    {"POST", "/_sim/config", false, CXW_SIM_CONFIG_BODY_MAX, h_config_set},
    {"POST", "/_sim/reset", false, 0, h_reset},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

static bool path_matches(const route_t *rt, const char *url)
{
        size_t n = strlen(rt->path);

        if (rt->param)
                return strncmp(url, rt->path, n) == 0;
        return strcmp(url, rt->path) == 0;
}

/* Finds the route for method and url; fills r->route, path_known, param and
 * the Allow list for a 405. */
static void route_request(req_t *r, const char *method, const char *url)
{
        size_t allow_len = 0;

        for (size_t i = 0; i < N_ROUTES; i++) {
                const route_t *rt = &routes[i];
                if (!path_matches(rt, url))
                        continue;
                r->path_known = true;
                if (strcmp(method, rt->method) == 0) {
                        r->route = rt;
                        break;
                }
                allow_len += (size_t)snprintf(r->hdr_value + allow_len,
                                              sizeof(r->hdr_value) - allow_len, "%s%s",
                                              allow_len ? ", " : "", rt->method);
                if (allow_len >= sizeof(r->hdr_value))
                        allow_len = sizeof(r->hdr_value) - 1;
        }
        if (r->route && r->route->param) {
                const char *p = url + strlen(r->route->path);
                r->param_too_long =
                    cxw_strlcpy(r->param, p, sizeof(r->param)) >= sizeof(r->param);
        }
        if (r->route)
                r->hdr_value[0] = '\0';
        r->http->body_max = r->route ? r->route->body_max : 0;
}

/* ---- answers ---- */

/* Sets the answer to body (stolen), compact JSON. */
static void answer_json(req_t *r, unsigned status, json_t *body)
{
        free(r->resp);
        r->resp = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        r->status = r->resp ? status : 500;
        r->resp_len = r->resp ? strlen(r->resp) : 0;
}

/* {"error": message, extra key: extra value (if extra_key)} */
static void answer_error2(req_t *r, unsigned status, const char *message,
                          const char *extra_key, const char *extra_value)
{
        json_t *o = json_object();

        if (o) {
                json_object_set_new(o, "error", json_string(message));
                if (extra_key)
                        json_object_set_new(o, extra_key, json_string(extra_value));
        }
        answer_json(r, status, o);
}

static void answer_error(req_t *r, unsigned status, const char *message)
{
        answer_error2(r, status, message, NULL, NULL);
}

static void set_header(req_t *r, const char *name, const char *value)
{
        r->hdr_name = name;
        cxw_strlcpy(r->hdr_value, value, sizeof(r->hdr_value));
}

static enum MHD_Result send_answer(cxw_sim_t *sim, req_t *r)
{
        static const char oom_body[] = "{\"error\":\"out of memory\"}";
        const char *headers[] = {r->hdr_name, r->hdr_value, NULL};
        enum MHD_Result ret;

        if (r->resp) {
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

/* ---- helpers for handlers ---- */

static const char *header(req_t *r, const char *name)
{
        return cxw_httpd_header(r->http, name);
}

static int b64val(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Decodes standard base64 (padding optional) into out, NUL-terminated.
 * @returns the decoded length, or -1 if malformed or too long. */
static long b64_decode(const char *in, char *out, size_t size)
{
        size_t n = 0;
        unsigned acc = 0;
        int bits = 0;

        for (; *in && *in != '='; in++) {
                int v = b64val((unsigned char)*in);
                if (v < 0)
                        return -1;
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (n + 1 >= size)
                                return -1;
                        out[n++] = (char)((acc >> bits) & 0xff);
                }
        }
        while (*in == '=')
                in++;
        if (*in)
                return -1;
        out[n] = '\0';
        return (long)n;
}

/* application/x-www-form-urlencoded decoding of in[0..len) into out.
 * @returns the length, or -1 if malformed or longer than size-1. */
static long form_decode(const char *in, size_t len, char *out, size_t size)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                if (c == '+') {
                        c = ' ';
                } else if (c == '%') {
                        int hi, lo;
                        if (i + 2 >= len)
                                return -1;
                        hi = cxw_hexval(in[i + 1]);
                        lo = cxw_hexval(in[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -1;
                        c = (char)(hi * 16 + lo);
                        i += 2;
                }
                if (n + 1 >= size)
                        return -1;
                out[n++] = c;
        }
        out[n] = '\0';
        return (long)n;
}

static bool same_secret(const char *a, size_t alen, const char *b)
{
        size_t blen = strlen(b);

        return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

/* HTTP Basic client authentication (RFC 6749 2.3.1: id and secret are
 * form-urlencoded before base64). */
static bool basic_auth_ok(cxw_sim_t *sim, req_t *r)
{
        char decoded[6 * CXW_SIM_CRED_MAX + 8];
        char id[CXW_SIM_CRED_MAX + 1], secret[CXW_SIM_CRED_MAX + 1];
        const char *h = header(r, MHD_HTTP_HEADER_AUTHORIZATION);
        long n, idlen, seclen;
        char *colon;

        if (!h || strncasecmp(h, "Basic ", 6) != 0)
                return false;
        h += 6;
        while (*h == ' ')
                h++;
        n = b64_decode(h, decoded, sizeof(decoded));
        if (n < 0 || memchr(decoded, '\0', (size_t)n))
                return false;
        colon = strchr(decoded, ':');
        if (!colon)
                return false;
        idlen = form_decode(decoded, (size_t)(colon - decoded), id, sizeof(id));
        seclen = form_decode(colon + 1, strlen(colon + 1), secret, sizeof(secret));
        if (idlen < 0 || seclen < 0)
                return false;
        /* Evaluate both, so the time taken does not say which one was wrong. */
        return same_secret(id, (size_t)idlen, sim->opts->client_id) &
               same_secret(secret, (size_t)seclen, sim->opts->client_secret);
}

/* The decoded value of key in a form body, into out. @returns true if found. */
static bool form_get(const char *body, size_t len, const char *key, char *out,
                     size_t size, bool *malformed)
{
        const char *p = body, *end = body + len;
        char name[64];

        *malformed = false;
        while (p < end) {
                const char *amp = memchr(p, '&', (size_t)(end - p));
                const char *pe = amp ? amp : end;
                const char *eq = memchr(p, '=', (size_t)(pe - p));
                const char *ne = eq ? eq : pe;

                if (form_decode(p, (size_t)(ne - p), name, sizeof(name)) >= 0 &&
                    strcmp(name, key) == 0) {
                        if (!eq ||
                            form_decode(eq + 1, (size_t)(pe - eq - 1), out, size) < 0) {
                                *malformed = !!eq;
                                out[0] = '\0';
                        }
                        return true;
                }
                p = pe + 1;
        }
        return false;
}

/* ---- endpoint handlers ---- */

static void h_token(cxw_sim_t *sim, req_t *r)
{
        char grant[64], token[128];
        bool malformed;
        double fail = atomic_load(&sim->token_fail_rate);
        json_t *o;

        if (r->http->too_large) {
                atomic_fetch_add(&sim->token_rejects, 1);
                answer_error2(r, 413, "invalid_request", "error_description",
                              "body larger than 8 KiB");
                return;
        }
        if (fail > 0 && cxw_sim_rand01(sim) < fail) {
                atomic_fetch_add(&sim->token_rejects, 1);
                answer_error2(r, 503, "temporarily_unavailable", "error_description",
                              "simulated token endpoint failure");
                return;
        }
        if (!basic_auth_ok(sim, r)) {
                atomic_fetch_add(&sim->token_rejects, 1);
                set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                           "Basic realm=\"cxone-sim\"");
                answer_error(r, 401, "invalid_client");
                return;
        }
        if (!form_get(r->http->body ? r->http->body : "", r->http->len, "grant_type",
                      grant, sizeof(grant), &malformed)) {
                atomic_fetch_add(&sim->token_rejects, 1);
                answer_error2(r, 400, "invalid_request", "error_description",
                              "grant_type missing");
                return;
        }
        if (malformed || strcmp(grant, "client_credentials") != 0) {
                atomic_fetch_add(&sim->token_rejects, 1);
                answer_error(r, 400, "unsupported_grant_type");
                return;
        }
        if (cxw_sim_token_issue(sim, token, sizeof(token)) != 0) {
                answer_error(r, 500, "cannot issue a token");
                return;
        }
        o = json_pack("{s:s, s:I, s:s}", "access_token", token, "expires_in",
                      (json_int_t)sim->opts->token_ttl_s, "token_type", "Bearer");
        atomic_fetch_add(&sim->token_fetches, 1);
        answer_json(r, 200, o);
}

static bool bearer_ok(cxw_sim_t *sim, req_t *r)
{
        const char *h = header(r, MHD_HTTP_HEADER_AUTHORIZATION);

        if (!h || strncasecmp(h, "Bearer ", 7) != 0)
                return false;
        h += 7;
        while (*h == ' ')
                h++;
        return cxw_sim_token_valid(sim, h);
}

/* A plausible address: one '@', a non-empty local part, a domain with a
 * '.', no spaces or control characters. */
static bool email_plausible(const char *s)
{
        const char *at = strchr(s, '@');

        if (!at || at == s || strchr(at + 1, '@'))
                return false;
        for (const char *p = s; *p; p++) {
                if ((unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        }
        return strchr(at + 1, '.') != NULL;
}

static bool field_allowed(cxw_sim_t *sim, const char *name)
{
        for (size_t i = 0; i < sim->opts->n_allowed; i++) {
                if (strcmp(sim->opts->allowed[i], name) == 0)
                        return true;
        }
        return false;
}

/* PATCH /api/v2/contacts/{contactId} */
static void h_patch_contact(cxw_sim_t *sim, req_t *r)
{
        char msg[160];
        const char *reqkey, *k;
        json_t *body, *v, *out;
        json_error_t jerr;

        if (!bearer_ok(sim, r)) {
                set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
                answer_error(r, 401, "invalid_token");
                return;
        }
        if (r->param_too_long || !cxw_sim_id_valid(r->param)) {
                answer_error(r, 400,
                             "invalid contactId: must be 1-128 characters of "
                             "[A-Za-z0-9._-]");
                return;
        }
        if (r->http->too_large) {
                answer_error(r, 413, "body larger than 64 KiB");
                return;
        }
        reqkey = header(r, "Idempotency-Key");
        if (!reqkey)
                reqkey = header(r, "X-Request-Id");
        if (reqkey && strlen(reqkey) > CXW_SIM_REQKEY_MAX) {
                answer_error(r, 400, "Idempotency-Key / X-Request-Id longer than 256");
                return;
        }
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(body)) {
                json_decref(body);
                answer_error(r, 400, "body must be a JSON object");
                return;
        }
        if (json_object_get(body, "contactId")) {
                json_decref(body);
                atomic_fetch_add(&sim->bodies_with_contact_id, 1);
                answer_error(r, 400, "contactId must not be in the body");
                return;
        }
        if (!cxw_sim_contact_exists(sim, r->param)) {
                json_decref(body);
                answer_error2(r, 404, "contact not found", "contactId", r->param);
                return;
        }
        json_object_foreach(body, k, v)
        {
                const char *why = NULL;
                if (!field_allowed(sim, k))
                        why = "field not allowed";
                else if (!json_is_string(v))
                        why = "field must be a string";
                else if (strcmp(k, "email") == 0 && sim->opts->email_validation &&
                         !email_plausible(json_string_value(v)))
                        why = "not a plausible email address in field";
                if (why) {
                        snprintf(msg, sizeof(msg), "%s: %.100s", why, k);
                        answer_error2(r, 400, msg, "field", k);
                        json_decref(body);
                        return;
                }
        }
        out = cxw_sim_contact_apply(sim, r->param, body, reqkey);
        json_decref(body);
        if (!out) {
                answer_error(r, 500, "out of memory");
                return;
        }
        answer_json(r, 200, out);
}

/* POST /api/v2/wfm/schedules/import: checks the envelope only (a JSON object
 * with a scheduleEntries array); the content is checked by the job, which
 * fails with VALIDATION_ERROR, as an asynchronous import reports it. */
static void h_schedule_import(cxw_sim_t *sim, req_t *r)
{
        char job_id[48];
        const char *key, *status = NULL;
        json_t *body;
        json_error_t jerr;

        if (!bearer_ok(sim, r)) {
                set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
                answer_error(r, 401, "invalid_token");
                return;
        }
        if (r->http->too_large) {
                answer_error(r, 413, "body larger than 4 MiB");
                return;
        }
        key = header(r, "Idempotency-Key");
        if (key && strlen(key) > CXW_SIM_REQKEY_MAX) {
                answer_error(r, 400, "Idempotency-Key longer than 256");
                return;
        }
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(body)) {
                json_decref(body);
                answer_error(r, 400, "body must be a JSON object");
                return;
        }
        if (!json_is_array(json_object_get(body, "scheduleEntries"))) {
                json_decref(body);
                answer_error2(r, 400, "scheduleEntries must be an array", "field",
                              "scheduleEntries");
                return;
        }
        switch (
            cxw_sim_jobs_submit(sim->jobs, body, key, job_id, sizeof(job_id), &status)) {
        case CXW_SIM_JOB_CREATED:
        case CXW_SIM_JOB_DUPLICATE:
                answer_json(r, 202,
                            json_pack("{s:s, s:s}", "jobId", job_id, "status", status));
                break;
        case CXW_SIM_JOB_FULL:
                set_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
                answer_error(r, 503, "too many import jobs in progress");
                break;
        case CXW_SIM_JOB_NOMEM:
        default:
                answer_error(r, 500, "out of memory");
                break;
        }
        json_decref(body);
}

/* The job named by the path parameter, or NULL (answered 404). */
static json_t *job_of(cxw_sim_t *sim, req_t *r, bool internal)
{
        json_t *j = NULL;

        if (!r->param_too_long && cxw_sim_id_valid(r->param))
                j = cxw_sim_jobs_get(sim->jobs, r->param, internal);
        if (!j)
                answer_error2(r, 404, "job not found", "jobId",
                              r->param_too_long ? "" : r->param);
        return j;
}

/* GET /api/v2/wfm/async-jobs/{jobId} */
static void h_async_job(cxw_sim_t *sim, req_t *r)
{
        json_t *j;

        if (!bearer_ok(sim, r)) {
                set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
                answer_error(r, 401, "invalid_token");
                return;
        }
        atomic_fetch_add(&sim->job_polls, 1);
        if ((j = job_of(sim, r, false)))
                answer_json(r, 200, j);
}

/* GET /_sim/jobs/{jobId} */
static void h_sim_job(cxw_sim_t *sim, req_t *r)
{
        json_t *j;

        if ((j = job_of(sim, r, true)))
                answer_json(r, 200, j);
}

static void h_stats(cxw_sim_t *sim, req_t *r)
{
        answer_json(r, 200, cxw_sim_stats_json(sim));
}

static void h_tokens(cxw_sim_t *sim, req_t *r)
{
        answer_json(r, 200, cxw_sim_tokens_json(sim));
}

static void h_sim_contact(cxw_sim_t *sim, req_t *r)
{
        json_t *c;

        if (r->param_too_long || !cxw_sim_id_valid(r->param)) {
                answer_error(r, 400, "invalid contactId");
                return;
        }
        c = cxw_sim_contact_get(sim, r->param);
        if (!c) {
                answer_error2(r, 404, "contact not found", "contactId", r->param);
                return;
        }
        answer_json(r, 200, c);
}

static json_t *config_json(cxw_sim_t *sim)
{
        double rate;
        int64_t burst;

        cxw_sim_rate_get(sim, &rate, &burst);
        return json_pack("{s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:f}",
                         "errorRate", atomic_load(&sim->error_rate), "dropRate",
                         atomic_load(&sim->drop_rate), "tokenFailRate",
                         atomic_load(&sim->token_fail_rate), "rateLimit", rate, "burst",
                         (json_int_t)burst, "latencyMs",
                         (json_int_t)atomic_load(&sim->latency_ms), "latencyJitterMs",
                         (json_int_t)sim->opts->latency_jitter_ms, "jobDurationMs",
                         (json_int_t)atomic_load(&sim->job_duration_ms),
                         "jobDurationJitterMs", (json_int_t)sim->opts->job_jitter_ms,
                         "jobFailRate", atomic_load(&sim->job_fail_rate));
}

static void h_config_get(cxw_sim_t *sim, req_t *r)
{
        answer_json(r, 200, config_json(sim));
}

/* Checks one /_sim/config value. @returns NULL if fine, else why not. */
static const char *config_check(const char *k, json_t *v)
{
        if (!strcmp(k, "errorRate") || !strcmp(k, "dropRate") ||
            !strcmp(k, "tokenFailRate") || !strcmp(k, "jobFailRate")) {
                if (!json_is_number(v) || json_number_value(v) < 0 ||
                    json_number_value(v) > 1)
                        return "must be a number from 0 to 1";
        } else if (!strcmp(k, "rateLimit")) {
                if (!json_is_number(v) || json_number_value(v) < 0 ||
                    json_number_value(v) > 1e9)
                        return "must be a number from 0 (off) to 1e9";
        } else if (!strcmp(k, "burst")) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                    json_integer_value(v) > 1000000000)
                        return "must be an integer from 1 to 1e9";
        } else if (!strcmp(k, "latencyMs") || !strcmp(k, "jobDurationMs")) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                    json_integer_value(v) > 3600000)
                        return "must be an integer from 0 to 3600000";
        } else {
                return "unknown setting";
        }
        return NULL;
}

/* POST /_sim/config: only the keys present change; all are checked first. */
static void h_config_set(cxw_sim_t *sim, req_t *r)
{
        char msg[160];
        json_t *body, *v;
        json_error_t jerr;
        const char *k;

        if (r->http->too_large) {
                answer_error(r, 413, "body larger than 8 KiB");
                return;
        }
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(body)) {
                json_decref(body);
                answer_error(r, 400, "body must be a JSON object");
                return;
        }
        json_object_foreach(body, k, v)
        {
                const char *why = config_check(k, v);
                if (why) {
                        snprintf(msg, sizeof(msg), "%.60s: %s", k, why);
                        answer_error2(r, 400, msg, "field", k);
                        json_decref(body);
                        return;
                }
        }
        if ((v = json_object_get(body, "errorRate")))
                atomic_store(&sim->error_rate, json_number_value(v));
        if ((v = json_object_get(body, "dropRate")))
                atomic_store(&sim->drop_rate, json_number_value(v));
        if ((v = json_object_get(body, "tokenFailRate")))
                atomic_store(&sim->token_fail_rate, json_number_value(v));
        if ((v = json_object_get(body, "latencyMs")))
                atomic_store(&sim->latency_ms, (int64_t)json_integer_value(v));
        if ((v = json_object_get(body, "jobDurationMs")))
                atomic_store(&sim->job_duration_ms, (int64_t)json_integer_value(v));
        if ((v = json_object_get(body, "jobFailRate")))
                atomic_store(&sim->job_fail_rate, json_number_value(v));
        {
                json_t *rate = json_object_get(body, "rateLimit");
                json_t *burst = json_object_get(body, "burst");
                if (rate || burst)
                        cxw_sim_rate_set(sim, rate ? json_number_value(rate) : -1,
                                         burst ? (int64_t)json_integer_value(burst) : 0);
        }
        json_decref(body);
        CXW_INFO("sim", "runtime configuration changed");
        answer_json(r, 200, config_json(sim));
}

static void h_reset(cxw_sim_t *sim, req_t *r)
{
        cxw_sim_reset(sim);
        answer_json(r, 200, json_pack("{s:b}", "reset", 1));
}

/* ---- the fault layer and the MHD callbacks ---- */

static void answer_rate_limited(cxw_sim_t *sim, req_t *r, int64_t wait_ms)
{
        int64_t secs = (wait_ms + 999) / 1000;
        char buf[64];

        if (secs < 1)
                secs = 1;
        atomic_fetch_add(&sim->rate_limited, 1);
        if (sim->opts->retry_after == CXW_SIM_RETRY_SECONDS) {
                snprintf(buf, sizeof(buf), "%lld", (long long)secs);
                set_header(r, MHD_HTTP_HEADER_RETRY_AFTER, buf);
        } else if (sim->opts->retry_after == CXW_SIM_RETRY_DATE) {
                time_t t = (time_t)(cxw_wall_ms() / 1000 + secs);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
                set_header(r, MHD_HTTP_HEADER_RETRY_AFTER, buf);
        }
        answer_json(r, 429,
                    json_pack("{s:s, s:I}", "error", "rate limit exceeded",
                              "retryAfterSeconds", (json_int_t)secs));
}

/* Builds the answer. @returns true if it may be delayed by the latency. */
static bool process(cxw_sim_t *sim, req_t *r)
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
                        answer_error(r, codes[cxw_sim_rand64(sim) % 3],
                                     "simulated server error");
                        return true;
                }
        }
        if (r->route) {
                r->route->fn(sim, r);
        } else if (r->path_known) {
                r->hdr_name = MHD_HTTP_HEADER_ALLOW; /* hdr_value holds the list */
                answer_error(r, 405, "method not allowed");
        } else {
                answer_error(r, 404, "not found");
        }
        return true;
}

/* Headers of a new request: route it; /api/ requests are counted in flight
 * and may be dropped. */
static enum MHD_Result begin(void *opaque, cxw_httpd_req_t *http, const char *method,
                             const char *url)
{
        cxw_sim_t *sim = opaque;
        req_t *r = calloc(1, sizeof(*r));

        if (!r)
                return MHD_NO;
        http->state = r;
        r->http = http;
        r->is_api = strncmp(url, "/api/", 5) == 0;
        r->is_oauth = strncmp(url, "/oauth/", 7) == 0;
        route_request(r, method, url);
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
        req_t *r = http->state;

        if (r->delayed)
                return send_answer(sim, r);
        if (process(sim, r) && r->is_api) {
                int64_t delay = atomic_load(&sim->latency_ms);
                int64_t jitter = sim->opts->latency_jitter_ms;

                if (jitter > 0)
                        delay += (int64_t)(cxw_sim_rand64(sim) % (uint64_t)(jitter + 1));
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
        req_t *r = http->state;

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
            .begin = begin,
            .serve = serve,
            .end = end,
            .opaque = sim,
        };
        cxw_httpd_t *h;

        snprintf(listen, sizeof(listen), "%s:%u", o->addr, (unsigned)o->port);
        h = cxw_httpd_start(&cfg, errstr, errstr_size);
        if (h)
                *port_out = (uint16_t)cxw_httpd_port(h);
        return h;
}

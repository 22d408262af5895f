/* admin.c: the admin HTTP listener (a cxw_httpd daemon in epoll mode, driven
 * by the loop thread): routing, bounds, hooks. */
#include "cxone/io/admin.h"
#include "cxone/io/httpd.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

/* Past this many bytes of a chunked body over the limit, the connection is
 * closed instead of drained (a declared length over the limit is refused
 * before reading at all). */
#define DRAIN_FACTOR 16

#define CT_TEXT    "text/plain; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON    "application/json"

#define TOO_LARGE   "{\"error\":\"body too large\"}"
#define NOT_ALLOWED "method not allowed\n"

struct cxw_admin_s {
        cxw_httpd_t *httpd;
        cxw_admin_hooks_t hooks;
        void *opaque;
        cxw_loop_t *loop; /**< set by cxw_admin_attach() */
        cxw_timer_t timer;
};

struct cxw_admin_request_s {
        const cxw_httpd_req_t *req;
};

typedef enum {
        ROUTE_NONE = 0,
        ROUTE_METRICS,
        ROUTE_HEALTHZ,
        ROUTE_READYZ,
        ROUTE_WEBHOOK,
} route_t;

const char *cxw_admin_request_header(const cxw_admin_request_t *req, const char *name)
{
        return req ? cxw_httpd_header(req->req, name) : NULL;
}

/* Queues status with body (len bytes) as mem says, never cached. */
static enum MHD_Result reply(cxw_httpd_req_t *req, unsigned status, const char *ctype,
                             const char *body, size_t len, cxw_httpd_mem_t mem,
                             const char *allow)
{
        const char *headers[] = {MHD_HTTP_HEADER_CACHE_CONTROL, "no-store",
                                 MHD_HTTP_HEADER_ALLOW, allow, NULL};

        return cxw_httpd_reply(req, status, ctype, body, len, mem, headers);
}

static enum MHD_Result reply_text(cxw_httpd_req_t *req, unsigned status, const char *text)
{
        return reply(req, status, CT_TEXT, text, strlen(text), CXW_HTTPD_COPY, NULL);
}

static route_t route_of(const char *url)
{
        if (strcmp(url, "/metrics") == 0)
                return ROUTE_METRICS;
        if (strcmp(url, "/healthz") == 0)
                return ROUTE_HEALTHZ;
        if (strcmp(url, "/readyz") == 0)
                return ROUTE_READYZ;
        if (strcmp(url, "/webhooks/cxone") == 0)
                return ROUTE_WEBHOOK;
        return ROUTE_NONE;
}

static enum MHD_Result serve_metrics(cxw_admin_t *a, cxw_httpd_req_t *req)
{
        char *body = NULL;
        size_t len = 0;

        if (!a->hooks.metrics)
                return reply_text(req, MHD_HTTP_NOT_FOUND, "no metrics here\n");
        if (a->hooks.metrics(a->opaque, &body, &len) != 0 || !body) {
                free(body);
                CXW_WARN("admin", "rendering /metrics failed");
                return reply_text(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                  "rendering metrics failed\n");
        }
        return reply(req, MHD_HTTP_OK, CT_METRICS, body, len, CXW_HTTPD_TAKE, NULL);
}

static enum MHD_Result serve_healthz(cxw_admin_t *a, cxw_httpd_req_t *req)
{
        if (a->hooks.alive && !a->hooks.alive(a->opaque))
                return reply_text(req, MHD_HTTP_SERVICE_UNAVAILABLE, "not alive\n");
        return reply_text(req, MHD_HTTP_OK, "ok\n");
}

static enum MHD_Result serve_readyz(cxw_admin_t *a, cxw_httpd_req_t *req)
{
        char reason[CXW_ADMIN_MAX_REASON];
        char text[CXW_ADMIN_MAX_REASON + 2];

        reason[0] = '\0';
        if (!a->hooks.ready || a->hooks.ready(a->opaque, reason, sizeof(reason)))
                return reply_text(req, MHD_HTTP_OK, "ready\n");
        reason[sizeof(reason) - 1] = '\0';
        snprintf(text, sizeof(text), "%s\n", reason[0] ? reason : "not ready");
        return reply_text(req, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

/* The body is complete (only a webhook POST gets this far). */
static enum MHD_Result serve_webhook(void *opaque, cxw_httpd_req_t *r)
{
        cxw_admin_t *a = opaque;
        char answer[CXW_ADMIN_MAX_ANSWER];
        cxw_admin_request_t req = {.req = r};
        int status;

        if (r->too_large)
                return reply(r, MHD_HTTP_CONTENT_TOO_LARGE, CT_JSON, TOO_LARGE,
                             strlen(TOO_LARGE), CXW_HTTPD_COPY, NULL);
        answer[0] = '\0';
        status = a->hooks.webhook(a->opaque, &req, r->body ? r->body : "", r->len, answer,
                                  sizeof(answer));
        answer[sizeof(answer) - 1] = '\0';
        if (status < 100 || status > 599) {
                CXW_WARN("admin", "webhook hook answered status %d; sending 500", status);
                status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!answer[0])
                snprintf(answer, sizeof(answer), "{}");
        return reply(r, (unsigned)status, CT_JSON, answer, strlen(answer), CXW_HTTPD_COPY,
                     NULL);
}

/* The first call of a request: route it, and answer at once whatever needs
 * no body (every GET, every error). */
static enum MHD_Result first_call(void *opaque, cxw_httpd_req_t *req, const char *method,
                                  const char *url)
{
        cxw_admin_t *a = opaque;
        bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        route_t route;

        if (strlen(url) > CXW_ADMIN_MAX_URL)
                return reply_text(req, MHD_HTTP_URI_TOO_LONG, "URL too long\n");
        route = route_of(url);
        switch (route) {
        case ROUTE_NONE:
                return reply_text(req, MHD_HTTP_NOT_FOUND, "not found\n");
        case ROUTE_METRICS:
        case ROUTE_HEALTHZ:
        case ROUTE_READYZ:
                if (!get)
                        return reply(req, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT,
                                     NOT_ALLOWED, strlen(NOT_ALLOWED), CXW_HTTPD_COPY,
                                     "GET, HEAD");
                if (route == ROUTE_METRICS)
                        return serve_metrics(a, req);
                if (route == ROUTE_HEALTHZ)
                        return serve_healthz(a, req);
                return serve_readyz(a, req);
        case ROUTE_WEBHOOK:
                break;
        }
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
                return reply(req, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT, NOT_ALLOWED,
                             strlen(NOT_ALLOWED), CXW_HTTPD_COPY, "POST");
        if (!a->hooks.webhook)
                return reply_text(req, MHD_HTTP_NOT_FOUND, "no webhooks here\n");
        const char *cl = cxw_httpd_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
                char *end;
                unsigned long long n;

                errno = 0;
                n = strtoull(cl, &end, 10);
                if (errno || end == cl || n > CXW_ADMIN_MAX_BODY) {
                        /* Refused before a byte of it is read; MHD closes the
                         * connection after the answer. */
                        return reply(req, MHD_HTTP_CONTENT_TOO_LARGE, CT_JSON, TOO_LARGE,
                                     strlen(TOO_LARGE), CXW_HTTPD_COPY, NULL);
                }
        }
        req->body_max = CXW_ADMIN_MAX_BODY; /* the body comes next */
        return MHD_YES;
}

cxw_admin_t *cxw_admin_new(const char *listen, const cxw_admin_limits_t *limits,
                           const cxw_admin_hooks_t *hooks, void *opaque, char *errstr,
                           size_t errstr_size)
{
        cxw_admin_limits_t lim = limits ? *limits : (cxw_admin_limits_t){0};

        if (!lim.max_connections)
                lim.max_connections = CXW_ADMIN_MAX_CONNECTIONS;
        if (!lim.per_client)
                lim.per_client = CXW_ADMIN_PER_CLIENT;
        if (!lim.request_deadline_ms)
                lim.request_deadline_ms = CXW_ADMIN_REQUEST_DEADLINE_MS;

        cxw_httpd_config_t cfg = {
            .name = "admin",
            .listen = listen,
            .external = true,
            .limits =
                {
                    .max_connections = lim.max_connections,
                    .backlog = lim.max_connections,
                    .timeout_s = CXW_ADMIN_TIMEOUT_S,
                    .conn_memory = CXW_ADMIN_CONN_MEMORY,
                    .body_drain_max = (size_t)CXW_ADMIN_MAX_BODY * DRAIN_FACTOR,
                    .per_client = lim.per_client,
                    .request_deadline_ms = lim.request_deadline_ms,
                },
            .log_tag = "admin",
            .begin = first_call,
            .serve = serve_webhook,
        };
        cxw_admin_t *a = calloc(1, sizeof(*a));

        if (!a) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (hooks)
                a->hooks = *hooks;
        a->opaque = opaque;
        cfg.opaque = a;
        a->httpd = cxw_httpd_start(&cfg, errstr, errstr_size);
        if (!a->httpd)
                goto fail;
        CXW_INFO("admin",
                 "listening on %s (port %d); at most %u connections, %u per client, "
                 "%u ms per request",
                 listen, cxw_httpd_port(a->httpd), lim.max_connections, lim.per_client,
                 lim.request_deadline_ms);
        return a;

fail:
        cxw_admin_destroy(a);
        return NULL;
}

void cxw_admin_destroy(cxw_admin_t *a)
{
        if (!a)
                return;
        if (a->loop)
                cxw_timer_stop(a->loop, &a->timer);
        cxw_httpd_stop(a->httpd);
        free(a);
}

int cxw_admin_fd(const cxw_admin_t *a)
{
        return a ? cxw_httpd_fd(a->httpd) : -1;
}

int64_t cxw_admin_timeout_ms(const cxw_admin_t *a)
{
        return a ? cxw_httpd_timeout_ms(a->httpd) : -1;
}

void cxw_admin_run(cxw_admin_t *a)
{
        if (a)
                cxw_httpd_run(a->httpd);
}

uint64_t cxw_admin_deadline_closes(const cxw_admin_t *a)
{
        return a ? cxw_httpd_deadline_closes(a->httpd) : 0;
}

int cxw_admin_port(const cxw_admin_t *a)
{
        return a ? cxw_httpd_port(a->httpd) : 0;
}

static void on_timer(cxw_loop_t *loop, cxw_timer_t *timer, void *opaque);

/* Runs MHD, then arms the timer for its next deadline (connection
 * timeouts, data already buffered). */
static void run_and_rearm(cxw_admin_t *a)
{
        int64_t t;

        cxw_admin_run(a);
        t = cxw_admin_timeout_ms(a);
        if (t < 0) {
                cxw_timer_stop(a->loop, &a->timer);
                return;
        }
        if (t > (int64_t)CXW_ADMIN_TIMEOUT_S * 1000)
                t = (int64_t)CXW_ADMIN_TIMEOUT_S * 1000;
        cxw_timer_start(a->loop, &a->timer, cxw_now_ms() + t, on_timer, a);
}

static void on_timer(cxw_loop_t *loop, cxw_timer_t *timer, void *opaque)
{
        (void)loop;
        (void)timer;
        run_and_rearm(opaque);
}

static void on_fd(cxw_loop_t *loop, int fd, void *opaque)
{
        (void)loop;
        (void)fd;
        run_and_rearm(opaque);
}

int cxw_admin_attach(cxw_admin_t *a, cxw_loop_t *loop)
{
        if (!a || !loop || a->loop)
                return -1;
        if (cxw_loop_watch_fd(loop, cxw_admin_fd(a), on_fd, a) != 0)
                return -1;
        a->loop = loop;
        run_and_rearm(a);
        return 0;
}

/* admin.c: the admin HTTP listener (libmicrohttpd in epoll mode, driven by
 * the loop thread): routing, bounds, hooks. */
#include "cxone/io/admin.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* Past this many bytes of a chunked body over the limit, the connection is
 * closed instead of drained (a declared length over the limit is refused
 * before reading at all). */
#define DRAIN_FACTOR 16
/* Longest host in "HOST:PORT". */
#define MAX_HOST 255

#define CT_TEXT    "text/plain; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON    "application/json"

#define TOO_LARGE   "{\"error\":\"body too large\"}"
#define NOT_ALLOWED "method not allowed\n"

struct cxw_admin_s {
        struct MHD_Daemon *d;
        cxw_admin_hooks_t hooks;
        void *opaque;
        int port;
        int fd;
        cxw_loop_t *loop; /**< set by cxw_admin_attach() */
        cxw_timer_t timer;
};

struct cxw_admin_request_s {
        struct MHD_Connection *conn;
};

typedef enum {
        ROUTE_NONE = 0,
        ROUTE_METRICS,
        ROUTE_HEALTHZ,
        ROUTE_READYZ,
        ROUTE_WEBHOOK,
} route_t;

/* Per-request state, in MHD's con_cls. */
typedef struct req_s {
        route_t route;
        bool answered;  /**< a response was queued on the first call */
        bool too_large; /**< the body passed the limit: answer 413 */
        char *body;     /**< webhook body so far, NUL-terminated */
        size_t len, cap;
        size_t received; /**< body bytes seen, kept or not */
} req_t;

const char *cxw_admin_request_header(const cxw_admin_request_t *req, const char *name)
{
        if (!req || !name)
                return NULL;
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Queues status with body (len bytes), which MHD copies unless must_free,
 * in which case MHD frees it (and so do we if the response cannot be made). */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *ctype, const char *body, size_t len,
                             bool must_free, const char *allow)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(
            len, (void *)body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
        if (!resp) {
                if (must_free)
                        free((void *)body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (allow)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status,
                                  const char *text)
{
        return reply(conn, status, CT_TEXT, text, strlen(text), false, NULL);
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

static enum MHD_Result serve_metrics(cxw_admin_t *a, struct MHD_Connection *conn)
{
        char *body = NULL;
        size_t len = 0;

        if (!a->hooks.metrics)
                return reply_text(conn, MHD_HTTP_NOT_FOUND, "no metrics here\n");
        if (a->hooks.metrics(a->opaque, &body, &len) != 0 || !body) {
                free(body);
                CXW_WARN("admin", "rendering /metrics failed");
                return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                  "rendering metrics failed\n");
        }
        return reply(conn, MHD_HTTP_OK, CT_METRICS, body, len, true, NULL);
}

static enum MHD_Result serve_healthz(cxw_admin_t *a, struct MHD_Connection *conn)
{
        if (a->hooks.alive && !a->hooks.alive(a->opaque))
                return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not alive\n");
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
}

static enum MHD_Result serve_readyz(cxw_admin_t *a, struct MHD_Connection *conn)
{
        char reason[CXW_ADMIN_MAX_REASON];
        char text[CXW_ADMIN_MAX_REASON + 2];

        reason[0] = '\0';
        if (!a->hooks.ready || a->hooks.ready(a->opaque, reason, sizeof(reason)))
                return reply_text(conn, MHD_HTTP_OK, "ready\n");
        reason[sizeof(reason) - 1] = '\0';
        snprintf(text, sizeof(text), "%s\n", reason[0] ? reason : "not ready");
        return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

static enum MHD_Result serve_webhook(cxw_admin_t *a, struct MHD_Connection *conn,
                                     req_t *r)
{
        char answer[CXW_ADMIN_MAX_ANSWER];
        cxw_admin_request_t req = {.conn = conn};
        int status;

        if (r->too_large)
                return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, CT_JSON, TOO_LARGE,
                             strlen(TOO_LARGE), false, NULL);
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
        return reply(conn, (unsigned)status, CT_JSON, answer, strlen(answer), false,
                     NULL);
}

/* Keeps up to CXW_ADMIN_MAX_BODY bytes of the body; past it only counts.
 * @returns false when the connection should be closed. */
static bool keep_body(req_t *r, const char *data, size_t n)
{
        r->received += n;
        if (r->received > (size_t)CXW_ADMIN_MAX_BODY * DRAIN_FACTOR)
                return false;
        if (r->too_large)
                return true;
        if (r->len + n > CXW_ADMIN_MAX_BODY) {
                r->too_large = true;
                free(r->body);
                r->body = NULL;
                r->len = r->cap = 0;
                return true;
        }
        if (r->len + n + 1 > r->cap) {
                size_t cap = r->cap ? r->cap : 1024;
                char *b;

                while (cap < r->len + n + 1)
                        cap *= 2;
                b = realloc(r->body, cap);
                if (!b) {
                        r->too_large = true; /* answered 413, never a crash */
                        return true;
                }
                r->body = b;
                r->cap = cap;
        }
        memcpy(r->body + r->len, data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return true;
}

/* The first call of a request: route it, and answer at once whatever needs
 * no body (every GET, every error). */
static enum MHD_Result first_call(cxw_admin_t *a, struct MHD_Connection *conn, req_t *r,
                                  const char *url, const char *method)
{
        bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

        r->answered = true;
        if (strlen(url) > CXW_ADMIN_MAX_URL)
                return reply_text(conn, MHD_HTTP_URI_TOO_LONG, "URL too long\n");
        r->route = route_of(url);
        switch (r->route) {
        case ROUTE_NONE:
                return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
        case ROUTE_METRICS:
        case ROUTE_HEALTHZ:
        case ROUTE_READYZ:
                if (!get)
                        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT,
                                     NOT_ALLOWED, strlen(NOT_ALLOWED), false,
                                     "GET, HEAD");
                if (r->route == ROUTE_METRICS)
                        return serve_metrics(a, conn);
                if (r->route == ROUTE_HEALTHZ)
                        return serve_healthz(a, conn);
                return serve_readyz(a, conn);
        case ROUTE_WEBHOOK:
                break;
        }
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
                return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, CT_TEXT, NOT_ALLOWED,
                             strlen(NOT_ALLOWED), false, "POST");
        if (!a->hooks.webhook)
                return reply_text(conn, MHD_HTTP_NOT_FOUND, "no webhooks here\n");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
                char *end;
                unsigned long long n;

                errno = 0;
                n = strtoull(cl, &end, 10);
                if (errno || end == cl || n > CXW_ADMIN_MAX_BODY) {
                        /* Refused before a byte of it is read; MHD closes the
                         * connection after the answer. */
                        return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, CT_JSON, TOO_LARGE,
                                     strlen(TOO_LARGE), false, NULL);
                }
        }
        r->answered = false; /* the body comes next */
        return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
        cxw_admin_t *a = cls;
        req_t *r = *con_cls;

        (void)version;
        if (!r) {
                r = calloc(1, sizeof(*r));
                if (!r)
                        return MHD_NO;
                *con_cls = r;
                return first_call(a, conn, r, url ? url : "", method ? method : "");
        }
        if (r->answered) {
                /* A body after an early answer: MHD closes the connection
                 * once the answer is out; nothing to keep. */
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                bool keep = keep_body(r, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return keep ? MHD_YES : MHD_NO;
        }
        r->answered = true;
        return serve_webhook(a, conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        req_t *r = *con_cls;

        (void)cls;
        (void)conn;
        (void)toe;
        if (!r)
                return;
        free(r->body);
        free(r);
        *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        size_t n;

        (void)cls;
        if (CXW_LOG_DEBUG > cxw_log_threshold)
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        CXW_DEBUG("admin", "libmicrohttpd: %s", msg);
}

/* Splits "HOST:PORT" / "[V6]:PORT" and resolves it into *ss.
 * @returns 0, or -1 with errstr. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
                        char *errstr, size_t errstr_size)
{
        char host[MAX_HOST + 1];
        const char *colon, *port;
        size_t hlen;
        bool bracketed = false;
        struct addrinfo hints, *res = NULL;
        int rc;

        if (!listen || !*listen) {
                snprintf(errstr, errstr_size, "admin listen address is empty");
                return -1;
        }
        if (listen[0] == '[') {
                const char *close = strchr(listen, ']');
                if (!close || close[1] != ':') {
                        snprintf(errstr, errstr_size,
                                 "admin listen \"%.100s\": want [IPV6]:PORT", listen);
                        return -1;
                }
                bracketed = true;
                hlen = (size_t)(close - listen - 1);
                colon = close + 1;
                if (hlen > MAX_HOST)
                        goto bad;
                memcpy(host, listen + 1, hlen);
        } else {
                colon = strrchr(listen, ':');
                if (!colon)
                        goto bad;
                hlen = (size_t)(colon - listen);
                if (hlen > MAX_HOST)
                        goto bad;
                memcpy(host, listen, hlen);
        }
        host[hlen] = '\0';
        port = colon + 1;
        if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) ||
            atoi(port) > 65535)
                goto bad;
        if (hlen == 0 && !bracketed)
                cxw_strlcpy(host, "0.0.0.0", sizeof(host));

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = bracketed ? AF_INET6 : AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV | (bracketed ? AI_NUMERICHOST : 0);
        rc = getaddrinfo(host, port, &hints, &res);
        if (rc != 0 || !res) {
                snprintf(errstr, errstr_size, "admin listen \"%.100s\": %s", listen,
                         rc ? gai_strerror(rc) : "no address");
                if (res)
                        freeaddrinfo(res);
                return -1;
        }
        if (res->ai_addrlen > sizeof(*ss)) {
                freeaddrinfo(res);
                goto bad;
        }
        memset(ss, 0, sizeof(*ss));
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *sslen = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;

bad:
        snprintf(errstr, errstr_size,
                 "admin listen \"%.100s\": want HOST:PORT (port 0-65535, [IPV6]:PORT)",
                 listen);
        return -1;
}

cxw_admin_t *cxw_admin_new(const char *listen, const cxw_admin_hooks_t *hooks,
                           void *opaque, char *errstr, size_t errstr_size)
{
        struct sockaddr_storage ss;
        socklen_t sslen = 0;
        unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        const union MHD_DaemonInfo *info;
        cxw_admin_t *a = NULL;

        if (parse_listen(listen, &ss, &sslen, errstr, errstr_size) != 0)
                return NULL;
        if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
                snprintf(errstr, errstr_size, "libmicrohttpd lacks epoll support");
                return NULL;
        }
        a = calloc(1, sizeof(*a));
        if (!a) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (hooks)
                a->hooks = *hooks;
        a->opaque = opaque;
        a->fd = -1;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        errno = 0;
        a->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, a, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)CXW_ADMIN_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)CXW_ADMIN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)CXW_ADMIN_CONN_MEMORY, MHD_OPTION_LISTEN_BACKLOG_SIZE,
            (unsigned)CXW_ADMIN_MAX_CONNECTIONS, MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, a, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
            MHD_OPTION_END);
        if (!a->d) {
                snprintf(errstr, errstr_size, "admin cannot listen on %.100s: %s", listen,
                         errno ? strerror(errno) : "libmicrohttpd failed to start");
                goto fail;
        }
        info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info || info->epoll_fd < 0) {
                snprintf(errstr, errstr_size, "admin: no epoll fd from libmicrohttpd");
                goto fail;
        }
        a->fd = info->epoll_fd;
        info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
        a->port = info ? info->port : 0;
        CXW_INFO("admin", "listening on %s (port %d)", listen, a->port);
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
        if (a->d)
                MHD_stop_daemon(a->d);
        free(a);
}

int cxw_admin_fd(const cxw_admin_t *a)
{
        return a ? a->fd : -1;
}

int64_t cxw_admin_timeout_ms(const cxw_admin_t *a)
{
        MHD_UNSIGNED_LONG_LONG t = 0;

        if (!a || MHD_get_timeout(a->d, &t) != MHD_YES)
                return -1;
        return t > (MHD_UNSIGNED_LONG_LONG)INT64_MAX ? INT64_MAX : (int64_t)t;
}

void cxw_admin_run(cxw_admin_t *a)
{
        if (a)
                MHD_run(a->d);
}

int cxw_admin_port(const cxw_admin_t *a)
{
        return a ? a->port : 0;
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
        if (cxw_loop_watch_fd(loop, a->fd, on_fd, a) != 0)
                return -1;
        a->loop = loop;
        run_and_rearm(a);
        return 0;
}

/* httpd.c: a libmicrohttpd daemon with the request plumbing the admin
 * listener and cxone-sim share: per-request state, a body kept up to a cap,
 * answers, header look-ups, the listen address, and HTTPS from a PEM
 * certificate and key (read and checked by pem.c before libmicrohttpd,
 * which would only say it failed, gets them). */
#include "cxone/io/httpd.h"
#include "cxone/io/pem.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>

/* Longest host in "HOST:PORT". */
#define MAX_HOST 255
/* Numeric MHD options at most (limits, TLS; MHD_OPTION_END included). */
#define MAX_OPTIONS 12

/* One open connection: its request deadline (external mode) and whether its
 * TLS handshake has been counted. */
typedef struct conn_s {
        struct conn_s *prev, *next;
        int fd;
        int64_t since_ms; /* accepted, or the end of its previous request */
        bool cut;         /* shut down at the deadline; MHD closes it next */
        bool listed;      /* in h->conns (only with a request deadline) */
        bool tls_counted; /* a request came: its handshake is counted */
} conn_t;

struct cxw_httpd_s {
        struct MHD_Daemon *d;
        cxw_httpd_config_t cfg;
        int port;
        int fd;
        conn_t *conns; /* open connections, with a deadline only */
        uint64_t deadline_closes;
        char *tls_cert, *tls_key; /* PEM, NUL-terminated; MHD reads them */
        atomic_uint_fast64_t connections;
        atomic_uint_fast64_t tls_handshakes;
};

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "admin " before a message, or nothing. */
#define NAME_FMT       "%s%s"
#define NAME_ARGS(cfg) (cfg)->name ? (cfg)->name : "", (cfg)->name ? " " : ""

/* Splits "HOST:PORT" / "[V6]:PORT" and resolves it into *ss.
 * @returns 0, or -1 with errstr. */
static int parse_listen(const cxw_httpd_config_t *cfg, struct sockaddr_storage *ss,
                        char *errstr, size_t errstr_size)
{
        const char *listen = cfg->listen;
        char host[MAX_HOST + 1];
        const char *colon, *port;
        size_t hlen;
        bool bracketed = false;
        struct addrinfo hints, *res = NULL;
        int rc;

        if (!listen || !*listen) {
                snprintf(errstr, errstr_size, NAME_FMT "listen address is empty",
                         NAME_ARGS(cfg));
                return -1;
        }
        if (listen[0] == '[') {
                const char *close = strchr(listen, ']');
                if (!close || close[1] != ':') {
                        snprintf(errstr, errstr_size,
                                 NAME_FMT "listen \"%.100s\": want [IPV6]:PORT",
                                 NAME_ARGS(cfg), listen);
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
        if (hlen == 0 && !bracketed) {
                CXW_WARN(cfg->log_tag ? cfg->log_tag : "httpd",
                         NAME_FMT "listen \"%.100s\" binds every IPv4 interface "
                                  "(0.0.0.0): write 0.0.0.0:%s to mean it, or one "
                                  "address such as 127.0.0.1:%s",
                         NAME_ARGS(cfg), listen, port, port);
                cxw_strlcpy(host, "0.0.0.0", sizeof(host));
        }

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = bracketed ? AF_INET6 : AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV | (bracketed ? AI_NUMERICHOST : 0);
        rc = getaddrinfo(host, port, &hints, &res);
        if (rc != 0 || !res) {
                snprintf(errstr, errstr_size, NAME_FMT "listen \"%.100s\": %s",
                         NAME_ARGS(cfg), listen, rc ? gai_strerror(rc) : "no address");
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
        freeaddrinfo(res);
        return 0;

bad:
        snprintf(errstr, errstr_size,
                 NAME_FMT "listen \"%.100s\": want HOST:PORT (port 0-65535, [IPV6]:PORT)",
                 NAME_ARGS(cfg), listen);
        return -1;
}

/* Keeps up to body_max bytes of the body; past it only counts.
 * @returns false when the connection should be closed. */
static bool keep_body(const cxw_httpd_t *h, cxw_httpd_req_t *r, const char *data,
                      size_t n)
{
        size_t drain = h->cfg.limits.body_drain_max;

        r->received += n;
        if (drain && r->received > drain)
                return false;
        if (r->too_large || r->body_max == 0)
                return true;
        if (r->len + n > r->body_max) {
                r->too_large = true;
                free(r->body);
                r->body = NULL;
                r->len = r->cap = 0;
                return true;
        }
        if (r->len + n + 1 > r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 1024;
                char *b;

                while (cap < r->len + n + 1)
                        cap *= 2;
                if (cap > r->body_max + 1)
                        cap = r->body_max + 1;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
        cxw_httpd_t *h = cls;
        cxw_httpd_req_t *r = *con_cls;

        (void)version;
        if (!r && h->tls_cert) {
                const union MHD_ConnectionInfo *ci =
                    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
                conn_t *c = ci ? ci->socket_context : NULL;

                /* One thread serves a connection at a time: no lock. */
                if (c && !c->tls_counted) {
                        c->tls_counted = true;
                        atomic_fetch_add(&h->tls_handshakes, 1);
                }
        }
        if (!r) {
                r = calloc(1, sizeof(*r));
                if (!r)
                        return MHD_NO;
                r->conn = conn;
                *con_cls = r;
                return h->cfg.begin(h->cfg.opaque, r, method ? method : "",
                                    url ? url : "");
        }
        if (*upload_data_size > 0) {
                bool keep =
                    r->answered || keep_body(h, r, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return keep ? MHD_YES : MHD_NO;
        }
        if (r->answered) /* answered early: MHD closes after the answer */
                return MHD_YES;
        return h->cfg.serve(h->cfg.opaque, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        cxw_httpd_t *h = cls;
        cxw_httpd_req_t *r = *con_cls;

        (void)toe;
        if (h->cfg.limits.request_deadline_ms) {
                const union MHD_ConnectionInfo *ci =
                    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
                conn_t *c = ci ? ci->socket_context : NULL;

                if (c) /* the next request on it has the whole deadline */
                        c->since_ms = mono_ms();
        }
        if (!r)
                return;
        if (h->cfg.end)
                h->cfg.end(h->cfg.opaque, r);
        free(r->body);
        free(r);
        *con_cls = NULL;
}

/* Counts connections; keeps their state, and the list of open ones for the
 * request deadline (external mode: one thread, so the list needs no lock). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
        cxw_httpd_t *h = cls;
        conn_t *c = *socket_context;

        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci =
                    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

                atomic_fetch_add(&h->connections, 1);
                c = calloc(1, sizeof(*c));
                if (!c || !ci) { /* no deadline for it; the idle timeout holds */
                        free(c);
                        return;
                }
                c->fd = ci->connect_fd;
                c->since_ms = mono_ms();
                *socket_context = c;
                if (!h->cfg.limits.request_deadline_ms)
                        return;
                c->listed = true;
                c->next = h->conns;
                if (h->conns)
                        h->conns->prev = c;
                h->conns = c;
                return;
        }
        if (!c) /* MHD_CONNECTION_NOTIFY_CLOSED */
                return;
        if (c->listed) {
                if (c->prev)
                        c->prev->next = c->next;
                else
                        h->conns = c->next;
                if (c->next)
                        c->next->prev = c->prev;
        }
        free(c);
        *socket_context = NULL;
}

/* Shuts down the connections past the request deadline: their next read
 * ends, and MHD closes them (the fd stays MHD's). */
static void cut_late(cxw_httpd_t *h)
{
        int64_t now = mono_ms(), max = h->cfg.limits.request_deadline_ms;

        for (conn_t *c = h->conns; c; c = c->next) {
                if (c->cut || now - c->since_ms < max)
                        continue;
                c->cut = true;
                h->deadline_closes++;
                shutdown(c->fd, SHUT_RDWR);
                CXW_DEBUG(h->cfg.log_tag ? h->cfg.log_tag : "httpd",
                          "connection closed at the request deadline (%" PRId64 " ms)",
                          max);
        }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        const cxw_httpd_t *h = cls;
        char msg[512];
        size_t n;

        if (CXW_LOG_DEBUG > cxw_log_threshold)
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        CXW_DEBUG(h->cfg.log_tag ? h->cfg.log_tag : "httpd", "libmicrohttpd: %s", msg);
}

/* The numeric options of cfg's limits, MHD_OPTION_END last. */
static void limit_options(const cxw_httpd_config_t *cfg, cxw_httpd_t *h,
                          struct MHD_OptionItem *o)
{
        size_t n = 0;

        o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                         (intptr_t)cfg->limits.max_connections, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                         (intptr_t)cfg->limits.timeout_s, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE,
                                         (intptr_t)cfg->limits.backlog, NULL};
        if (cfg->limits.per_client)
                o[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                                 (intptr_t)cfg->limits.per_client, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                         (intptr_t)on_connection, h};
        if (h->tls_cert) {
                o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key};
                o[n++] =
                    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert};
        }
        if (cfg->limits.conn_memory)
                o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                                 (intptr_t)cfg->limits.conn_memory, NULL};
        if (!cfg->external && cfg->threads > 1) /* 1: MHD's one thread, no pool */
                o[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                                 (intptr_t)cfg->threads, NULL};
        o[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

/* Reads and checks cfg's certificate and key into h (cxw_pem_load_pair). */
static int load_tls(cxw_httpd_t *h, char *errstr, size_t errstr_size)
{
        const cxw_httpd_config_t *cfg = &h->cfg;
        char what[64];

        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
                snprintf(errstr, errstr_size, "libmicrohttpd lacks TLS support");
                return -1;
        }
        snprintf(what, sizeof(what), NAME_FMT "TLS", NAME_ARGS(cfg));
        return cxw_pem_load_pair(what, cfg->tls_cert_file, cfg->tls_key_file,
                                 &h->tls_cert, &h->tls_key, errstr, errstr_size);
}

cxw_httpd_t *cxw_httpd_start(const cxw_httpd_config_t *cfg, char *errstr,
                             size_t errstr_size)
{
        struct sockaddr_storage ss;
        struct MHD_OptionItem opts[MAX_OPTIONS];
        unsigned flags = MHD_USE_ERROR_LOG;
        bool epoll = MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES;
        const union MHD_DaemonInfo *info;
        cxw_httpd_t *h = NULL;

        if (parse_listen(cfg, &ss, errstr, errstr_size) != 0)
                return NULL;
        if (cfg->limits.request_deadline_ms && !cfg->external) {
                snprintf(errstr, errstr_size,
                         NAME_FMT "a request deadline needs external mode",
                         NAME_ARGS(cfg));
                return NULL;
        }
        if (cfg->external && !epoll) {
                snprintf(errstr, errstr_size, "libmicrohttpd lacks epoll support");
                return NULL;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        h->cfg = *cfg;
        h->fd = -1;
        if ((cfg->tls_cert_file || cfg->tls_key_file) &&
            load_tls(h, errstr, errstr_size) != 0)
                goto fail;
        if (h->tls_cert)
                flags |= MHD_USE_TLS;
        if (epoll)
                flags |= MHD_USE_EPOLL;
        if (!cfg->external)
                flags |= MHD_USE_INTERNAL_POLLING_THREAD;
        if (cfg->suspend_resume)
                flags |= MHD_ALLOW_SUSPEND_RESUME;
        if (ss.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        limit_options(cfg, h, opts);
        errno = 0;
        h->d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_ARRAY, opts, MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_END);
        if (!h->d) {
                snprintf(errstr, errstr_size, NAME_FMT "cannot listen on %.100s: %s",
                         NAME_ARGS(cfg), cfg->listen,
                         errno ? strerror(errno) : "libmicrohttpd failed to start");
                goto fail;
        }
        if (cfg->external) {
                info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
                if (!info || info->epoll_fd < 0) {
                        snprintf(errstr, errstr_size,
                                 "%s%sno epoll fd from libmicrohttpd",
                                 cfg->name ? cfg->name : "", cfg->name ? ": " : "");
                        goto fail;
                }
                h->fd = info->epoll_fd;
        }
        info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info ? info->port : 0;
        return h;

fail:
        cxw_httpd_stop(h);
        return NULL;
}

void cxw_httpd_stop(cxw_httpd_t *h)
{
        if (!h)
                return;
        if (h->d)
                MHD_stop_daemon(h->d);
        while (h->conns) { /* in case MHD did not say every close */
                conn_t *c = h->conns;
                h->conns = c->next;
                free(c);
        }
        free(h->tls_cert);
        if (h->tls_key) /* a private key: wiped before it is freed */
                OPENSSL_cleanse(h->tls_key, strlen(h->tls_key));
        free(h->tls_key);
        free(h);
}

int cxw_httpd_port(const cxw_httpd_t *h)
{
        return h ? h->port : 0;
}

int cxw_httpd_fd(const cxw_httpd_t *h)
{
        return h ? h->fd : -1;
}

int64_t cxw_httpd_timeout_ms(const cxw_httpd_t *h)
{
        MHD_UNSIGNED_LONG_LONG t = 0;
        int64_t ms = -1, now;

        if (!h)
                return -1;
        if (MHD_get_timeout(h->d, &t) == MHD_YES)
                ms = t > (MHD_UNSIGNED_LONG_LONG)INT64_MAX ? INT64_MAX : (int64_t)t;
        if (!h->conns)
                return ms;
        now = mono_ms();
        for (const conn_t *c = h->conns; c; c = c->next) {
                int64_t left = c->since_ms + h->cfg.limits.request_deadline_ms - now;

                if (c->cut)
                        continue;
                if (left < 0)
                        left = 0;
                if (ms < 0 || left < ms)
                        ms = left;
        }
        return ms;
}

void cxw_httpd_run(cxw_httpd_t *h)
{
        if (!h)
                return;
        MHD_run(h->d);
        if (h->cfg.limits.request_deadline_ms && h->conns)
                cut_late(h);
}

uint64_t cxw_httpd_deadline_closes(const cxw_httpd_t *h)
{
        return h ? h->deadline_closes : 0;
}

bool cxw_httpd_is_tls(const cxw_httpd_t *h)
{
        return h && h->tls_cert;
}

uint64_t cxw_httpd_connections(const cxw_httpd_t *h)
{
        return h ? atomic_load(&h->connections) : 0;
}

uint64_t cxw_httpd_tls_handshakes(const cxw_httpd_t *h)
{
        return h ? atomic_load(&h->tls_handshakes) : 0;
}

enum MHD_Result cxw_httpd_reply(cxw_httpd_req_t *req, unsigned status, const char *ctype,
                                const char *body, size_t len, cxw_httpd_mem_t mem,
                                const char *const *headers)
{
        static const enum MHD_ResponseMemoryMode modes[] = {
            [CXW_HTTPD_COPY] = MHD_RESPMEM_MUST_COPY,
            [CXW_HTTPD_TAKE] = MHD_RESPMEM_MUST_FREE,
            [CXW_HTTPD_STATIC] = MHD_RESPMEM_PERSISTENT,
        };
        struct MHD_Response *resp;
        enum MHD_Result ret;

        req->answered = true;
        resp = MHD_create_response_from_buffer(len, (void *)body, modes[mem]);
        if (!resp) {
                if (mem == CXW_HTTPD_TAKE)
                        free((void *)body);
                return MHD_NO;
        }
        if (ctype)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        for (size_t i = 0; headers && headers[i]; i += 2)
                if (headers[i + 1])
                        MHD_add_response_header(resp, headers[i], headers[i + 1]);
        ret = MHD_queue_response(req->conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

const char *cxw_httpd_header(const cxw_httpd_req_t *req, const char *name)
{
        if (!req || !name)
                return NULL;
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *cxw_httpd_query(const cxw_httpd_req_t *req, const char *name)
{
        if (!req || !name)
                return NULL;
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

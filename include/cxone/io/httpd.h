/**
 * @file httpd.h
 * @brief The libmicrohttpd plumbing shared by the admin listener (admin.c)
 *        and cxone-sim (sim_http.c): starting a daemon on "HOST:PORT",
 *        collecting a request body up to a cap, answering with a status,
 *        content type, body and headers, header look-ups.
 *
 * With tls_cert_file and tls_key_file set it serves HTTPS (libmicrohttpd
 * with GnuTLS): the files are read and checked at start, and connections
 * and completed TLS handshakes are counted, so that a client's keep-alive
 * (one handshake per connection, not per request) can be seen.
 *
 * One request, as the daemon calls the owner:
 *   begin  headers only (method, URL): route it, set body_max, keep state
 *          in req->state; may answer at once (cxw_httpd_reply()), then the
 *          body is read and dropped and serve is not called.
 *   (body) kept up to req->body_max bytes; past it req->too_large is set
 *          and the rest only counted; past limits.body_drain_max bytes the
 *          connection is closed.
 *   serve  the body is complete: answer, or suspend the connection; after
 *          a resume serve is called again.
 *   end    the request is over (answered, closed or timed out): free
 *          req->state. The body and req go with it.
 *
 * @locality begin, serve and end run on the daemon's threads: the caller's
 *           thread in external mode (cxw_httpd_run()), else MHD's own.
 */
#ifndef CXONE_HTTPD_H
#define CXONE_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

typedef struct cxw_httpd_s cxw_httpd_t;

/** One request, from its headers until it is over. */
typedef struct cxw_httpd_req_s {
        struct MHD_Connection *conn;
        void *state;     /**< the owner's, set by begin, freed by end */
        size_t body_max; /**< bytes of body kept; 0 = read and dropped */
        bool answered;   /**< an answer is queued: no serve, body dropped */
        bool too_large;  /**< the body passed body_max (or memory ran out) */
        char *body;      /**< the body kept so far, NUL-terminated; NULL if none */
        size_t len;      /**< bytes of body kept */
        size_t cap;
        size_t received; /**< body bytes seen, kept or not */
} cxw_httpd_req_t;

/** @brief Headers of a new request. @returns MHD_NO to close the connection. */
typedef enum MHD_Result(cxw_httpd_begin_cb)(void *opaque, cxw_httpd_req_t *req,
                                            const char *method, const char *url);

/** @brief The body is complete (or the connection was resumed).
 *  @returns MHD_NO to close the connection. */
typedef enum MHD_Result(cxw_httpd_serve_cb)(void *opaque, cxw_httpd_req_t *req);

/** @brief The request is over; free req->state. */
typedef void(cxw_httpd_end_cb)(void *opaque, cxw_httpd_req_t *req);

/** Bounds of a daemon. New limits (per client, per request) go here. */
typedef struct cxw_httpd_limits_s {
        unsigned max_connections; /**< simultaneous connections */
        unsigned backlog;         /**< listen backlog */
        unsigned timeout_s;       /**< idle connection timeout */
        size_t conn_memory;       /**< per-connection header memory; 0 = MHD's */
        size_t body_drain_max;    /**< body bytes read before closing; 0 = all */
        /** simultaneous connections from one client IP address (more are
         *  closed at accept); 0 = no limit of its own */
        unsigned per_client;
        /** ms a connection may spend on one request, from its accept or the
         *  end of its previous request until the answer is sent, trickling
         *  or not: past it the connection is shut down. 0 = none. External
         *  mode only (cxw_httpd_run() enforces it). */
        unsigned request_deadline_ms;
} cxw_httpd_limits_t;

/** How to start a daemon. */
typedef struct cxw_httpd_config_s {
        const char *name; /**< for messages: "admin" ("admin listen ..."); or NULL */
        /** "HOST:PORT", "[V6]:PORT", or ":PORT": every IPv4 interface, with a
         *  warning in the log (write "0.0.0.0:PORT" to mean it) */
        const char *listen;
        /** true: the caller drives it (epoll, cxw_httpd_fd()/run()); false:
         *  MHD's own threads (a pool of threads when more than 1) do. */
        bool external;
        unsigned threads;
        bool suspend_resume; /**< allow MHD_suspend_connection() */
        cxw_httpd_limits_t limits;
        const char *log_tag; /**< libmicrohttpd's messages, at debug level */
        /** HTTPS: the server certificate (chain) as a PEM file, or NULL for
         *  plain HTTP; read at start (at most 1 MiB) and checked against
         *  tls_key_file. The two go together. */
        const char *tls_cert_file;
        /** HTTPS: the certificate's private key, an unencrypted PEM file. */
        const char *tls_key_file;
        cxw_httpd_begin_cb *begin;
        cxw_httpd_serve_cb *serve;
        cxw_httpd_end_cb *end; /**< may be NULL */
        void *opaque;
} cxw_httpd_config_t;

/** What cxw_httpd_reply() does with the body. */
typedef enum {
        CXW_HTTPD_COPY,   /**< copied */
        CXW_HTTPD_TAKE,   /**< malloc'ed, now the daemon's (freed on failure too) */
        CXW_HTTPD_STATIC, /**< lives for the whole process */
} cxw_httpd_mem_t;

/**
 * @brief Starts a daemon listening on cfg->listen (resolved, numeric port).
 * @returns the daemon, or NULL with a message in errstr.
 * @remark free with cxw_httpd_stop(); cfg is copied, its strings are not
 *         (name and log_tag must outlive the daemon).
 * @locality any thread.
 */
cxw_httpd_t *cxw_httpd_start(const cxw_httpd_config_t *cfg, char *errstr,
                             size_t errstr_size);

/** @brief Stops the daemon (no connection may be suspended) and frees it;
 *         NULL-safe. */
void cxw_httpd_stop(cxw_httpd_t *h);

/** @brief The port bound (the chosen one for port 0); 0 for NULL. */
int cxw_httpd_port(const cxw_httpd_t *h);

/** @brief External mode: the epoll fd to watch; -1 otherwise or for NULL. */
int cxw_httpd_fd(const cxw_httpd_t *h);

/** @brief External mode: ms until cxw_httpd_run() is due at the latest;
 *         -1 when nothing is due (or NULL). */
int64_t cxw_httpd_timeout_ms(const cxw_httpd_t *h);

/** @brief External mode: does what is ready (accepts, reads, calls the
 *         callbacks, writes), then shuts down the connections past
 *         limits.request_deadline_ms; NULL-safe. */
void cxw_httpd_run(cxw_httpd_t *h);

/** @brief Connections shut down at the request deadline so far; 0 for NULL. */
uint64_t cxw_httpd_deadline_closes(const cxw_httpd_t *h);

/** @brief Whether the daemon serves HTTPS; false for NULL. */
bool cxw_httpd_is_tls(const cxw_httpd_t *h);

/** @brief Connections accepted since start; 0 for NULL. @locality any thread. */
uint64_t cxw_httpd_connections(const cxw_httpd_t *h);

/**
 * @brief TLS handshakes completed since start (0 for plain HTTP or NULL):
 *        counted when the first request arrives on a connection, so a
 *        connection that fails its handshake, or sends nothing, is not.
 *        With keep-alive it stays at one per connection, however many
 *        requests follow. @locality any thread.
 */
uint64_t cxw_httpd_tls_handshakes(const cxw_httpd_t *h);

/**
 * @brief Queues the answer: status, Content-Type ctype (NULL: none, e.g.
 *        for a 204), len bytes of body
 *        and the extra headers, name/value pairs up to a NULL name (headers
 *        may be NULL; a pair with a NULL value is skipped). Marks req
 *        answered.
 * @returns what MHD_queue_response() did; MHD_NO when the response cannot
 *          be made.
 * @remark body by mem: copied, taken (freed even on failure) or static.
 */
enum MHD_Result cxw_httpd_reply(cxw_httpd_req_t *req, unsigned status, const char *ctype,
                                const char *body, size_t len, cxw_httpd_mem_t mem,
                                const char *const *headers);

/** @brief A request header by name (case-insensitive), or NULL when absent
 *         (or req is NULL). */
const char *cxw_httpd_header(const cxw_httpd_req_t *req, const char *name);

/** @brief A query-string argument by name (decoded), or NULL when absent
 *         (or req is NULL); "" for "?name" without a value. */
const char *cxw_httpd_query(const cxw_httpd_req_t *req, const char *name);

#endif

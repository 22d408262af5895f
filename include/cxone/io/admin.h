/**
 * @file admin.h
 * @brief The admin HTTP listener of a replica: GET /metrics, GET /healthz,
 *        GET /readyz and POST /webhooks/cxone, served by libmicrohttpd
 *        inside the loop thread.
 *
 * libmicrohttpd runs without a thread of its own, in epoll mode, so the
 * whole listener is one fd (cxw_admin_fd()). Whoever owns the loop calls
 * cxw_admin_run() when that fd is readable and no later than
 * cxw_admin_timeout_ms() after the last run; cxw_admin_attach() does both
 * on a cxw_loop_t. Every hook therefore runs in the loop thread and may read
 * the worker's state without locks; a hook must not block.
 *
 * Routes (HEAD is answered like GET, without the body):
 * | route                 | answer |
 * |-----------------------|--------|
 * | GET /metrics          | 200 text/plain; version=0.0.4, the body from hooks.metrics;
 * 500 if it fails; 404 without the hook | | GET /healthz          | 200 "ok" while
 * hooks.alive says so (or without the hook), else 503 "not alive" | | GET /readyz | 200
 * "ready", or 503 with hooks.ready's reason | | POST /webhooks/cxone  | hooks.webhook's
 * status and JSON answer; 404 without the hook; 413 past CXW_ADMIN_MAX_BODY | | other
 * paths           | 404; a known path with another method: 405 with Allow |
 *
 * Bounds: cxw_admin_limits_t's connections in all and per client IP
 * address (more are closed at accept), and its request deadline (a
 * connection still on one request past it, trickling or not, is closed);
 * CXW_ADMIN_CONN_MEMORY
 * bytes of request headers per connection (beyond: 431/414 by
 * libmicrohttpd), URLs up to CXW_ADMIN_MAX_URL bytes (414), idle connections
 * closed after CXW_ADMIN_TIMEOUT_S seconds. A body declared larger than the
 * limit is answered 413 before it is read; a chunked one is discarded past
 * the limit, answered 413, and its connection closed past 16x the limit.
 *
 * @locality loop thread only (the one that calls cxw_admin_run()).
 */
#ifndef CXONE_ADMIN_H
#define CXONE_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "cxone/io/loop.h"

#define CXW_ADMIN_MAX_BODY            (64 * 1024) /**< webhook body limit, bytes */
#define CXW_ADMIN_MAX_CONNECTIONS     64          /**< simultaneous connections */
#define CXW_ADMIN_PER_CLIENT          8           /**< of them from one client IP */
#define CXW_ADMIN_REQUEST_DEADLINE_MS 5000 /**< one request, first byte to answer */
#define CXW_ADMIN_CONN_MEMORY         (32 * 1024) /**< per-connection header memory */
#define CXW_ADMIN_TIMEOUT_S           10          /**< idle connection timeout */
#define CXW_ADMIN_MAX_URL             1024        /**< longest URL answered */
#define CXW_ADMIN_MAX_ANSWER          1024        /**< webhook answer buffer, bytes */
#define CXW_ADMIN_MAX_REASON          256         /**< readiness reason buffer, bytes */

typedef struct cxw_admin_s cxw_admin_t;

/** Connection bounds of the listener; a member left 0 takes its default. */
typedef struct cxw_admin_limits_s {
        unsigned max_connections; /**< in all; 0 = CXW_ADMIN_MAX_CONNECTIONS */
        unsigned per_client;      /**< from one IP address; 0 = CXW_ADMIN_PER_CLIENT */
        /** ms from a connection's accept (or its previous answer) to the
         *  answer; 0 = CXW_ADMIN_REQUEST_DEADLINE_MS */
        unsigned request_deadline_ms;
} cxw_admin_limits_t;

/** One request, for the webhook hook's header look-ups. */
typedef struct cxw_admin_request_s cxw_admin_request_t;

/**
 * @brief A request header by name (case-insensitive), or NULL when absent.
 * @remark valid only during the hook call that received req.
 */
const char *cxw_admin_request_header(const cxw_admin_request_t *req, const char *name);

/**
 * A POST /webhooks/cxone: body (len bytes, NUL-terminated; not validated)
 * and req for its headers. Writes a short JSON answer into answer
 * (NUL-terminated; "{}" if left empty).
 * @returns the HTTP status (100..599; anything else reads as 500).
 */
typedef int cxw_admin_webhook_cb(void *opaque, const cxw_admin_request_t *req,
                                 const char *body, size_t len, char *answer,
                                 size_t answer_size);

/** What the listener asks its owner; every member may be NULL. */
typedef struct cxw_admin_hooks_s {
        /**
         * Renders /metrics: sets *body to a malloc'd buffer (the listener
         * frees it) of *len bytes; @returns 0, or -1 for a 500.
         * cxw_metrics_render() fits: `return cxw_metrics_render(reg, body, len);`
         */
        int (*metrics)(void *opaque, char **body, size_t *len);
        /** 1 while the process is healthy; NULL = always. */
        int (*alive)(void *opaque);
        /**
         * 1 when ready; 0 when not, with a short reason written into reason
         * (plain text, NUL-terminated; "not ready" if left empty).
         * NULL = always ready.
         */
        int (*ready)(void *opaque, char *reason, size_t reason_size);
        /** POST /webhooks/cxone; NULL = 404. */
        cxw_admin_webhook_cb *webhook;
} cxw_admin_hooks_t;

/**
 * @brief Listens on listen and serves the routes through hooks.
 * @param listen "HOST:PORT": an IPv4 address, "[IPv6]", or a host name
 *        (resolved once, the first address used); an empty host is
 *        0.0.0.0, said in a warning; port 0 = any free port (see
 *        cxw_admin_port()). Binds only there: "127.0.0.1:9464" for a host,
 *        "0.0.0.0:9464" in a pod.
 * @param limits copied; NULL = every default.
 * @param hooks copied; opaque is passed to each hook.
 * @returns NULL with errstr naming the problem (bad address, port in use).
 * @remark free with cxw_admin_destroy().
 */
cxw_admin_t *cxw_admin_new(const char *listen, const cxw_admin_limits_t *limits,
                           const cxw_admin_hooks_t *hooks, void *opaque, char *errstr,
                           size_t errstr_size);

/**
 * @brief NULL-safe. Closes the listener and every open connection (their
 *        requests are dropped, hooks are not called).
 * @remark after cxw_admin_attach(), no cxw_loop_run_once() may follow (the
 *         loop cannot forget a watched fd): destroy it once the loop has
 *         stopped, before or after cxw_loop_destroy().
 */
void cxw_admin_destroy(cxw_admin_t *a);

/** @brief The fd to wait on for readability (libmicrohttpd's epoll fd). */
int cxw_admin_fd(const cxw_admin_t *a);

/**
 * @brief When cxw_admin_run() is due at the latest even without fd
 *        activity: ms from now (0 = now), or -1 = no deadline.
 */
int64_t cxw_admin_timeout_ms(const cxw_admin_t *a);

/** @brief Accepts, reads, answers and times out what is ready; never blocks. */
void cxw_admin_run(cxw_admin_t *a);

/** @brief Connections closed at the request deadline so far; 0 for NULL. */
uint64_t cxw_admin_deadline_closes(const cxw_admin_t *a);

/** @brief The port bound (the real one when listen asked for port 0). */
int cxw_admin_port(const cxw_admin_t *a);

/**
 * @brief Serves a from loop: watches cxw_admin_fd() and keeps a timer
 *        armed at cxw_admin_timeout_ms() after every run.
 * @returns 0, or -1 if the loop watches too many fds already.
 * @remark call once; see cxw_admin_destroy() for the order of teardown.
 */
int cxw_admin_attach(cxw_admin_t *a, cxw_loop_t *loop);

#endif

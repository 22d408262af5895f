/**
 * @file http.h
 * @brief HTTP calls through libcurl's multi interface: many transfers in
 *        flight from one thread, keep-alive connection reuse, connect and
 *        total timeouts, capped response bodies.
 *
 * The loop waits on cxw_http_multi() (see loop.h); after each wait the
 * caller runs cxw_http_perform(), which drives the transfers and calls each
 * finished transfer's callback.
 *
 * At most max_connections transfers are handed to libcurl at once: HTTP/1.1
 * carries one request per connection, so more would only open more
 * connections, and libcurl 7.88 walks every added transfer on each
 * curl_multi_perform(). Calls started beyond that wait in a FIFO here (no
 * easy handle, no timeout running) and get the next free connection; a
 * finished call costs O(1) however many wait. Easy handles are pooled and
 * reused without curl_easy_reset(); a call's header lines and body are
 * copied into per-call storage that is reused too.
 *
 * @locality the loop thread only.
 */
#ifndef CXONE_HTTP_H
#define CXONE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

typedef struct cxw_http_s cxw_http_t;

typedef struct cxw_http_conf_s {
        int connect_timeout_ms;    /**< CURLOPT_CONNECTTIMEOUT_MS */
        int request_timeout_ms;    /**< CURLOPT_TIMEOUT_MS, whole transfer */
        size_t max_response_bytes; /**< body bytes kept; the rest is read and dropped */
        int max_connections;       /**< most transfers (so connections) at once; calls
                                        beyond it wait in a queue, their timeout not
                                        started */
        const char *ca_file;       /**< CURLOPT_CAINFO for every call, or NULL / "":
                                        the system's CAs; copied */
} cxw_http_conf_t;

/** A finished transfer, valid only during the callback. */
typedef struct cxw_http_response_s {
        long status;         /**< HTTP status, 0 when no answer came */
        int transport_error; /**< CURLcode; 0 = an HTTP answer came */
        const char *error;   /**< curl's error text when transport_error */
        const char *body;    /**< NUL-terminated, at most max_response_bytes */
        size_t body_len;
        int body_truncated;      /**< 1 if the body was longer than kept */
        const char *retry_after; /**< the Retry-After value, or NULL */
        int64_t elapsed_ms;
        int64_t sent_ms; /**< when it went on the wire (monotonic ms): handed to
                              libcurl plus the connection setup (pretransfer) */
} cxw_http_response_t;

typedef void(cxw_http_done_cb)(const cxw_http_response_t *resp, void *opaque);

/** One call to make. Strings are copied by cxw_http_start(). */
typedef struct cxw_http_request_s {
        const char *method; /**< "GET", "POST", "PATCH", "PUT" */
        const char *url;
        const char *authorization; /**< full header line "Authorization: ...", or NULL */
        const char *content_type;  /**< e.g. "application/json", or NULL without body */
        const char *body;          /**< or NULL */
        size_t body_len;
        const char *const
            *headers;   /**< more "Name: value" lines, NULL-terminated, or NULL */
        int timeout_ms; /**< whole transfer; 0 = the client's request_timeout_ms */
        int urgent;     /**< waits for a connection ahead of the others (token fetches) */
        int sensitive;  /**< the answer holds a secret (the token endpoint's): the
                             call's request and response bytes are wiped
                             (explicit_bzero) once its callback has returned */
} cxw_http_request_t;

/** @remark free with cxw_http_destroy(). */
cxw_http_t *cxw_http_new(const cxw_http_conf_t *conf, char *errstr, size_t errstr_size);

/** @brief Aborts transfers in flight without calling their callbacks; NULL-safe. */
void cxw_http_destroy(cxw_http_t *h);

/** @brief The multi handle, for the loop to wait on. Owned by h. */
CURLM *cxw_http_multi(cxw_http_t *h);

/**
 * @brief Starts a transfer; cb(opaque) runs exactly once from a later
 *        cxw_http_perform() (never from inside this call).
 * @returns 0, or -1 if the transfer could not be set up (out of memory).
 * @remark the authorization line may hold a secret: it is wiped after use
 *         and never logged.
 */
int cxw_http_start(cxw_http_t *h, const cxw_http_request_t *req, cxw_http_done_cb *cb,
                   void *opaque);

/** @brief Drives transfers and calls the callbacks of finished ones. */
void cxw_http_perform(cxw_http_t *h);

/** @brief Transfers started and not yet finished (running or waiting). */
size_t cxw_http_in_flight(const cxw_http_t *h);

/** @brief Transfers started and waiting for a connection (over max_connections). */
size_t cxw_http_waiting(const cxw_http_t *h);

#endif

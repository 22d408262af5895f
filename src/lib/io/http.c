/* http.c: libcurl multi, one thread, keep-alive, capped bodies. */
#include "cxone/io/http.h"
#include "cxone/base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RETRY_AFTER_MAX 128
#define BODY_MIN        512         /* first size of a response buffer */
#define KEEP_BYTES      (16 * 1024) /* larger buffers are not kept for reuse */
#define FIXED_HEADERS   4           /* Authorization, Content-Type, Accept, Expect */

/* One call. Everything curl reads during the transfer (header lines, body)
 * is copied into store, and the header list is made of nodes in this
 * struct, so a call costs no allocation once its xfer is reused. */
typedef struct xfer_s {
        struct xfer_s *next_free;
        struct xfer_s *prev, *next; /* the list of calls in flight (running or waiting) */
        struct xfer_s *wnext;       /* the queue of calls waiting for a connection */
        cxw_http_t *h;
        CURL *easy;  /* while running; from and back to h's pool */
        char *store; /* auth line (wiped when done), header lines, body */
        size_t store_cap;
        size_t auth_len;
        struct curl_slist *nodes; /* the header list */
        size_t nodes_cap;
        const char *url; /* in store */
        long timeout_ms;
        const char *method; /* NULL for GET, else the custom method, in store */
        const char *body;   /* in store */
        size_t body_len;
        char *buf; /* response body, grown up to cap+1 */
        size_t buf_size;
        size_t len;
        int truncated;
        char retry_after[RETRY_AFTER_MAX];
        int has_retry_after;
        char errbuf[CURL_ERROR_SIZE];
        int64_t started;
        int sensitive; /* wipe store and buf when done (the token answer) */
        cxw_http_done_cb *cb;
        void *opaque;
} xfer_t;

struct cxw_http_s {
        CURLM *multi;
        cxw_http_conf_t conf;
        char *ca_file;     /* conf.ca_file's copy */
        size_t in_flight;  /* running + waiting */
        size_t running;    /* handed to curl: at most conf.max_connections */
        xfer_t *active;    /* calls in flight */
        xfer_t *wait_head; /* calls waiting for a connection, oldest first */
        xfer_t *wait_tail;
        xfer_t *free_list; /* finished calls kept for reuse */
        size_t free_cnt;
        CURL **easies; /* idle easy handles */
        size_t neasies;
};

cxw_http_t *cxw_http_new(const cxw_http_conf_t *conf, char *errstr, size_t errstr_size)
{
        cxw_http_t *h = calloc(1, sizeof(*h));

        if (!h)
                goto fail;
        h->conf = *conf;
        h->conf.ca_file = NULL;
        if (conf->ca_file && *conf->ca_file) {
                h->ca_file = strdup(conf->ca_file);
                if (!h->ca_file)
                        goto fail;
                h->conf.ca_file = h->ca_file;
        }
        if (h->conf.max_connections < 1)
                h->conf.max_connections = 1;
        h->easies = calloc((size_t)h->conf.max_connections, sizeof(*h->easies));
        h->multi = curl_multi_init();
        if (!h->multi || !h->easies)
                goto fail;
        /* Transfers never outnumber connections (the rest wait in our
         * queue), so the cache only has to keep that many idle ones. */
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->conf.max_connections);
        curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          (long)h->conf.max_connections);
        return h;
fail:
        snprintf(errstr, errstr_size, "cannot create the HTTP client: out of memory");
        if (h) {
                curl_multi_cleanup(h->multi);
                free(h->easies);
                free(h->ca_file);
        }
        free(h);
        return NULL;
}

/* Forgets the call: the secret is wiped, the easy handle goes back. A
 * sensitive call's request and response bytes are wiped whole. */
static void xfer_reset(xfer_t *x)
{
        if (x->sensitive) {
                if (x->store)
                        explicit_bzero(x->store, x->store_cap);
                if (x->buf)
                        explicit_bzero(x->buf, x->buf_size);
                explicit_bzero(x->retry_after, sizeof(x->retry_after));
                x->len = 0;
                x->sensitive = 0;
        }
        if (x->auth_len) {
                explicit_bzero(x->store, x->auth_len);
                x->auth_len = 0;
        }
        if (x->easy) {
                cxw_http_t *h = x->h;
                if (h->neasies < (size_t)h->conf.max_connections)
                        h->easies[h->neasies++] = x->easy;
                else
                        curl_easy_cleanup(x->easy);
                x->easy = NULL;
        }
}

static void xfer_free(xfer_t *x)
{
        xfer_reset(x);
        free(x->store);
        free(x->nodes);
        free(x->buf);
        free(x);
}

void cxw_http_destroy(cxw_http_t *h)
{
        if (!h)
                return;
        while (h->active) {
                xfer_t *x = h->active;
                h->active = x->next;
                if (x->easy)
                        curl_multi_remove_handle(h->multi, x->easy);
                xfer_free(x);
        }
        while (h->free_list) {
                xfer_t *x = h->free_list;
                h->free_list = x->next_free;
                xfer_free(x);
        }
        while (h->neasies > 0)
                curl_easy_cleanup(h->easies[--h->neasies]);
        free(h->easies);
        curl_multi_cleanup(h->multi);
        free(h->ca_file);
        free(h);
}

CURLM *cxw_http_multi(cxw_http_t *h)
{
        return h->multi;
}

size_t cxw_http_in_flight(const cxw_http_t *h)
{
        return h->in_flight;
}

size_t cxw_http_waiting(const cxw_http_t *h)
{
        return h->in_flight - h->running;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        xfer_t *x = userdata;
        size_t n = size * nmemb;
        size_t cap = x->h->conf.max_response_bytes;
        size_t room = cap - x->len;

        if (x->len + (n < room ? n : room) + 1 > x->buf_size) {
                size_t want = x->buf_size ? x->buf_size : BODY_MIN;
                char *b;
                while (want < x->len + (n < room ? n : room) + 1)
                        want *= 2;
                if (want > cap + 1)
                        want = cap + 1;
                if (x->sensitive) { /* no copy left behind in freed memory */
                        b = malloc(want);
                        if (b && x->buf) {
                                memcpy(b, x->buf, x->len);
                                explicit_bzero(x->buf, x->buf_size);
                        }
                        if (b)
                                free(x->buf);
                } else {
                        b = realloc(x->buf, want);
                }
                if (!b)
                        return 0; /* fails the transfer (CURLE_WRITE_ERROR) */
                x->buf = b;
                x->buf_size = want;
        }
        if (n > room) {
                x->truncated = 1;
                memcpy(x->buf + x->len, ptr, room);
                x->len += room;
        } else {
                memcpy(x->buf + x->len, ptr, n);
                x->len += n;
        }
        return n; /* keep reading: dropping the rest keeps the connection usable */
}

static size_t on_header(char *ptr, size_t size, size_t nitems, void *userdata)
{
        xfer_t *x = userdata;
        size_t n = size * nitems;
        static const char name[] = "retry-after:";

        if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
                /* a new header block (after 100-continue or a redirect) */
                x->has_retry_after = 0;
        } else if (n > sizeof(name) - 1 &&
                   strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
                const char *v = ptr + sizeof(name) - 1;
                const char *end = ptr + n;
                while (v < end && (*v == ' ' || *v == '\t'))
                        v++;
                while (end > v && isspace((unsigned char)end[-1]))
                        end--;
                size_t len = (size_t)(end - v);
                if (len >= RETRY_AFTER_MAX)
                        len = RETRY_AFTER_MAX - 1;
                memcpy(x->retry_after, v, len);
                x->retry_after[len] = '\0';
                x->has_retry_after = 1;
        }
        return n;
}

static xfer_t *xfer_get(cxw_http_t *h)
{
        xfer_t *x = h->free_list;

        if (x) {
                h->free_list = x->next_free;
                h->free_cnt--;
        } else {
                x = calloc(1, sizeof(*x));
                if (!x)
                        return NULL;
                x->h = h;
        }
        x->next_free = NULL;
        x->wnext = NULL;
        x->len = 0;
        x->truncated = 0;
        x->has_retry_after = 0;
        x->errbuf[0] = '\0';
        return x;
}

static void xfer_put(cxw_http_t *h, xfer_t *x)
{
        xfer_reset(x);
        /* Keep a bounded number of idle calls, without their big buffers. */
        if (h->free_cnt >= (size_t)h->conf.max_connections + 16) {
                xfer_free(x);
                return;
        }
        if (x->store_cap > KEEP_BYTES) {
                free(x->store);
                x->store = NULL;
                x->store_cap = 0;
        }
        if (x->buf_size > KEEP_BYTES) {
                free(x->buf);
                x->buf = NULL;
                x->buf_size = 0;
        }
        x->next_free = h->free_list;
        h->free_list = x;
        h->free_cnt++;
}

/* A new easy handle with the options every call shares; the per-call ones
 * are set in run(). Handles are reused, never reset: each call sets every
 * option that differs between calls. */
static CURL *easy_new(cxw_http_t *h)
{
        CURL *e = curl_easy_init();

        if (!e)
                return NULL;
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->conf.connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        /* The path goes out as the worker built it: libcurl would remove dot
         * segments ("/contacts/.." is "/"), sending a call to another URL. */
        curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
        /* Only HTTP/1.1 here: one request per connection keeps the
         * connection pool simple and matches what the simulator serves. */
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        /* The same CA bundle on every handle: connections stay reusable
         * between calls (libcurl reuses only a matching TLS setup). */
        if (h->conf.ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, h->conf.ca_file);
        return e;
}

/* Hands x to curl. @returns 0 or -1 (out of memory). */
static int run(cxw_http_t *h, xfer_t *x)
{
        CURL *e = h->neasies > 0 ? h->easies[--h->neasies] : easy_new(h);

        if (!e)
                return -1;
        x->easy = e;
        curl_easy_setopt(e, CURLOPT_URL, x->url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, x);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->nodes);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->timeout_ms);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
        if (x->method) {
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)x->body_len);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
        } else {
                /* the handle's last call may have been a PATCH or POST */
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, -1L);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, (char *)NULL);
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, (char *)NULL);
                curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        }
        x->started = cxw_now_ms();
        if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
                xfer_reset(x); /* the handle goes back to the pool */
                return -1;
        }
        h->running++;
        return 0;
}

/* Copies what curl will read during the call into x. */
static int prepare(xfer_t *x, const cxw_http_request_t *req)
{
        static const char accept[] = "Accept: application/json";
        /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
        static const char expect[] = "Expect:";
        static const char ctype[] = "Content-Type: ";
        size_t nextra = 0, need, n = 0, off = 0;
        size_t url_len = strlen(req->url) + 1;
        int get = strcmp(req->method, "GET") == 0;
        size_t method_len = get ? 0 : strlen(req->method) + 1;
        const char *lines[FIXED_HEADERS];
        size_t nlines = 0;

        for (size_t i = 0; req->headers && req->headers[i]; i++)
                nextra++;
        need = (req->authorization ? strlen(req->authorization) + 1 : 0) +
               (req->content_type ? sizeof(ctype) + strlen(req->content_type) : 0) +
               sizeof(accept) + sizeof(expect) + url_len + method_len +
               (req->body ? req->body_len : 0) + 1;
        for (size_t i = 0; i < nextra; i++)
                need += strlen(req->headers[i]) + 1;
        if (need > x->store_cap) {
                char *s = malloc(need);
                if (!s)
                        return -1;
                free(x->store);
                x->store = s;
                x->store_cap = need;
        }
        if (FIXED_HEADERS + nextra > x->nodes_cap) {
                struct curl_slist *nodes =
                    malloc((FIXED_HEADERS + nextra) * sizeof(*nodes));
                if (!nodes)
                        return -1;
                free(x->nodes);
                x->nodes = nodes;
                x->nodes_cap = FIXED_HEADERS + nextra;
        }

        /* the Authorization line first: xfer_reset() wipes store's start */
        x->sensitive = req->sensitive ? 1 : 0;
        if (req->authorization) {
                size_t len = strlen(req->authorization) + 1;
                memcpy(x->store, req->authorization, len);
                lines[nlines++] = x->store;
                off = len;
                x->auth_len = len;
        }
        if (req->content_type) {
                size_t len = strlen(req->content_type) + 1;
                lines[nlines++] = x->store + off;
                memcpy(x->store + off, ctype, sizeof(ctype) - 1);
                memcpy(x->store + off + sizeof(ctype) - 1, req->content_type, len);
                off += sizeof(ctype) - 1 + len;
        }
        lines[nlines++] = x->store + off;
        memcpy(x->store + off, accept, sizeof(accept));
        off += sizeof(accept);
        lines[nlines++] = x->store + off;
        memcpy(x->store + off, expect, sizeof(expect));
        off += sizeof(expect);
        for (size_t i = 0; i < nlines; i++, n++)
                x->nodes[n].data = (char *)lines[i];
        for (size_t i = 0; i < nextra; i++, n++) {
                size_t len = strlen(req->headers[i]) + 1;
                memcpy(x->store + off, req->headers[i], len);
                x->nodes[n].data = x->store + off;
                off += len;
        }
        for (size_t i = 0; i < n; i++)
                x->nodes[i].next = i + 1 < n ? &x->nodes[i + 1] : NULL;
        memcpy(x->store + off, req->url, url_len);
        x->url = x->store + off;
        off += url_len;
        x->method = NULL;
        if (!get) {
                memcpy(x->store + off, req->method, method_len);
                x->method = x->store + off;
                off += method_len;
        }

        x->body = x->store + off;
        x->body_len = req->body ? req->body_len : 0;
        if (x->body_len)
                memcpy(x->store + off, req->body, x->body_len);
        x->store[off + x->body_len] = '\0';
        x->timeout_ms =
            (long)(req->timeout_ms > 0 ? req->timeout_ms : x->h->conf.request_timeout_ms);
        return 0;
}

int cxw_http_start(cxw_http_t *h, const cxw_http_request_t *req, cxw_http_done_cb *cb,
                   void *opaque)
{
        xfer_t *x = xfer_get(h);

        if (!x)
                return -1;
        x->cb = cb;
        x->opaque = opaque;
        if (prepare(x, req) == -1)
                goto fail;
        if (h->running < (size_t)h->conf.max_connections && !h->wait_head) {
                if (run(h, x) == -1)
                        goto fail;
        } else if (req->urgent) {
                x->wnext = h->wait_head;
                h->wait_head = x;
                if (!h->wait_tail)
                        h->wait_tail = x;
        } else {
                if (h->wait_tail)
                        h->wait_tail->wnext = x;
                else
                        h->wait_head = x;
                h->wait_tail = x;
        }
        h->in_flight++;
        x->prev = NULL;
        x->next = h->active;
        if (h->active)
                h->active->prev = x;
        h->active = x;
        return 0;
fail:
        xfer_put(h, x);
        return -1;
}

static void unlink_active(cxw_http_t *h, xfer_t *x)
{
        h->in_flight--;
        if (x->prev)
                x->prev->next = x->next;
        else
                h->active = x->next;
        if (x->next)
                x->next->prev = x->prev;
}

/* Calls waiting for a connection get the free ones, oldest first. A call
 * that cannot be handed to curl (out of memory) ends with a transport error
 * (its callback runs now, from perform). */
static void run_waiting(cxw_http_t *h)
{
        while (h->wait_head && h->running < (size_t)h->conf.max_connections) {
                xfer_t *x = h->wait_head;
                h->wait_head = x->wnext;
                if (!h->wait_head)
                        h->wait_tail = NULL;
                x->wnext = NULL;
                if (run(h, x) == 0)
                        continue;
                cxw_http_response_t r;
                memset(&r, 0, sizeof(r));
                r.transport_error = (int)CURLE_OUT_OF_MEMORY;
                r.error = "cannot start the transfer: out of memory";
                r.body = "";
                r.sent_ms = cxw_now_ms(); /* never sent: elapsed 0 */
                unlink_active(h, x);
                x->cb(&r, x->opaque);
                xfer_put(h, x);
        }
}

void cxw_http_perform(cxw_http_t *h)
{
        int running = 0;
        int left = 0;
        CURLMsg *msg;

        curl_multi_perform(h->multi, &running);
        while ((msg = curl_multi_info_read(h->multi, &left))) {
                xfer_t *x = NULL;
                cxw_http_response_t r;
                curl_off_t pre = 0;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
                curl_multi_remove_handle(h->multi, msg->easy_handle);
                h->running--;
                unlink_active(h, x);

                memset(&r, 0, sizeof(r));
                r.transport_error = (int)msg->data.result;
                if (msg->data.result == CURLE_OK)
                        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
                else
                        r.error = x->errbuf[0] ? x->errbuf
                                               : curl_easy_strerror(msg->data.result);
                if (x->buf)
                        x->buf[x->len] = '\0';
                r.body = x->buf ? x->buf : "";
                r.body_len = x->len;
                r.body_truncated = x->truncated;
                r.retry_after = x->has_retry_after ? x->retry_after : NULL;
                r.sent_ms = x->started;
                if (curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) ==
                        CURLE_OK &&
                    pre > 0)
                        r.sent_ms += (int64_t)(pre / 1000);
                r.elapsed_ms = cxw_now_ms() - x->started;
                /* the connection is free: the oldest waiting call gets it
                 * before anything the callback starts */
                run_waiting(h);
                x->cb(&r, x->opaque);
                xfer_put(h, x);
        }
        run_waiting(h);
}

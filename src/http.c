/* http.c: libcurl multi, one thread, keep-alive, capped bodies. */
#include "cxone/http.h"
#include "cxone/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RETRY_AFTER_MAX 128

typedef struct xfer_s {
        struct xfer_s *next_free;
        struct xfer_s *prev, *next; /* the list of transfers in flight */
        cxw_http_t *h;
        CURL *easy;
        struct curl_slist *headers;
        char *auth; /* wiped and freed when done */
        char *buf;  /* response body, capacity cap+1 */
        size_t len;
        size_t cap;
        int truncated;
        char retry_after[RETRY_AFTER_MAX];
        int has_retry_after;
        char errbuf[CURL_ERROR_SIZE];
        int64_t started;
        cxw_http_done_cb *cb;
        void *opaque;
} xfer_t;

struct cxw_http_s {
        CURLM *multi;
        cxw_http_conf_t conf;
        size_t in_flight;
        xfer_t *active;    /* transfers in flight */
        xfer_t *free_list; /* finished transfers kept with their easy handle */
        size_t free_cnt;
};

cxw_http_t *cxw_http_new(const cxw_http_conf_t *conf, char *errstr, size_t errstr_size)
{
        cxw_http_t *h = calloc(1, sizeof(*h));

        if (!h)
                goto fail;
        h->conf = *conf;
        h->multi = curl_multi_init();
        if (!h->multi)
                goto fail;
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)conf->max_connections);
        return h;
fail:
        snprintf(errstr, errstr_size, "cannot create the HTTP client: out of memory");
        free(h);
        return NULL;
}

static void xfer_reset(xfer_t *x)
{
        curl_slist_free_all(x->headers);
        x->headers = NULL;
        if (x->auth) {
                explicit_bzero(x->auth, strlen(x->auth));
                free(x->auth);
                x->auth = NULL;
        }
}

static void xfer_free(xfer_t *x)
{
        xfer_reset(x);
        curl_easy_cleanup(x->easy);
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
                curl_multi_remove_handle(h->multi, x->easy);
                xfer_free(x);
        }
        while (h->free_list) {
                xfer_t *x = h->free_list;
                h->free_list = x->next_free;
                xfer_free(x);
        }
        curl_multi_cleanup(h->multi);
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

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        xfer_t *x = userdata;
        size_t n = size * nmemb;
        size_t room = x->cap - x->len;

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
                curl_easy_reset(x->easy);
        } else {
                x = calloc(1, sizeof(*x));
                if (!x)
                        return NULL;
                x->easy = curl_easy_init();
                x->cap = h->conf.max_response_bytes;
                x->buf = malloc(x->cap + 1);
                if (!x->easy || !x->buf) {
                        curl_easy_cleanup(x->easy);
                        free(x->buf);
                        free(x);
                        return NULL;
                }
                x->h = h;
        }
        x->next_free = NULL;
        x->len = 0;
        x->truncated = 0;
        x->has_retry_after = 0;
        x->errbuf[0] = '\0';
        return x;
}

static void xfer_put(cxw_http_t *h, xfer_t *x)
{
        xfer_reset(x);
        /* Keep as many idle handles as connections may be in use; the rest go. */
        if (h->free_cnt >= (size_t)h->conf.max_connections) {
                xfer_free(x);
                return;
        }
        x->next_free = h->free_list;
        h->free_list = x;
        h->free_cnt++;
}

int cxw_http_start(cxw_http_t *h, const cxw_http_request_t *req, cxw_http_done_cb *cb,
                   void *opaque)
{
        xfer_t *x = xfer_get(h);
        CURL *e;
        char ct[160];

        if (!x)
                return -1;
        e = x->easy;
        x->cb = cb;
        x->opaque = opaque;

        if (req->authorization) {
                x->auth = strdup(req->authorization);
                if (!x->auth)
                        goto fail;
                x->headers = curl_slist_append(x->headers, x->auth);
        }
        if (req->content_type) {
                snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type);
                x->headers = curl_slist_append(x->headers, ct);
        }
        x->headers = curl_slist_append(x->headers, "Accept: application/json");
        /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
        x->headers = curl_slist_append(x->headers, "Expect:");
        for (size_t i = 0; req->headers && req->headers[i]; i++)
                x->headers = curl_slist_append(x->headers, req->headers[i]);
        if (!x->headers)
                goto fail;

        curl_easy_setopt(e, CURLOPT_URL, req->url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, x);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->conf.connect_timeout_ms);
        curl_easy_setopt(
            e, CURLOPT_TIMEOUT_MS,
            (long)(req->timeout_ms > 0 ? req->timeout_ms : h->conf.request_timeout_ms));
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        /* Only HTTP/1.1 here: one request per connection keeps the
         * connection pool simple and matches what the simulator serves. */
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        if (strcmp(req->method, "GET") != 0) {
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
                curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
        }
        x->started = cxw_now_ms();
        if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
                goto fail;
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

void cxw_http_perform(cxw_http_t *h)
{
        int running = 0;
        int left = 0;
        CURLMsg *msg;

        curl_multi_perform(h->multi, &running);
        while ((msg = curl_multi_info_read(h->multi, &left))) {
                xfer_t *x = NULL;
                cxw_http_response_t r;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
                curl_multi_remove_handle(h->multi, msg->easy_handle);
                h->in_flight--;
                if (x->prev)
                        x->prev->next = x->next;
                else
                        h->active = x->next;
                if (x->next)
                        x->next->prev = x->prev;

                memset(&r, 0, sizeof(r));
                r.transport_error = (int)msg->data.result;
                if (msg->data.result == CURLE_OK)
                        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
                else
                        r.error = x->errbuf[0] ? x->errbuf
                                               : curl_easy_strerror(msg->data.result);
                x->buf[x->len] = '\0';
                r.body = x->buf;
                r.body_len = x->len;
                r.body_truncated = x->truncated;
                r.retry_after = x->has_retry_after ? x->retry_after : NULL;
                r.elapsed_ms = cxw_now_ms() - x->started;
                x->cb(&r, x->opaque);
                xfer_put(h, x);
        }
}

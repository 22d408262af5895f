/* fake_http.c: every public function of src/lib/io/http.c, for the worker's
 * unit tests (fakes.h). A call is recorded with copies of its method, URL,
 * header lines and body; the test answers it (fh_answer, fh_fail, or a
 * responder), and the next cxw_http_perform() gives the answer to the
 * call's callback, as the real one does: never from inside
 * cxw_http_start(). The multi handle is a real, empty one, so the loop's
 * curl_multi_poll() waits on its timers and fds as usual. */
#include "fakes.h"
#include "cxone/base/util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cxw_http_s {
        CURLM *multi;
        cxw_http_conf_t conf;
};

static struct {
        cxw_http_t *h;
        fh_req_t *head, *tail; /* every call since the last reset */
        int seq;
        fh_responder_t *responder;
        void *responder_opaque;
} S;

static char *dup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

cxw_http_t *cxw_http_new(const cxw_http_conf_t *conf, char *errstr, size_t errstr_size)
{
        cxw_http_t *h = calloc(1, sizeof(*h));

        (void)errstr;
        (void)errstr_size;
        if (!h)
                return NULL;
        h->multi = curl_multi_init();
        h->conf = *conf;
        S.h = h;
        return h;
}

void cxw_http_destroy(cxw_http_t *h)
{
        if (!h)
                return;
        /* Calls in flight are abandoned without their callbacks. */
        for (fh_req_t *r = S.head; r; r = r->next)
                r->done = 1;
        curl_multi_cleanup(h->multi);
        free(h);
        S.h = NULL;
}

CURLM *cxw_http_multi(cxw_http_t *h)
{
        return h->multi;
}

int cxw_http_start(cxw_http_t *h, const cxw_http_request_t *req, cxw_http_done_cb *cb,
                   void *opaque)
{
        fh_req_t *r = calloc(1, sizeof(*r));

        assert_ptr_equal(h, S.h);
        assert_non_null(r);
        r->seq = ++S.seq;
        r->method = strdup(req->method);
        r->url = strdup(req->url);
        r->authorization = dup_or_null(req->authorization);
        r->content_type = dup_or_null(req->content_type);
        if (req->body) {
                r->body = malloc(req->body_len + 1);
                memcpy(r->body, req->body, req->body_len);
                r->body[req->body_len] = '\0';
                r->body_len = req->body_len;
        }
        for (const char *const *p = req->headers; p && *p; p++)
                r->nheaders++;
        r->headers = calloc(r->nheaders + 1, sizeof(*r->headers));
        for (size_t i = 0; i < r->nheaders; i++)
                r->headers[i] = strdup(req->headers[i]);
        r->timeout_ms = req->timeout_ms;
        r->urgent = req->urgent;
        r->started_ms = cxw_now_ms();
        r->cb = cb;
        r->opaque = opaque;
        if (S.tail)
                S.tail->next = r;
        else
                S.head = r;
        S.tail = r;
        if (S.responder)
                curl_multi_wakeup(h->multi); /* it may answer at the next perform */
        return 0;
}

void cxw_http_perform(cxw_http_t *h)
{
        int last = S.seq; /* calls started by the callbacks wait for the next round */

        assert_ptr_equal(h, S.h);
        for (fh_req_t *r = S.head; r && r->seq <= last; r = r->next) {
                cxw_http_response_t resp = {0};

                if (r->done)
                        continue;
                if (!r->answered && S.responder && !S.responder(r, S.responder_opaque))
                        continue;
                if (!r->answered)
                        continue;
                r->done = 1;
                resp.status = r->status;
                resp.transport_error = r->transport_error;
                resp.error = r->transport_error ? r->resp_body : NULL;
                resp.body = r->transport_error || !r->resp_body ? "" : r->resp_body;
                resp.body_len = strlen(resp.body);
                resp.retry_after = r->retry_after;
                resp.sent_ms = r->started_ms;
                resp.elapsed_ms = cxw_now_ms() - r->started_ms;
                r->cb(&resp, r->opaque);
        }
}

size_t cxw_http_in_flight(const cxw_http_t *h)
{
        size_t n = 0;

        (void)h;
        for (fh_req_t *r = S.head; r; r = r->next)
                n += !r->done;
        return n;
}

size_t cxw_http_waiting(const cxw_http_t *h)
{
        (void)h;
        return 0;
}

/* ------------------------------------------------------------------ */
/* the test's side                                                     */

static int matches(const fh_req_t *r, const char *method, const char *url_part)
{
        return (!method || strcmp(r->method, method) == 0) &&
               (!url_part || strstr(r->url, url_part));
}

fh_req_t *fh_open(const char *method, const char *url_part)
{
        for (fh_req_t *r = S.head; r; r = r->next)
                if (!r->done && !r->answered && matches(r, method, url_part))
                        return r;
        return NULL;
}

size_t fh_open_cnt(void)
{
        size_t n = 0;

        for (fh_req_t *r = S.head; r; r = r->next)
                n += !r->done && !r->answered;
        return n;
}

size_t fh_started(const char *method, const char *url_part)
{
        size_t n = 0;

        for (fh_req_t *r = S.head; r; r = r->next)
                n += matches(r, method, url_part);
        return n;
}

const char *fh_header(const fh_req_t *r, const char *name)
{
        size_t n = strlen(name);

        for (size_t i = 0; i < r->nheaders; i++)
                if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
                        return r->headers[i] + n + 1 + (r->headers[i][n + 1] == ' ');
        return NULL;
}

void fh_answer(fh_req_t *r, long status, const char *body, const char *retry_after)
{
        assert_false(r->answered);
        r->answered = 1;
        r->status = status;
        r->resp_body = dup_or_null(body);
        r->retry_after = dup_or_null(retry_after);
        if (S.h) /* as an answer arriving on a socket would */
                curl_multi_wakeup(S.h->multi);
}

void fh_fail(fh_req_t *r, int curlcode, const char *error)
{
        assert_false(r->answered);
        r->answered = 1;
        r->transport_error = curlcode;
        r->resp_body = strdup(error);
        if (S.h)
                curl_multi_wakeup(S.h->multi);
}

void fh_set_responder(fh_responder_t *fn, void *opaque)
{
        S.responder = fn;
        S.responder_opaque = opaque;
}

int fh_alive(void)
{
        return S.h != NULL;
}

void fh_reset(void)
{
        fh_req_t *r = S.head;

        while (r) {
                fh_req_t *next = r->next;
                free(r->method);
                free(r->url);
                free(r->authorization);
                free(r->content_type);
                free(r->body);
                for (size_t i = 0; i < r->nheaders; i++)
                        free(r->headers[i]);
                free(r->headers);
                free(r->resp_body);
                free(r->retry_after);
                free(r);
                r = next;
        }
        memset(&S, 0, sizeof(S));
}

/* sim_webhook.c: signed webhooks for finished schedule-import jobs.
 *
 * The job timer queues an event (job id, status) and goes on; one delivery
 * thread POSTs each event to --webhook-url with libcurl (one easy handle,
 * so the connection is reused), a short timeout and up to TRIES tries. So a
 * slow or dead receiver never holds up request handling or job timing.
 *
 * Signature scheme (docs/cxone-sim.md; the worker verifies it):
 *   X-CXone-Timestamp: <unix seconds>
 *   X-CXone-Signature: sha256=<lowercase hex HMAC-SHA256(secret,
 *                                "<timestamp>.<body>")>
 * A retry is signed afresh with its own timestamp.
 */
#include "sim.h"

#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/requests/webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define QUEUE_MAX      10000
#define TRIES          3
#define TIMEOUT_MS     2000L
#define CONNECT_MS     1000L
#define BACKOFF_MS     200
#define URL_MAX        1024
#define EVENT_BODY_MAX 256

typedef struct event {
        char job_id[48];
        const char *status; /* static */
} event_t;

struct cxw_sim_webhook {
        cxw_sim_t *sim;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* CLOCK_MONOTONIC */
        pthread_t thread;
        bool started;
        bool stopping;
        event_t *ring; /* QUEUE_MAX slots */
        size_t head, len;
        CURL *curl; /* the delivery thread's only */
};

int cxw_sim_webhook_check_url(const char *url, char *errstr, size_t errstr_size)
{
        static const char prefix[] = "http://127.0.0.1:";
        const char *p = url + sizeof(prefix) - 1;
        long port = 0;
        int digits = 0;

        if (strlen(url) > URL_MAX) {
                snprintf(errstr, errstr_size, "--webhook-url: longer than %d characters",
                         URL_MAX);
                return -1;
        }
        if (strncmp(url, prefix, sizeof(prefix) - 1) != 0)
                goto bad;
        while (*p >= '0' && *p <= '9' && digits < 6) {
                port = port * 10 + (*p - '0');
                p++;
                digits++;
        }
        if (digits == 0 || port < 1 || port > 65535 || *p != '/')
                goto bad;
        for (; *p; p++) {
                if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '#')
                        goto bad;
        }
        return 0;
bad:
        snprintf(
            errstr, errstr_size,
            "--webhook-url: '%.200s' is not http://127.0.0.1:PORT/path (PORT 1-65535, "
            "a path without spaces or '#')",
            url);
        return -1;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        (void)ptr;
        (void)userdata;
        return size * nmemb;
}

/* One POST. @returns the HTTP status, or 0 with the reason in err. */
static long post_once(cxw_sim_webhook_t *w, const char *body, size_t len, char *err,
                      size_t err_size)
{
        const cxw_sim_opts_t *o = w->sim->opts;
        char ts[32], sig[96], h_ts[64], h_sig[128];
        char curl_err[CURL_ERROR_SIZE] = "";
        struct curl_slist *hdrs = NULL, *tmp;
        long status = 0;
        CURLcode rc;

        int64_t now_s = cxw_wall_ms() / 1000;

        snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
        /* The library's signer: the worker verifies with its twin. */
        if (cxw_webhook_sign(o->webhook_secret, now_s, body, len, sig, sizeof(sig)) !=
            0) {
                snprintf(err, err_size, "cannot compute the signature");
                return 0;
        }
        snprintf(h_ts, sizeof(h_ts), "X-CXone-Timestamp: %s", ts);
        snprintf(h_sig, sizeof(h_sig), "X-CXone-Signature: %s", sig);
        const char *lines[] = {"Content-Type: application/json", h_ts, h_sig, "Expect:"};
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
                tmp = curl_slist_append(hdrs, lines[i]);
                if (!tmp) {
                        snprintf(err, err_size, "out of memory");
                        goto out;
                }
                hdrs = tmp;
        }
        curl_easy_setopt(w->curl, CURLOPT_URL, o->webhook_url);
        curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
        curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
        curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, curl_err);
        rc = curl_easy_perform(w->curl);
        if (rc == CURLE_OK) {
                curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
                if (status < 200 || status > 299)
                        snprintf(err, err_size, "HTTP %ld", status);
        } else {
                snprintf(err, err_size, "%s",
                         curl_err[0] ? curl_err : curl_easy_strerror(rc));
        }
out:
        /* The handle must not keep pointers to this frame. */
        curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, NULL);
        curl_slist_free_all(hdrs);
        return status;
}

/* Waits ms unless stopping. With the lock NOT held. @returns true if stopping. */
static bool pause_ms(cxw_sim_webhook_t *w, int64_t ms)
{
        int64_t until = cxw_now_ms() + ms;
        struct timespec ts = {(time_t)(until / 1000), (long)(until % 1000) * 1000000L};
        bool stop;

        pthread_mutex_lock(&w->lock);
        while (!w->stopping && cxw_now_ms() < until) {
                if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
                        break;
        }
        stop = w->stopping;
        pthread_mutex_unlock(&w->lock);
        return stop;
}

static void deliver(cxw_sim_webhook_t *w, const event_t *ev)
{
        char body[EVENT_BODY_MAX], err[CURL_ERROR_SIZE + 32] = "";
        int n =
            snprintf(body, sizeof(body),
                     "{\"eventType\":\"WFM_SCHEDULE_IMPORT_COMPLETED\",\"jobId\":\"%s\","
                     "\"status\":\"%s\"}",
                     ev->job_id, ev->status);

        for (int attempt = 1; n > 0 && (size_t)n < sizeof(body) && attempt <= TRIES;
             attempt++) {
                long status = post_once(w, body, (size_t)n, err, sizeof(err));
                if (status >= 200 && status <= 299) {
                        atomic_fetch_add(&w->sim->webhooks_sent, 1);
                        CXW_DEBUG("sim", "webhook for %s delivered (try %d)", ev->job_id,
                                  attempt);
                        return;
                }
                CXW_WARN("sim", "webhook for %s, try %d of %d: %s", ev->job_id, attempt,
                         TRIES, err);
                if (attempt < TRIES && pause_ms(w, (int64_t)BACKOFF_MS * attempt))
                        break;
        }
        atomic_fetch_add(&w->sim->webhooks_failed, 1);
}

static void *run(void *arg)
{
        cxw_sim_webhook_t *w = arg;
        event_t ev;

        for (;;) {
                pthread_mutex_lock(&w->lock);
                while (!w->stopping && w->len == 0)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (w->stopping) {
                        if (w->len > 0) {
                                CXW_WARN("sim", "stopping: %zu webhooks not delivered",
                                         w->len);
                                atomic_fetch_add(&w->sim->webhooks_failed, w->len);
                        }
                        w->len = 0;
                        pthread_mutex_unlock(&w->lock);
                        break;
                }
                ev = w->ring[w->head];
                w->head = (w->head + 1) % QUEUE_MAX;
                w->len--;
                pthread_mutex_unlock(&w->lock);
                deliver(w, &ev);
        }
        return NULL;
}

cxw_sim_webhook_t *cxw_sim_webhook_start(cxw_sim_t *sim, char *errstr, size_t errstr_size)
{
        cxw_sim_webhook_t *w = calloc(1, sizeof(*w));
        int rc;

        if (!w) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        w->sim = sim;
        cxw_sim_lock_init(&w->lock, &w->cond);
        w->ring = calloc(QUEUE_MAX, sizeof(*w->ring));
        w->curl = curl_easy_init();
        if (!w->ring || !w->curl) {
                snprintf(errstr, errstr_size, "webhook: out of memory");
                goto fail;
        }
        rc = pthread_create(&w->thread, NULL, run, w);
        if (rc != 0) {
                snprintf(errstr, errstr_size, "webhook thread: %s", strerror(rc));
                goto fail;
        }
        w->started = true;
        return w;
fail:
        cxw_sim_webhook_destroy(w);
        return NULL;
}

void cxw_sim_webhook_post(cxw_sim_webhook_t *w, const char *job_id, const char *status)
{
        bool full;

        if (!w)
                return;
        pthread_mutex_lock(&w->lock);
        full = w->len == QUEUE_MAX || w->stopping;
        if (!full) {
                event_t *ev = &w->ring[(w->head + w->len) % QUEUE_MAX];
                cxw_strlcpy(ev->job_id, job_id, sizeof(ev->job_id));
                ev->status = status;
                w->len++;
                pthread_cond_signal(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        if (full) {
                atomic_fetch_add(&w->sim->webhooks_failed, 1);
                CXW_WARN("sim", "webhook queue full or stopped: event for %s dropped",
                         job_id);
        }
}

void cxw_sim_webhook_stop(cxw_sim_webhook_t *w)
{
        if (!w || !w->started)
                return;
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        w->started = false;
}

void cxw_sim_webhook_destroy(cxw_sim_webhook_t *w)
{
        if (!w)
                return;
        cxw_sim_webhook_stop(w);
        if (w->curl)
                curl_easy_cleanup(w->curl);
        free(w->ring);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
}

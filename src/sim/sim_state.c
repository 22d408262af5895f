/* sim_state.c: cxone-sim shared state: contacts, tokens, idempotency keys,
 * the rate-limit bucket, random numbers and statistics. (Schedule-import
 * jobs live in sim_jobs.c; their counters are here.) */
#include "sim.h"

#include "cxone/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

/* Live tokens kept at most; beyond it every token is forgotten (clients see
 * 401 and fetch a new one, as after a revocation), so memory stays bounded
 * whatever the clients do. */
#define TOKENS_MAX  200000
#define TOKEN_BYTES 24

static size_t stripe_of(const cxw_sim_t *sim, const char *s, size_t len)
{
        /* A key of its own: the maps hash under theirs. */
        return (size_t)(cxw_hmap_siphash(&sim->stripe_key, s, len) % CXW_SIM_STRIPES);
}

bool cxw_sim_id_valid(const char *id)
{
        size_t n = 0;

        for (; id[n]; n++) {
                char c = id[n];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                if (!ok || n >= CXW_SIM_ID_MAX)
                        return false;
        }
        return n > 0;
}

static void contact_free(void *p)
{
        cxw_sim_contact_t *c = p;

        if (!c)
                return;
        json_decref(c->fields);
        free(c);
}

/* Reads the --contacts-file: one id a line; blank lines and # comments skipped. */
static cxw_sim_map_t *load_known(const char *path, char *errstr, size_t errstr_size)
{
        char line[CXW_SIM_ID_MAX + 4];
        cxw_sim_map_t *m = NULL;
        FILE *f = fopen(path, "r");
        unsigned lineno = 0;

        if (!f) {
                snprintf(errstr, errstr_size, "--contacts-file %s: %s", path,
                         strerror(errno));
                return NULL;
        }
        m = cxw_sim_map_new();
        if (!m)
                goto oom;
        while (fgets(line, sizeof(line), f)) {
                size_t len = strlen(line);
                char *s = line;

                lineno++;
                if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
                        snprintf(errstr, errstr_size,
                                 "--contacts-file %s:%u: line longer than %d characters",
                                 path, lineno, CXW_SIM_ID_MAX);
                        goto fail;
                }
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                                   line[len - 1] == ' ' || line[len - 1] == '\t'))
                        line[--len] = '\0';
                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s == '\0' || *s == '#')
                        continue;
                if (!cxw_sim_id_valid(s)) {
                        snprintf(errstr, errstr_size,
                                 "--contacts-file %s:%u: not a contact id (1-%d chars of "
                                 "[A-Za-z0-9._-])",
                                 path, lineno, CXW_SIM_ID_MAX);
                        goto fail;
                }
                if (cxw_sim_map_get(m, s, strlen(s)))
                        continue;
                if (cxw_sim_map_put(m, s, strlen(s), (void *)1) != 0)
                        goto oom;
        }
        if (ferror(f)) {
                snprintf(errstr, errstr_size, "--contacts-file %s: read error", path);
                goto fail;
        }
        fclose(f);
        return m;
oom:
        snprintf(errstr, errstr_size, "--contacts-file %s: out of memory", path);
fail:
        cxw_sim_map_destroy(m, NULL);
        fclose(f);
        return NULL;
}

cxw_sim_t *cxw_sim_new(cxw_sim_opts_t *opts, char *errstr, size_t errstr_size)
{
        cxw_sim_t *sim = calloc(1, sizeof(*sim));

        if (!sim) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        sim->opts = opts;
        atomic_store(&sim->error_rate, opts->error_rate);
        atomic_store(&sim->drop_rate, opts->drop_rate);
        atomic_store(&sim->token_fail_rate, opts->token_fail_rate);
        atomic_store(&sim->latency_ms, opts->latency_ms);
        atomic_store(&sim->job_duration_ms, opts->job_duration_ms);
        atomic_store(&sim->job_fail_rate, opts->job_fail_rate);
        pthread_mutex_init(&sim->rl_lock, NULL);
        sim->rl_rate = opts->rate_limit;
        sim->rl_burst = opts->burst;
        sim->rl_tokens = (double)opts->burst;
        sim->rl_last_ms = cxw_now_ms();
        sim->seed = opts->seed ? opts->seed : cxw_rand_seed();
        cxw_hmap_key_random(&sim->stripe_key);
        pthread_rwlock_init(&sim->tokens_lock, NULL);
        for (size_t i = 0; i < CXW_SIM_STRIPES; i++) {
                pthread_mutex_init(&sim->contacts[i].lock, NULL);
                pthread_mutex_init(&sim->reqkeys[i].lock, NULL);
                sim->contacts[i].map = cxw_sim_map_new();
                sim->reqkeys[i].map = cxw_sim_map_new();
                if (!sim->contacts[i].map || !sim->reqkeys[i].map) {
                        snprintf(errstr, errstr_size, "out of memory");
                        goto fail;
                }
        }
        sim->tokens = cxw_sim_map_new();
        if (!sim->tokens) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        if (opts->contacts_file) {
                sim->known = load_known(opts->contacts_file, errstr, errstr_size);
                if (!sim->known)
                        goto fail;
        }
        return sim;
fail:
        cxw_sim_destroy(sim);
        return NULL;
}

void cxw_sim_destroy(cxw_sim_t *sim)
{
        if (!sim)
                return;
        for (size_t i = 0; i < CXW_SIM_STRIPES; i++) {
                cxw_sim_map_destroy(sim->contacts[i].map, contact_free);
                cxw_sim_map_destroy(sim->reqkeys[i].map, NULL);
                pthread_mutex_destroy(&sim->contacts[i].lock);
                pthread_mutex_destroy(&sim->reqkeys[i].lock);
        }
        cxw_sim_map_destroy(sim->tokens, free);
        cxw_sim_map_destroy(sim->known, NULL);
        pthread_rwlock_destroy(&sim->tokens_lock);
        pthread_mutex_destroy(&sim->rl_lock);
        free(sim);
}

/* ---- random numbers ---- */

uint64_t cxw_sim_rand64(cxw_sim_t *sim)
{
        /* splitmix64 of seed + n·φ: one atomic add, no lock, and the n-th draw
         * is the same in every run with the same --seed. */
        uint64_t n = atomic_fetch_add(&sim->rng_counter, 1);
        uint64_t z = sim->seed + (n + 1) * 0x9E3779B97F4A7C15ULL;

        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
}

double cxw_sim_rand01(cxw_sim_t *sim)
{
        return (double)(cxw_sim_rand64(sim) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- rate limit ---- */

bool cxw_sim_rate_take(cxw_sim_t *sim, int64_t *wait_ms)
{
        bool ok = true;
        int64_t now = cxw_now_ms();

        pthread_mutex_lock(&sim->rl_lock);
        if (sim->rl_rate > 0) {
                double t = sim->rl_tokens +
                           (double)(now - sim->rl_last_ms) * sim->rl_rate / 1000.0;
                if (t > (double)sim->rl_burst)
                        t = (double)sim->rl_burst;
                sim->rl_last_ms = now;
                if (t >= 1.0) {
                        t -= 1.0;
                } else {
                        ok = false;
                        *wait_ms = (int64_t)ceil((1.0 - t) * 1000.0 / sim->rl_rate);
                }
                sim->rl_tokens = t;
        }
        pthread_mutex_unlock(&sim->rl_lock);
        return ok;
}

void cxw_sim_rate_set(cxw_sim_t *sim, double rate, int64_t burst)
{
        pthread_mutex_lock(&sim->rl_lock);
        if (burst >= 1) {
                sim->rl_burst = burst;
                if (sim->rl_tokens > (double)burst)
                        sim->rl_tokens = (double)burst;
        }
        if (rate >= 0) {
                /* Switching the limit on starts with a full bucket. */
                if (sim->rl_rate <= 0 && rate > 0)
                        sim->rl_tokens = (double)sim->rl_burst;
                sim->rl_rate = rate;
        }
        sim->rl_last_ms = cxw_now_ms();
        pthread_mutex_unlock(&sim->rl_lock);
}

void cxw_sim_rate_get(cxw_sim_t *sim, double *rate, int64_t *burst)
{
        pthread_mutex_lock(&sim->rl_lock);
        *rate = sim->rl_rate;
        *burst = sim->rl_burst;
        pthread_mutex_unlock(&sim->rl_lock);
}

/* ---- tokens ---- */

static bool token_expired(void *val, void *ctx)
{
        return *(int64_t *)val <= *(int64_t *)ctx;
}

int cxw_sim_token_issue(cxw_sim_t *sim, char *out, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        unsigned char raw[TOKEN_BYTES];
        int64_t now = cxw_now_ms();
        int64_t *expiry;
        int rc;

        if (size < 2 * TOKEN_BYTES + 1 || RAND_bytes(raw, sizeof(raw)) != 1)
                return -1;
        for (size_t i = 0; i < sizeof(raw); i++) {
                out[2 * i] = hex[raw[i] >> 4];
                out[2 * i + 1] = hex[raw[i] & 15];
        }
        out[2 * TOKEN_BYTES] = '\0';
        expiry = malloc(sizeof(*expiry));
        if (!expiry)
                return -1;
        *expiry = now + sim->opts->token_ttl_s * 1000;

        pthread_rwlock_wrlock(&sim->tokens_lock);
        if (now - sim->tokens_swept_ms >= 1000) {
                cxw_sim_map_remove_if(sim->tokens, token_expired, &now, free);
                sim->tokens_swept_ms = now;
        }
        if (cxw_sim_map_count(sim->tokens) >= TOKENS_MAX)
                cxw_sim_map_remove_if(sim->tokens, NULL, NULL, free);
        rc = cxw_sim_map_put(sim->tokens, out, 2 * TOKEN_BYTES, expiry);
        if (rc == 0)
                cxw_strlcpy(sim->issued[sim->issued_n++ % 16], out,
                            sizeof(sim->issued[0]));
        pthread_rwlock_unlock(&sim->tokens_lock);
        if (rc != 0)
                free(expiry);
        return rc;
}

bool cxw_sim_token_valid(cxw_sim_t *sim, const char *token)
{
        size_t len = strlen(token);
        bool ok = false;
        int64_t *expiry;

        if (len != 2 * TOKEN_BYTES)
                return false;
        pthread_rwlock_rdlock(&sim->tokens_lock);
        expiry = cxw_sim_map_get(sim->tokens, token, len);
        ok = expiry && *expiry > cxw_now_ms();
        pthread_rwlock_unlock(&sim->tokens_lock);
        return ok;
}

/* ---- contacts ---- */

bool cxw_sim_contact_exists(cxw_sim_t *sim, const char *id)
{
        size_t plen = strlen(sim->opts->unknown_prefix);

        if (plen > 0 && strncmp(id, sim->opts->unknown_prefix, plen) == 0)
                return false;
        if (sim->known)
                return cxw_sim_map_get(sim->known, id, strlen(id)) != NULL;
        return true;
}

/* Records reqkey for contact id; counts it if it was applied before. */
static void note_reqkey(cxw_sim_t *sim, const char *id, const char *reqkey)
{
        char key[CXW_SIM_ID_MAX + 1 + CXW_SIM_REQKEY_MAX + 1];
        size_t idlen = strlen(id), rlen = strlen(reqkey), klen;
        cxw_sim_stripe_t *st;

        /* Scoped by contact: a duplicate is the same request applied twice,
         * and that always names the same contact. */
        if (idlen > CXW_SIM_ID_MAX || rlen > CXW_SIM_REQKEY_MAX)
                return;
        memcpy(key, id, idlen);
        key[idlen] = '\0';
        memcpy(key + idlen + 1, reqkey, rlen);
        klen = idlen + 1 + rlen;
        st = &sim->reqkeys[stripe_of(sim, key, klen)];
        pthread_mutex_lock(&st->lock);
        if (cxw_sim_map_get(st->map, key, klen))
                atomic_fetch_add(&sim->applied_duplicates, 1);
        else
                (void)cxw_sim_map_put(st->map, key, klen, (void *)1);
        pthread_mutex_unlock(&st->lock);
}

/* A copy of the contact's fields (strings only, so no value is shared
 * between the table and a request's thread). */
static int copy_fields(json_t *dst, json_t *src)
{
        const char *k;
        json_t *v;

        json_object_foreach(src, k, v)
        {
                json_t *s = json_stringn(json_string_value(v), json_string_length(v));
                if (!s || json_object_set_new(dst, k, s) != 0)
                        return -1;
        }
        return 0;
}

json_t *cxw_sim_contact_apply(cxw_sim_t *sim, const char *id, json_t *fields,
                              const char *reqkey)
{
        size_t idlen = strlen(id);
        cxw_sim_stripe_t *st = &sim->contacts[stripe_of(sim, id, idlen)];
        cxw_sim_contact_t *c;
        json_t *out = NULL;

        pthread_mutex_lock(&st->lock);
        c = cxw_sim_map_get(st->map, id, idlen);
        if (!c) {
                c = calloc(1, sizeof(*c));
                if (!c)
                        goto done;
                c->fields = json_object();
                if (!c->fields || cxw_sim_map_put(st->map, id, idlen, c) != 0) {
                        contact_free(c);
                        goto done;
                }
        }
        if (copy_fields(c->fields, fields) != 0)
                goto done;
        c->updates++;
        if (reqkey)
                cxw_strlcpy(c->last_request_key, reqkey, sizeof(c->last_request_key));
        out = json_object();
        if (!out || json_object_set_new(out, "contactId", json_string(id)) != 0 ||
            copy_fields(out, c->fields) != 0) {
                json_decref(out);
                out = NULL;
        }
done:
        pthread_mutex_unlock(&st->lock);
        if (out) {
                atomic_fetch_add(&sim->contacts_applied, 1);
                if (reqkey && *reqkey)
                        note_reqkey(sim, id, reqkey);
        }
        return out;
}

json_t *cxw_sim_contact_get(cxw_sim_t *sim, const char *id)
{
        size_t idlen = strlen(id);
        cxw_sim_stripe_t *st = &sim->contacts[stripe_of(sim, id, idlen)];
        cxw_sim_contact_t *c;
        json_t *out = NULL, *fields = NULL;

        pthread_mutex_lock(&st->lock);
        c = cxw_sim_map_get(st->map, id, idlen);
        if (c) {
                fields = json_object();
                if (fields && copy_fields(fields, c->fields) == 0)
                        out = json_pack("{s:s, s:O, s:I}", "contactId", id, "fields",
                                        fields, "updates", (json_int_t)c->updates);
                if (out && c->last_request_key[0])
                        json_object_set_new(out, "lastRequestId",
                                            json_string(c->last_request_key));
        }
        pthread_mutex_unlock(&st->lock);
        json_decref(fields);
        return out;
}

/* ---- statistics ---- */

void cxw_sim_count_status(cxw_sim_t *sim, unsigned status)
{
        if (status < CXW_SIM_STATUS_MAX)
                atomic_fetch_add(&sim->by_status[status], 1);
}

void cxw_sim_api_begin(cxw_sim_t *sim)
{
        int64_t now = atomic_fetch_add(&sim->in_flight, 1) + 1;
        int64_t max = atomic_load(&sim->max_concurrency);

        while (now > max &&
               !atomic_compare_exchange_weak(&sim->max_concurrency, &max, now))
                ;
}

void cxw_sim_api_end(cxw_sim_t *sim)
{
        atomic_fetch_sub(&sim->in_flight, 1);
}

json_t *cxw_sim_stats_json(cxw_sim_t *sim)
{
        json_t *by = json_object(), *out;
        size_t known = 0;
        char key[8];

        if (!by)
                return NULL;
        for (unsigned s = 100; s < CXW_SIM_STATUS_MAX; s++) {
                uint64_t n = atomic_load(&sim->by_status[s]);
                if (n == 0)
                        continue;
                snprintf(key, sizeof(key), "%u", s);
                json_object_set_new(by, key, json_integer((json_int_t)n));
        }
        for (size_t i = 0; i < CXW_SIM_STRIPES; i++) {
                pthread_mutex_lock(&sim->contacts[i].lock);
                known += cxw_sim_map_count(sim->contacts[i].map);
                pthread_mutex_unlock(&sim->contacts[i].lock);
        }
#define N(field) ((json_int_t)atomic_load(&sim->field))
        out = json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                        "requests", by, "requestsTotal", N(requests_total), "dropped",
                        N(dropped), "rateLimited", N(rate_limited), "maxConcurrency",
                        N(max_concurrency), "inFlight", N(in_flight), "tokenFetches",
                        N(token_fetches), "tokenRejects", N(token_rejects),
                        "contactsApplied", N(contacts_applied), "appliedDuplicates",
                        N(applied_duplicates), "patchBodiesWithContactId",
                        N(bodies_with_contact_id), "contactsKnown", (json_int_t)known);
        if (out) {
                json_object_set_new(out, "importsSubmitted",
                                    json_integer(N(imports_submitted)));
                json_object_set_new(out, "importsDeduplicated",
                                    json_integer(N(imports_deduplicated)));
                json_object_set_new(out, "jobsCompleted",
                                    json_integer(N(jobs_completed)));
                json_object_set_new(out, "jobsFailed", json_integer(N(jobs_failed)));
                json_object_set_new(out, "jobPolls", json_integer(N(job_polls)));
                json_object_set_new(out, "webhooksSent", json_integer(N(webhooks_sent)));
                json_object_set_new(out, "webhooksFailed",
                                    json_integer(N(webhooks_failed)));
                json_object_set_new(out, "addressBookRequests",
                                    json_integer(N(ab_requests)));
                json_object_set_new(out, "addressBookEntries",
                                    json_integer(N(ab_entries)));
                json_object_set_new(out, "addressBookRejected",
                                    json_integer(N(ab_rejected)));
                cxw_httpd_t *h = atomic_load(&sim->httpd);
                json_object_set_new(out, "connections",
                                    json_integer((json_int_t)cxw_httpd_connections(h)));
                json_object_set_new(
                    out, "tlsHandshakes",
                    json_integer((json_int_t)cxw_httpd_tls_handshakes(h)));
                json_object_set_new(
                    out, "jobsStored",
                    json_integer(sim->jobs ? (json_int_t)cxw_sim_jobs_count(sim->jobs)
                                           : 0));
        }
#undef N
        return out;
}

void cxw_sim_reset(cxw_sim_t *sim)
{
        for (size_t i = 0; i < CXW_SIM_STRIPES; i++) {
                pthread_mutex_lock(&sim->contacts[i].lock);
                cxw_sim_map_remove_if(sim->contacts[i].map, NULL, NULL, contact_free);
                pthread_mutex_unlock(&sim->contacts[i].lock);
                pthread_mutex_lock(&sim->reqkeys[i].lock);
                cxw_sim_map_remove_if(sim->reqkeys[i].map, NULL, NULL, NULL);
                pthread_mutex_unlock(&sim->reqkeys[i].lock);
        }
        for (size_t s = 0; s < CXW_SIM_STATUS_MAX; s++)
                atomic_store(&sim->by_status[s], 0);
        atomic_store(&sim->requests_total, 0);
        atomic_store(&sim->dropped, 0);
        atomic_store(&sim->rate_limited, 0);
        atomic_store(&sim->token_fetches, 0);
        atomic_store(&sim->token_rejects, 0);
        atomic_store(&sim->contacts_applied, 0);
        atomic_store(&sim->applied_duplicates, 0);
        atomic_store(&sim->bodies_with_contact_id, 0);
        /* Jobs first, so none finishes and counts after the counters clear. */
        cxw_sim_jobs_reset(sim->jobs);
        atomic_store(&sim->imports_submitted, 0);
        atomic_store(&sim->imports_deduplicated, 0);
        atomic_store(&sim->jobs_completed, 0);
        atomic_store(&sim->jobs_failed, 0);
        atomic_store(&sim->job_polls, 0);
        atomic_store(&sim->webhooks_sent, 0);
        atomic_store(&sim->webhooks_failed, 0);
        atomic_store(&sim->ab_requests, 0);
        atomic_store(&sim->ab_entries, 0);
        atomic_store(&sim->ab_rejected, 0);
        /* Requests still in progress stay counted. */
        atomic_store(&sim->max_concurrency, atomic_load(&sim->in_flight));
}

json_t *cxw_sim_tokens_json(cxw_sim_t *sim)
{
        json_t *a = json_array();
        unsigned n;

        pthread_rwlock_rdlock(&sim->tokens_lock);
        n = sim->issued_n < 16 ? sim->issued_n : 16;
        for (unsigned i = 0; i < n; i++)
                json_array_append_new(a, json_string(sim->issued[i]));
        pthread_rwlock_unlock(&sim->tokens_lock);
        return json_pack("{s:o}", "issued", a);
}

void cxw_sim_lock_init(pthread_mutex_t *lock, pthread_cond_t *cond)
{
        pthread_condattr_t attr;

        pthread_mutex_init(lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(cond, &attr);
        pthread_condattr_destroy(&attr);
}

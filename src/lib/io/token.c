/* token.c: the OAuth2 client-credentials token cache (a pure state machine). */
#include "cxone/io/token.h"
#include "cxone/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest access token accepted, in bytes. */
#define TOKEN_MAX_LEN 8192
/* Longest token endpoint answer parsed: a token plus generous room. */
#define BODY_MAX_LEN (64 * 1024)
/* Lifetime when the endpoint does not say (RFC 6749 leaves expires_in optional). */
#define DEFAULT_LIFETIME_MS (300 * 1000)
/* Longest lifetime believed: a larger expires_in is clamped to it, which also
 * keeps the millisecond arithmetic far from overflow. */
#define MAX_LIFETIME_MS ((int64_t)30 * 24 * 3600 * 1000)
/* How much of an endpoint-supplied field (error, error_description,
 * token_type) goes into an error message. */
#define FIELD_MAX_LEN 200

struct cxw_token_s {
        char *token; /**< malloc'd, NUL-terminated; wiped before free */
        size_t token_len;
        int64_t issued_at;
        int64_t expires_at;
        int64_t refresh_at;
        uint64_t generation;
        int in_flight;
        int invalidated;

        int64_t refresh_ahead_ms;
        int64_t backoff_base_ms;
        int64_t backoff_cap_ms;
        unsigned backoff_attempt;
        int64_t next_try_at; /**< no fetch before this (backoff); 0 = none */
        uint64_t rng;

        uint64_t fetches_ok;
        uint64_t fetches_failed;

        int require_tenant;                 /**< the answer must name the tenant */
        char tenant_id[CXW_TENANT_ID_SIZE]; /**< from the last id_token, or "" */
        int64_t min_interval_ms;            /**< no fetch sooner than this after a 200 */
        int64_t floor_until; /**< no fetch before this (the floor); 0 = none */
};

static void drop_token(cxw_token_t *t)
{
        if (t->token) {
                OPENSSL_cleanse(t->token, t->token_len);
                free(t->token);
        }
        t->token = NULL;
        t->token_len = 0;
}

cxw_token_t *cxw_token_new(int64_t refresh_ahead_ms, int64_t backoff_base_ms,
                           int64_t backoff_cap_ms)
{
        cxw_token_t *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->refresh_ahead_ms = refresh_ahead_ms > 0 ? refresh_ahead_ms : 0;
        t->backoff_base_ms = backoff_base_ms > 0 ? backoff_base_ms : 1;
        t->backoff_cap_ms =
            backoff_cap_ms >= t->backoff_base_ms ? backoff_cap_ms : t->backoff_base_ms;
        t->rng = cxw_rand_seed();
        return t;
}

void cxw_token_destroy(cxw_token_t *t)
{
        if (!t)
                return;
        drop_token(t);
        free(t);
}

static int usable(const cxw_token_t *t, int64_t now_ms)
{
        return t->token && !t->invalidated && now_ms < t->expires_at;
}

const char *cxw_token_get(const cxw_token_t *t, int64_t now_ms, uint64_t *generation)
{
        if (!t || !usable(t, now_ms))
                return NULL;
        if (generation)
                *generation = t->generation;
        return t->token;
}

void cxw_token_set_min_refresh(cxw_token_t *t, int64_t min_interval_ms)
{
        if (t)
                t->min_interval_ms = min_interval_ms > 0 ? min_interval_ms : 0;
}

int cxw_token_need_fetch(const cxw_token_t *t, int64_t now_ms)
{
        if (!t || t->in_flight || now_ms < t->next_try_at || now_ms < t->floor_until)
                return 0;
        return !usable(t, now_ms) || now_ms >= t->refresh_at;
}

int64_t cxw_token_next_fetch_at(const cxw_token_t *t)
{
        int64_t at;

        if (!t || t->in_flight)
                return INT64_MAX;
        if (!t->token || t->invalidated)
                at = t->next_try_at;
        else
                at = t->refresh_at > t->next_try_at ? t->refresh_at : t->next_try_at;
        return at > t->floor_until ? at : t->floor_until;
}

void cxw_token_fetch_started(cxw_token_t *t, int64_t now_ms)
{
        (void)now_ms;
        if (t)
                t->in_flight = 1;
}

/* Exponential backoff with full jitter: the n-th failure in a row waits a
 * uniformly random 1..min(cap, base * 2^(n-1)) ms. Never 0, so a failing
 * endpoint is not hammered in a tight loop. */
static void start_backoff(cxw_token_t *t, int64_t now_ms)
{
        int64_t ceiling = t->backoff_base_ms;

        t->in_flight = 0;
        t->fetches_failed++;
        if (t->backoff_attempt < 64)
                t->backoff_attempt++;
        for (unsigned i = 1; i < t->backoff_attempt && ceiling < t->backoff_cap_ms; i++)
                ceiling *= 2;
        if (ceiling > t->backoff_cap_ms)
                ceiling = t->backoff_cap_ms;
        t->next_try_at = now_ms + 1 + (int64_t)(cxw_rand64(&t->rng) % (uint64_t)ceiling);
}

void cxw_token_fetch_failed(cxw_token_t *t, int64_t now_ms)
{
        if (t)
                start_backoff(t, now_ms);
}

void cxw_token_invalidate(cxw_token_t *t, uint64_t generation)
{
        if (!t || !t->token || generation != t->generation)
                return;
        t->invalidated = 1;
        t->floor_until = 0; /* a refused token is replaced at once */
        drop_token(t);
}

uint64_t cxw_token_fetches_ok(const cxw_token_t *t)
{
        return t ? t->fetches_ok : 0;
}

uint64_t cxw_token_fetches_failed(const cxw_token_t *t)
{
        return t ? t->fetches_failed : 0;
}

/* Copies at most FIELD_MAX_LEN bytes of an endpoint-supplied string into out,
 * replacing anything but printable ASCII, so it is safe in a log line. */
static const char *printable(const char *s, char out[FIELD_MAX_LEN + 1])
{
        size_t i;

        for (i = 0; s[i] && i < FIELD_MAX_LEN; i++) {
                unsigned char c = (unsigned char)s[i];
                out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        }
        out[i] = '\0';
        return out;
}

/* A non-200 answer: the status, plus the endpoint's "error" and
 * "error_description" when the body is a JSON object holding them. */
static void http_error(long http_status, const char *body, size_t len, char *errstr,
                       size_t errstr_size)
{
        char e[FIELD_MAX_LEN + 1] = "", d[FIELD_MAX_LEN + 1] = "";
        json_t *root = NULL;

        if (body && len > 0 && len <= BODY_MAX_LEN)
                root = json_loadb(body, len, 0, NULL);
        if (json_is_object(root)) {
                const char *s = json_string_value(json_object_get(root, "error"));
                if (s)
                        printable(s, e);
                s = json_string_value(json_object_get(root, "error_description"));
                if (s)
                        printable(s, d);
        }
        json_decref(root);

        if (e[0] && d[0])
                cxw_set_err(errstr, errstr_size,
                            "token endpoint answered HTTP %ld: %s (%s)", http_status, e,
                            d);
        else if (e[0] || d[0])
                cxw_set_err(errstr, errstr_size, "token endpoint answered HTTP %ld: %s",
                            http_status, e[0] ? e : d);
        else
                cxw_set_err(errstr, errstr_size, "token endpoint answered HTTP %ld",
                            http_status);
}

/* expires_in as a lifetime in ms: a positive number or numeric string;
 * missing → the default. @returns 0, or -1 when present but not valid. */
static int parse_lifetime(json_t *v, int64_t *lifetime_ms)
{
        double secs;

        if (!v) {
                *lifetime_ms = DEFAULT_LIFETIME_MS;
                return 0;
        }
        if (json_is_number(v)) {
                secs = json_number_value(v);
        } else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                char *end = NULL;

                if (json_string_length(v) == 0 || json_string_length(v) > 32 ||
                    isspace((unsigned char)s[0]))
                        return -1;
                errno = 0;
                secs = strtod(s, &end);
                if (errno != 0 || end == s || *end != '\0')
                        return -1;
        } else {
                return -1;
        }
        if (!isfinite(secs) || secs <= 0)
                return -1;
        if (secs * 1000.0 >= (double)MAX_LIFETIME_MS)
                *lifetime_ms = MAX_LIFETIME_MS;
        else
                *lifetime_ms = (int64_t)(secs * 1000.0);
        if (*lifetime_ms < 1)
                *lifetime_ms = 1;
        return 0;
}

/* The token goes into an Authorization header: printable ASCII without
 * spaces only, so it can never split or inject a header line. */
static int token_chars_ok(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c <= 0x20 || c >= 0x7f)
                        return 0;
        }
        return 1;
}

/* Wipes a jansson string's buffer (it may hold the access token). */
static void wipe_json_string(json_t *v)
{
        if (json_is_string(v))
                OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

int cxw_tenant_id_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        return n >= 1 && n < CXW_TENANT_ID_SIZE &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789._-") == n;
}

/* The tenantId claim of the answer's id_token, into out ("" without one).
 * @returns 0, or -1 with errstr when the cache requires one and it is
 * missing or bad. An id_token that is not required is read if it can be. */
static int read_tenant(const cxw_token_t *t, json_t *root, char out[CXW_TENANT_ID_SIZE],
                       char *errstr, size_t errstr_size)
{
        json_t *idt = json_object_get(root, "id_token");
        char err[200];

        out[0] = '\0';
        if (!json_is_string(idt)) {
                if (!t->require_tenant)
                        return 0;
                cxw_set_err(errstr, errstr_size,
                            "token endpoint answer has no id_token (its tenantId claim "
                            "names the tenant; or set cxone.tenant_id)");
                return -1;
        }
        if (cxw_jwt_claim_str(json_string_value(idt), json_string_length(idt), "tenantId",
                              out, CXW_TENANT_ID_SIZE, err, sizeof(err)) != 0 ||
            !cxw_tenant_id_ok(out)) {
                if (!out[0] || cxw_tenant_id_ok(out))
                        ; /* err says why */
                else
                        snprintf(err, sizeof(err),
                                 "id_token tenantId is not 1-128 of A-Z a-z 0-9 . _ -");
                out[0] = '\0';
                if (!t->require_tenant)
                        return 0;
                cxw_set_err(errstr, errstr_size,
                            "token endpoint answer: %s (or set "
                            "cxone.tenant_id)",
                            err);
                return -1;
        }
        return 0;
}

void cxw_token_require_tenant(cxw_token_t *t, int on)
{
        if (t)
                t->require_tenant = on ? 1 : 0;
}

const char *cxw_token_tenant_id(const cxw_token_t *t)
{
        return t ? t->tenant_id : "";
}

int64_t cxw_token_lifetime_ms(const cxw_token_t *t)
{
        return t && t->token ? t->expires_at - t->issued_at : 0;
}

int cxw_token_fetch_done(cxw_token_t *t, long http_status, const char *body, size_t len,
                         int64_t now_ms, char *errstr, size_t errstr_size)
{
        char buf[FIELD_MAX_LEN + 1];
        char tenant[CXW_TENANT_ID_SIZE] = "";
        json_t *root = NULL, *at, *type;
        int64_t lifetime, margin;
        size_t tlen;
        char *copy;

        if (!t) {
                cxw_set_err(errstr, errstr_size, "no token cache");
                return -1;
        }
        /* The endpoint answered: whatever the answer says (expires_in 1, or
         * 0 and refused), the next fetch waits for the floor, so a short or
         * bad lifetime cannot make a fetch storm. */
        if (http_status == 200 && t->min_interval_ms > 0)
                t->floor_until = now_ms + t->min_interval_ms;
        if (http_status != 200) {
                http_error(http_status, body, len, errstr, errstr_size);
                goto fail;
        }
        if (!body || len == 0) {
                cxw_set_err(errstr, errstr_size, "token endpoint answer is empty");
                goto fail;
        }
        if (len > BODY_MAX_LEN) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint answer is too large (%zu bytes, at most %d)",
                            len, BODY_MAX_LEN);
                goto fail;
        }
        root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        if (!root) {
                /* jansson's error text may quote the body: not used. */
                cxw_set_err(errstr, errstr_size,
                            "token endpoint answer is not valid JSON");
                goto fail;
        }
        if (!json_is_object(root)) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint answer is not a JSON object");
                goto fail;
        }
        at = json_object_get(root, "access_token");
        if (!json_is_string(at)) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint answer has no access_token string");
                goto fail;
        }
        tlen = json_string_length(at);
        if (tlen == 0 || tlen > TOKEN_MAX_LEN) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint access_token has %zu bytes, expected 1..%d",
                            tlen, TOKEN_MAX_LEN);
                goto fail;
        }
        if (!token_chars_ok(json_string_value(at), tlen)) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint access_token holds characters not allowed in "
                            "an HTTP header");
                goto fail;
        }
        if (parse_lifetime(json_object_get(root, "expires_in"), &lifetime) != 0) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint expires_in is not a positive number");
                goto fail;
        }
        type = json_object_get(root, "token_type");
        if (type && !json_is_string(type)) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint token_type is not a string");
                goto fail;
        }
        if (type && strcasecmp(json_string_value(type), "Bearer") != 0) {
                cxw_set_err(errstr, errstr_size,
                            "token endpoint token_type \"%s\" is not Bearer",
                            printable(json_string_value(type), buf));
                goto fail;
        }

        if (read_tenant(t, root, tenant, errstr, errstr_size) != 0)
                goto fail;

        copy = malloc(tlen + 1);
        if (!copy) {
                cxw_set_err(errstr, errstr_size, "out of memory storing the token");
                goto fail;
        }
        memcpy(copy, json_string_value(at), tlen + 1);
        wipe_json_string(at);
        wipe_json_string(json_object_get(root, "id_token"));
        json_decref(root);

        drop_token(t);
        t->token = copy;
        t->token_len = tlen;
        t->issued_at = now_ms;
        t->expires_at = now_ms + lifetime;
        margin = lifetime / 10;
        if (t->refresh_ahead_ms < margin)
                margin = t->refresh_ahead_ms;
        t->refresh_at = t->expires_at - margin;
        memcpy(t->tenant_id, tenant, sizeof(t->tenant_id));
        t->generation++;
        t->invalidated = 0;
        t->in_flight = 0;
        t->backoff_attempt = 0;
        t->next_try_at = 0;
        t->fetches_ok++;
        return 0;

fail:
        if (root) {
                wipe_json_string(json_object_get(root, "access_token"));
                wipe_json_string(json_object_get(root, "id_token"));
                json_decref(root);
        }
        start_backoff(t, now_ms);
        return -1;
}

char *cxw_form_urlencode(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t len, pos = 0;
        char *out;

        if (!s)
                s = "";
        len = strlen(s);
        if (len > (SIZE_MAX - 1) / 3)
                return NULL;
        out = malloc(len * 3 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                    c == '~') {
                        out[pos++] = (char)c;
                } else if (c == ' ') {
                        out[pos++] = '+';
                } else {
                        out[pos++] = '%';
                        out[pos++] = hex[c >> 4];
                        out[pos++] = hex[c & 0x0f];
                }
        }
        out[pos] = '\0';
        return out;
}

char *cxw_token_form_body(const char *scope)
{
        static const char grant[] = "grant_type=client_credentials";
        static const char sc[] = "&scope=";
        char *enc, *out;
        size_t n;

        if (!scope || !*scope)
                return strdup(grant);
        enc = cxw_form_urlencode(scope);
        if (!enc)
                return NULL;
        n = sizeof(grant) - 1 + sizeof(sc) - 1 + strlen(enc) + 1;
        out = malloc(n);
        if (out)
                snprintf(out, n, "%s%s%s", grant, sc, enc);
        free(enc);
        return out;
}

char *cxw_token_basic_auth(const char *client_id, const char *client_secret)
{
        static const char prefix[] = "Authorization: Basic ";
        char *id = NULL, *secret = NULL, *joined = NULL, *out = NULL;
        size_t idlen, seclen, jlen, b64len;

        id = cxw_form_urlencode(client_id);
        secret = cxw_form_urlencode(client_secret);
        if (!id || !secret)
                goto done;
        idlen = strlen(id);
        seclen = strlen(secret);
        jlen = idlen + 1 + seclen;
        /* EVP_EncodeBlock takes an int length. */
        if (jlen > (size_t)1 << 20)
                goto done;
        joined = malloc(jlen + 1);
        if (!joined)
                goto done;
        memcpy(joined, id, idlen);
        joined[idlen] = ':';
        memcpy(joined + idlen + 1, secret, seclen + 1);

        b64len = 4 * ((jlen + 2) / 3);
        out = malloc(sizeof(prefix) - 1 + b64len + 1);
        if (!out)
                goto done;
        memcpy(out, prefix, sizeof(prefix) - 1);
        EVP_EncodeBlock((unsigned char *)out + sizeof(prefix) - 1,
                        (const unsigned char *)joined, (int)jlen);

done:
        if (id) {
                OPENSSL_cleanse(id, strlen(id));
                free(id);
        }
        if (secret) {
                OPENSSL_cleanse(secret, strlen(secret));
                free(secret);
        }
        if (joined) {
                OPENSSL_cleanse(joined, jlen);
                free(joined);
        }
        return out;
}

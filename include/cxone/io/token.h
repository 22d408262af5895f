/**
 * @file token.h
 * @brief The OAuth2 client-credentials token cache of one process: one
 *        token shared by all requests, single-flight fetches, refresh ahead
 *        of expiry, dropped once on a 401, backoff when the endpoint fails.
 *
 * A pure state machine: it never does I/O. The caller (the worker's loop)
 * asks cxw_token_need_fetch(), starts the HTTP POST itself with
 * cxw_token_form_body() and cxw_token_basic_auth(), and reports the answer
 * with cxw_token_fetch_done() / cxw_token_fetch_failed(). All times are
 * monotonic milliseconds (cxw_now_ms()), passed in so tests control them.
 *
 * @locality the loop thread only.
 */
#ifndef CXONE_TOKEN_H
#define CXONE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct cxw_token_s cxw_token_t;

/**
 * @param refresh_ahead_ms refresh this long before expiry; the effective
 *        margin is min(refresh_ahead_ms, lifetime / 10), so a token living
 *        3 s is refreshed at 2.7 s, not at once.
 * @param backoff_base_ms, backoff_cap_ms delays between failed fetches
 *        (exponential, full jitter).
 * @remark free with cxw_token_destroy().
 */
cxw_token_t *cxw_token_new(int64_t refresh_ahead_ms, int64_t backoff_base_ms,
                           int64_t backoff_cap_ms);

/**
 * @brief Sets the floor between fetches: after a 200 answer (a token stored,
 *        or an answer refused, e.g. expires_in 0), need_fetch stays 0 for
 *        min_interval_ms, however short the token lives; a token that
 *        expires sooner leaves the cache without one until then. A 401
 *        (cxw_token_invalidate()) is not held back. 0 (the default) = none.
 */
void cxw_token_set_min_refresh(cxw_token_t *t, int64_t min_interval_ms);

/** @brief Frees the cache, wiping the token from memory; NULL-safe. */
void cxw_token_destroy(cxw_token_t *t);

/**
 * @brief The current access token if one is held and not expired at now,
 *        else NULL. *generation (if not NULL) receives the token's
 *        generation, to hand back to cxw_token_invalidate().
 * @remark the string stays valid until the next fetch_done/invalidate/destroy.
 */
const char *cxw_token_get(const cxw_token_t *t, int64_t now_ms, uint64_t *generation);

/**
 * @brief 1 if the caller should start a fetch now: none in flight, not in
 *        backoff, and no usable token, or the refresh point has passed, or
 *        the token was invalidated.
 */
int cxw_token_need_fetch(const cxw_token_t *t, int64_t now_ms);

/**
 * @brief When need_fetch will next become true on its own (refresh point or
 *        end of backoff), for the loop's timer; INT64_MAX if never (a fetch
 *        is in flight).
 */
int64_t cxw_token_next_fetch_at(const cxw_token_t *t);

/** @brief A fetch was started; need_fetch is 0 until it ends. */
void cxw_token_fetch_started(cxw_token_t *t, int64_t now_ms);

/**
 * @brief The token endpoint answered. A 200 with a JSON object holding a
 *        string access_token and a positive expires_in (number; a numeric
 *        string is accepted too; missing → 300 s) stores a new token
 *        (generation + 1) and clears the backoff.
 *        Anything else starts the backoff.
 * @returns 0 when a token was stored, else -1 with errstr set (the
 *          status and the endpoint's "error" field if any; never the
 *          body's token).
 */
int cxw_token_fetch_done(cxw_token_t *t, long http_status, const char *body, size_t len,
                         int64_t now_ms, char *errstr, size_t errstr_size);

/** @brief The fetch got no answer (network error, timeout): backoff. */
void cxw_token_fetch_failed(cxw_token_t *t, int64_t now_ms);

/**
 * @brief A request made with the token of generation got 401: drop that
 *        token if it is still the current one (so N requests failing
 *        together cause one fetch, not N).
 */
void cxw_token_invalidate(cxw_token_t *t, uint64_t generation);

/** @brief Fetches that succeeded / failed so far (for metrics). */
uint64_t cxw_token_fetches_ok(const cxw_token_t *t);
uint64_t cxw_token_fetches_failed(const cxw_token_t *t);

/**
 * @brief The form body: "grant_type=client_credentials" plus
 *        "&scope=<urlencoded scope>" when scope is not empty.
 * @returns a malloc'd string.
 */
char *cxw_token_form_body(const char *scope);

/**
 * @brief The Authorization header line for HTTP Basic client authentication
 *        (RFC 6749 2.3.1: id and secret form-urlencoded, joined by ':',
 *        base64): "Authorization: Basic ...".
 * @returns a malloc'd string; the caller wipes and frees it. It holds the
 *          secret: never log it.
 */
char *cxw_token_basic_auth(const char *client_id, const char *client_secret);

/**
 * @brief application/x-www-form-urlencoded encoding of s (space → '+',
 *        unreserved kept, the rest %XX). @returns a malloc'd string.
 */
char *cxw_form_urlencode(const char *s);

/* ---- the login request and the id_token (token_login.c) --------------- */

/** The OAuth2 grant of the token request. */
typedef enum {
        CXW_TOKEN_GRANT_CLIENT_CREDENTIALS = 0, /**< the seed's */
        CXW_TOKEN_GRANT_PASSWORD,               /**< CXone's access keys */
} cxw_token_grant_t;

/** How the client id and secret travel (RFC 6749 2.3.1). */
typedef enum {
        CXW_TOKEN_AUTH_BASIC = 0, /**< client_secret_basic: an Authorization line */
        CXW_TOKEN_AUTH_POST,      /**< client_secret_post: in the form body */
} cxw_token_client_auth_t;

/** What a login sends. The strings are the caller's. */
typedef struct cxw_token_login_s {
        cxw_token_grant_t grant;
        cxw_token_client_auth_t client_auth;
        const char *client_id;
        const char *client_secret;
        const char *username; /**< password grant: the Access Key ID */
        const char *password; /**< password grant: the Access Key Secret */
        const char *scope;    /**< "" or NULL: none */
} cxw_token_login_t;

/** @brief "client_credentials" | "password". @returns 0, or -1 if neither. */
int cxw_token_grant_parse(const char *s, cxw_token_grant_t *out);

/** @brief "basic" | "post". @returns 0, or -1 if neither. */
int cxw_token_client_auth_parse(const char *s, cxw_token_client_auth_t *out);

/**
 * @brief Builds the token request of a login: the form body
 *        (`grant_type=...`, for the password grant `&username=&password=`,
 *        `&scope=` when set, with client_secret_post `&client_id=&client_secret=`;
 *        every value form-urlencoded) and, with client_secret_basic, the
 *        Authorization line (cxw_token_basic_auth()).
 * @param body receives the malloc'd body.
 * @param authorization receives the malloc'd header line, or NULL (post).
 * @returns 0, or -1 with errstr (which never holds a secret).
 * @remark both results hold secrets: the caller wipes and frees them and
 *         never logs them.
 */
int cxw_token_login_request(const cxw_token_login_t *l, char **body, char **authorization,
                            char *errstr, size_t errstr_size);

/**
 * @brief Reads the string claim of a JWT's payload (header.payload.signature,
 *        base64url with or without padding). The signature is not checked:
 *        the token comes straight from the token endpoint over a verified
 *        TLS connection (OpenID Connect Core 3.1.3.7).
 * @param out receives the claim (NUL-terminated), at most out_size - 1 bytes.
 * @returns 0, or -1 with errstr: not a JWT, payload not base64url or not a
 *          JSON object, claim missing, not a string, empty or too long.
 */
int cxw_jwt_claim_str(const char *jwt, size_t len, const char *claim, char *out,
                      size_t out_size, char *errstr, size_t errstr_size);

/** Longest tenant id kept, with its NUL. */
#define CXW_TENANT_ID_SIZE 129

/** @brief 1 if s is a tenant id the worker uses in a URL: 1-128 of
 *         [A-Za-z0-9._-], else 0. */
int cxw_tenant_id_ok(const char *s);

/**
 * @brief From now on a token answer must carry an id_token whose payload
 *        holds a valid tenantId claim (cxw_token_tenant_id()); an answer
 *        without one is refused (backoff), naming what is wrong. Off by
 *        default: the seed's answers have no id_token.
 */
void cxw_token_require_tenant(cxw_token_t *t, int on);

/** @brief The tenantId of the last accepted answer's id_token, or "". */
const char *cxw_token_tenant_id(const cxw_token_t *t);

/** @brief The lifetime (expires_in) of the current token in ms, 0 without one. */
int64_t cxw_token_lifetime_ms(const cxw_token_t *t);

#endif

/* sim_cxone_auth.c: the cxone profile's way in, as the real platform does it:
 * OIDC discovery (/.well-known/openid-configuration names the token
 * endpoint), the tenant's configuration (/.well-known/cxone-configuration:
 * the API hosts), and POST /auth/token, a password grant with an access
 * key id and secret, the client authenticated by HTTP Basic or in the body,
 * answered with an access token and an id_token (a JWT) carrying tenantId.
 *
 * Loopback tests cannot reach api-{area}.{domain}, so every URL the sim
 * hands out is its own base URL (or --dfo-base-url). */
#include "sim_req.h"

#include "cxone/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* The sim's base URL, or NULL (answered 503) in the moment between the
 * daemon's start and the port being known. */
static const char *base_url(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        if (!atomic_load(&sim->base_ready)) {
                cxw_sim_answer_error(r, 503, "starting");
                return NULL;
        }
        return sim->base_url;
}

void cxw_sim_on_openid_config(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        const char *base = base_url(sim, r);
        char token_ep[sizeof(sim->base_url) + 16];

        if (!base)
                return;
        snprintf(token_ep, sizeof(token_ep), "%s/auth/token", base);
        cxw_sim_answer_json(
            r, 200,
            json_pack("{s:s, s:s, s:[s], s:[s,s], s:[s], s:[s]}", "issuer", base,
                      "token_endpoint", token_ep, "grant_types_supported", "password",
                      "token_endpoint_auth_methods_supported", "client_secret_basic",
                      "client_secret_post", "response_types_supported", "token",
                      "id_token_signing_alg_values_supported", "HS256"));
}

void cxw_sim_on_cxone_config(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        const cxw_sim_opts_t *o = sim->opts;
        const char *tenant = cxw_httpd_query(r->http, "tenantId");
        const char *base;
        json_t *out;

        if (!tenant || strcmp(tenant, o->tenant_id) != 0) {
                cxw_sim_answer_error(r, 404,
                                     tenant ? "unknown tenantId" : "tenantId missing");
                return;
        }
        if (!(base = base_url(sim, r)))
                return;
        out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "tenantId",
                        o->tenant_id, "api_endpoint", base, "area", o->area, "domain",
                        o->domain, "cluster", "C1", "acdDomain", o->domain, "uhDomain",
                        o->domain, "dfo_endpoint",
                        o->dfo_base_url[0] ? o->dfo_base_url : base);
        cxw_sim_answer_json(r, 200, out);
}

/* base64url without padding of in[0..n) into out (at least 4*n/3 + 4). */
static void b64url(const unsigned char *in, size_t n, char *out)
{
        static const char tab[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t o = 0, i;

        for (i = 0; i + 2 < n; i += 3) {
                unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
                out[o++] = tab[v >> 18 & 63];
                out[o++] = tab[v >> 12 & 63];
                out[o++] = tab[v >> 6 & 63];
                out[o++] = tab[v & 63];
        }
        if (n - i == 1) {
                unsigned v = (unsigned)in[i] << 16;
                out[o++] = tab[v >> 18 & 63];
                out[o++] = tab[v >> 12 & 63];
        } else if (n - i == 2) {
                unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
                out[o++] = tab[v >> 18 & 63];
                out[o++] = tab[v >> 12 & 63];
                out[o++] = tab[v >> 6 & 63];
        }
        out[o] = '\0';
}

/* The id_token: header.payload.signature, each base64url, signed with
 * HMAC-SHA256 under the process's random key (nobody can check it; the
 * worker only reads tenantId). @returns a malloc'ed string, or NULL. */
static char *id_token(cxw_sim_t *sim, const char *issuer)
{
        static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
        const cxw_sim_opts_t *o = sim->opts;
        int64_t now = cxw_wall_ms() / 1000;
        char sub[CXW_SIM_CRED_MAX + 8], *payload, *jwt = NULL;
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        size_t plen, hlen, cap;
        json_t *p;

        snprintf(sub, sizeof(sub), "user:%s", o->access_key_id);
        p = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", issuer, "sub", sub, "aud",
                      o->client_id, "tenantId", o->tenant_id, "iat", (json_int_t)now,
                      "exp", (json_int_t)(now + o->token_ttl_s));
        payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
        json_decref(p);
        if (!payload)
                return NULL;
        plen = strlen(payload);
        hlen = sizeof(header) - 1;
        cap = (hlen + plen + EVP_MAX_MD_SIZE) * 4 / 3 + 16;
        jwt = malloc(cap);
        if (!jwt)
                goto out;
        b64url((const unsigned char *)header, hlen, jwt);
        hlen = strlen(jwt);
        jwt[hlen] = '.';
        b64url((const unsigned char *)payload, plen, jwt + hlen + 1);
        plen = strlen(jwt);
        if (!HMAC(EVP_sha256(), sim->jwt_key, (int)sizeof(sim->jwt_key),
                  (const unsigned char *)jwt, plen, mac, &mac_len)) {
                free(jwt);
                jwt = NULL;
                goto out;
        }
        jwt[plen] = '.';
        b64url(mac, mac_len, jwt + plen + 1);
out:
        free(payload);
        return jwt;
}

/* Rejects a token request: counted, answered {"error": code}. */
static void reject(cxw_sim_t *sim, cxw_sim_req_t *r, unsigned status, const char *code,
                   const char *description)
{
        atomic_fetch_add(&sim->token_rejects, 1);
        if (status == 401)
                cxw_sim_set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                   "Basic realm=\"cxone-sim\"");
        cxw_sim_answer_error2(r, status, code, description ? "error_description" : NULL,
                              description);
}

/* The client: HTTP Basic (raw or form-urlencoded) or client_id and
 * client_secret in the body (RFC 6749 2.3.1), never both.
 * @returns true if authenticated; else the answer is set. */
static bool client_ok(cxw_sim_t *sim, cxw_sim_req_t *r, const char *body, size_t len)
{
        char id[CXW_SIM_CRED_MAX + 1], secret[CXW_SIM_CRED_MAX + 1];
        bool id_bad = false, secret_bad = false;
        bool has_id = cxw_sim_form_get(body, len, "client_id", id, sizeof(id), &id_bad);
        bool has_secret = cxw_sim_form_get(body, len, "client_secret", secret,
                                           sizeof(secret), &secret_bad);
        cxw_sim_basic_t basic = cxw_sim_client_basic(sim, r, true);

        if (basic != CXW_SIM_BASIC_ABSENT && (has_id || has_secret)) {
                reject(sim, r, 400, "invalid_request",
                       "more than one client authentication method");
                return false;
        }
        if (basic == CXW_SIM_BASIC_OK)
                return true;
        if (basic == CXW_SIM_BASIC_ABSENT && has_id && has_secret && !id_bad &&
            !secret_bad &&
            (cxw_sim_same_secret(id, strlen(id), sim->opts->client_id) &
             cxw_sim_same_secret(secret, strlen(secret), sim->opts->client_secret)))
                return true;
        reject(sim, r, 401, "invalid_client", NULL);
        return false;
}

/* POST /auth/token: grant_type=password&username=KEY_ID&password=KEY_SECRET. */
void cxw_sim_on_auth_token(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        const cxw_sim_opts_t *o = sim->opts;
        const char *body = r->http->body ? r->http->body : "";
        size_t len = r->http->len;
        char grant[64], user[CXW_SIM_CRED_MAX + 1], pass[CXW_SIM_CRED_MAX + 1];
        char token[128], *jwt;
        bool bad_grant, bad_user = false, bad_pass = false, has_user, has_pass;
        double fail = atomic_load(&sim->token_fail_rate);
        const char *issuer;
        json_t *out;

        if (r->http->too_large) {
                reject(sim, r, 413, "invalid_request", "body larger than 8 KiB");
                return;
        }
        if (fail > 0 && cxw_sim_rand01(sim) < fail) {
                reject(sim, r, 503, "temporarily_unavailable",
                       "simulated token endpoint failure");
                return;
        }
        if (!client_ok(sim, r, body, len))
                return;
        if (!cxw_sim_form_get(body, len, "grant_type", grant, sizeof(grant),
                              &bad_grant)) {
                reject(sim, r, 400, "invalid_request", "grant_type missing");
                return;
        }
        if (bad_grant || strcmp(grant, "password") != 0) {
                reject(sim, r, 400, "unsupported_grant_type", NULL);
                return;
        }
        has_user = cxw_sim_form_get(body, len, "username", user, sizeof(user), &bad_user);
        has_pass = cxw_sim_form_get(body, len, "password", pass, sizeof(pass), &bad_pass);
        if (!has_user || !has_pass || bad_user || bad_pass ||
            !(cxw_sim_same_secret(user, strlen(user), o->access_key_id) &
              cxw_sim_same_secret(pass, strlen(pass), o->access_key_secret))) {
                reject(sim, r, 400, "invalid_grant",
                       "the access key id or secret is wrong");
                return;
        }
        if (!(issuer = base_url(sim, r)))
                return;
        if (cxw_sim_token_issue(sim, token, sizeof(token)) != 0 ||
            !(jwt = id_token(sim, issuer))) {
                cxw_sim_answer_error(r, 500, "cannot issue a token");
                return;
        }
        out = json_pack("{s:s, s:s, s:I, s:s}", "access_token", token, "token_type",
                        "Bearer", "expires_in", (json_int_t)o->token_ttl_s, "id_token",
                        jwt);
        free(jwt);
        atomic_fetch_add(&sim->token_fetches, 1);
        cxw_sim_answer_json(r, 200, out);
}

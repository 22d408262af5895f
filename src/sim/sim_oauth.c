/* sim_oauth.c: cxone-sim's credentials: HTTP Basic client authentication
 * (base64, then RFC 6749 2.3.1 form-urlencoding), the form body of a token
 * request, POST /oauth/token, and the Bearer check of the API handlers. */
#include "sim_req.h"

#include "cxone/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

static int b64val(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Decodes standard base64 (padding optional) into out, NUL-terminated.
 * @returns the decoded length, or -1 if malformed or too long. */
static long b64_decode(const char *in, char *out, size_t size)
{
        size_t n = 0;
        unsigned acc = 0;
        int bits = 0;

        for (; *in && *in != '='; in++) {
                int v = b64val((unsigned char)*in);
                if (v < 0)
                        return -1;
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (n + 1 >= size)
                                return -1;
                        out[n++] = (char)((acc >> bits) & 0xff);
                }
        }
        while (*in == '=')
                in++;
        if (*in)
                return -1;
        out[n] = '\0';
        return (long)n;
}

/* application/x-www-form-urlencoded decoding of in[0..len) into out.
 * @returns the length, or -1 if malformed or longer than size-1. */
static long form_decode(const char *in, size_t len, char *out, size_t size)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                if (c == '+') {
                        c = ' ';
                } else if (c == '%') {
                        int hi, lo;
                        if (i + 2 >= len)
                                return -1;
                        hi = cxw_hexval(in[i + 1]);
                        lo = cxw_hexval(in[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -1;
                        c = (char)(hi * 16 + lo);
                        i += 2;
                }
                if (n + 1 >= size)
                        return -1;
                out[n++] = c;
        }
        out[n] = '\0';
        return (long)n;
}

bool cxw_sim_same_secret(const char *a, size_t alen, const char *b)
{
        size_t blen = strlen(b);

        return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

/* HTTP Basic client authentication (RFC 6749 2.3.1: id and secret are
 * form-urlencoded before base64; raw_too: or sent as they are). */
cxw_sim_basic_t cxw_sim_client_basic(cxw_sim_t *sim, cxw_sim_req_t *r, bool raw_too)
{
        char decoded[6 * CXW_SIM_CRED_MAX + 8];
        char id[CXW_SIM_CRED_MAX + 1], secret[CXW_SIM_CRED_MAX + 1];
        const char *h = cxw_sim_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
        const cxw_sim_opts_t *o = sim->opts;
        long n, idlen, seclen;
        char *colon;

        if (!h || strncasecmp(h, "Basic ", 6) != 0)
                return CXW_SIM_BASIC_ABSENT;
        h += 6;
        while (*h == ' ')
                h++;
        n = b64_decode(h, decoded, sizeof(decoded));
        if (n < 0 || memchr(decoded, '\0', (size_t)n))
                return CXW_SIM_BASIC_WRONG;
        colon = strchr(decoded, ':');
        if (!colon)
                return CXW_SIM_BASIC_WRONG;
        /* Evaluate both, so the time taken does not say which one was wrong. */
        if (raw_too &&
            (cxw_sim_same_secret(decoded, (size_t)(colon - decoded), o->client_id) &
             cxw_sim_same_secret(colon + 1, strlen(colon + 1), o->client_secret)))
                return CXW_SIM_BASIC_OK;
        idlen = form_decode(decoded, (size_t)(colon - decoded), id, sizeof(id));
        seclen = form_decode(colon + 1, strlen(colon + 1), secret, sizeof(secret));
        if (idlen < 0 || seclen < 0)
                return CXW_SIM_BASIC_WRONG;
        return (cxw_sim_same_secret(id, (size_t)idlen, o->client_id) &
                cxw_sim_same_secret(secret, (size_t)seclen, o->client_secret))
                   ? CXW_SIM_BASIC_OK
                   : CXW_SIM_BASIC_WRONG;
}

bool cxw_sim_form_get(const char *body, size_t len, const char *key, char *out,
                      size_t size, bool *malformed)
{
        const char *p = body, *end = body + len;
        char name[64];

        *malformed = false;
        while (p < end) {
                const char *amp = memchr(p, '&', (size_t)(end - p));
                const char *pe = amp ? amp : end;
                const char *eq = memchr(p, '=', (size_t)(pe - p));
                const char *ne = eq ? eq : pe;

                if (form_decode(p, (size_t)(ne - p), name, sizeof(name)) >= 0 &&
                    strcmp(name, key) == 0) {
                        if (!eq ||
                            form_decode(eq + 1, (size_t)(pe - eq - 1), out, size) < 0) {
                                *malformed = !!eq;
                                out[0] = '\0';
                        }
                        return true;
                }
                p = pe + 1;
        }
        return false;
}

void cxw_sim_on_token(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        char grant[64], token[128];
        bool malformed;
        double fail = atomic_load(&sim->token_fail_rate);
        json_t *o;

        if (r->http->too_large) {
                atomic_fetch_add(&sim->token_rejects, 1);
                cxw_sim_answer_error2(r, 413, "invalid_request", "error_description",
                                      "body larger than 8 KiB");
                return;
        }
        if (fail > 0 && cxw_sim_rand01(sim) < fail) {
                atomic_fetch_add(&sim->token_rejects, 1);
                cxw_sim_answer_error2(r, 503, "temporarily_unavailable",
                                      "error_description",
                                      "simulated token endpoint failure");
                return;
        }
        if (cxw_sim_client_basic(sim, r, false) != CXW_SIM_BASIC_OK) {
                atomic_fetch_add(&sim->token_rejects, 1);
                cxw_sim_set_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                   "Basic realm=\"cxone-sim\"");
                cxw_sim_answer_error(r, 401, "invalid_client");
                return;
        }
        if (!cxw_sim_form_get(r->http->body ? r->http->body : "", r->http->len,
                              "grant_type", grant, sizeof(grant), &malformed)) {
                atomic_fetch_add(&sim->token_rejects, 1);
                cxw_sim_answer_error2(r, 400, "invalid_request", "error_description",
                                      "grant_type missing");
                return;
        }
        if (malformed || strcmp(grant, "client_credentials") != 0) {
                atomic_fetch_add(&sim->token_rejects, 1);
                cxw_sim_answer_error(r, 400, "unsupported_grant_type");
                return;
        }
        if (cxw_sim_token_issue(sim, token, sizeof(token)) != 0) {
                cxw_sim_answer_error(r, 500, "cannot issue a token");
                return;
        }
        o = json_pack("{s:s, s:I, s:s}", "access_token", token, "expires_in",
                      (json_int_t)sim->opts->token_ttl_s, "token_type", "Bearer");
        atomic_fetch_add(&sim->token_fetches, 1);
        cxw_sim_answer_json(r, 200, o);
}

bool cxw_sim_bearer_ok(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        const char *h = cxw_sim_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

        if (!h || strncasecmp(h, "Bearer ", 7) != 0)
                return false;
        h += 7;
        while (*h == ' ')
                h++;
        return cxw_sim_token_valid(sim, h);
}

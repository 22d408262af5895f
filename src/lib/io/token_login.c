/* token_login.c: what the token module sends and reads besides the cache
 * (token.c): the login request of either grant with either form of client
 * authentication, and the claims of the id_token that comes back. Pure:
 * no I/O. */
#include "cxone/io/token.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest id_token read, and longest claim value kept. */
#define JWT_MAX_LEN   (16 * 1024)
#define CLAIM_MAX_LEN 1024

static void wipe_free(char *s)
{
        if (s) {
                OPENSSL_cleanse(s, strlen(s));
                free(s);
        }
}

int cxw_token_grant_parse(const char *s, cxw_token_grant_t *out)
{
        if (s && !strcmp(s, "client_credentials"))
                *out = CXW_TOKEN_GRANT_CLIENT_CREDENTIALS;
        else if (s && !strcmp(s, "password"))
                *out = CXW_TOKEN_GRANT_PASSWORD;
        else
                return -1;
        return 0;
}

int cxw_token_client_auth_parse(const char *s, cxw_token_client_auth_t *out)
{
        if (s && !strcmp(s, "basic"))
                *out = CXW_TOKEN_AUTH_BASIC;
        else if (s && !strcmp(s, "post"))
                *out = CXW_TOKEN_AUTH_POST;
        else
                return -1;
        return 0;
}

/* Appends "&name=<form-urlencoded value>" (no '&' when *body is empty). */
static int append_param(char **body, size_t *len, const char *name, const char *value)
{
        char *enc = cxw_form_urlencode(value);
        size_t need, nlen = strlen(name), elen;
        char *grown;

        if (!enc)
                return -1;
        elen = strlen(enc);
        need = *len + 1 + nlen + 1 + elen + 1;
        grown = malloc(need);
        if (!grown) {
                wipe_free(enc);
                return -1;
        }
        /* A copy, not realloc: the old buffer may hold a secret to wipe. */
        snprintf(grown, need, "%s%s%s=%s", *body ? *body : "", *len ? "&" : "", name,
                 enc);
        wipe_free(enc);
        wipe_free(*body);
        *body = grown;
        *len = strlen(grown);
        return 0;
}

int cxw_token_login_request(const cxw_token_login_t *l, char **body, char **authorization,
                            char *errstr, size_t errstr_size)
{
        char *b = NULL, *auth = NULL;
        size_t len = 0;

        *body = NULL;
        *authorization = NULL;
        if (!l->client_id || !*l->client_id) {
                cxw_set_err(errstr, errstr_size, "no client id");
                return -1;
        }
        if (l->grant == CXW_TOKEN_GRANT_PASSWORD &&
            (!l->username || !*l->username || !l->password || !*l->password)) {
                cxw_set_err(errstr, errstr_size,
                            "the password grant needs an access key id and secret");
                return -1;
        }
        if (append_param(&b, &len, "grant_type",
                         l->grant == CXW_TOKEN_GRANT_PASSWORD ? "password"
                                                              : "client_credentials") ||
            (l->grant == CXW_TOKEN_GRANT_PASSWORD &&
             (append_param(&b, &len, "username", l->username) ||
              append_param(&b, &len, "password", l->password))) ||
            (l->scope && *l->scope && append_param(&b, &len, "scope", l->scope)))
                goto oom;
        if (l->client_auth == CXW_TOKEN_AUTH_POST) {
                if (append_param(&b, &len, "client_id", l->client_id) ||
                    append_param(&b, &len, "client_secret",
                                 l->client_secret ? l->client_secret : ""))
                        goto oom;
        } else {
                auth = cxw_token_basic_auth(l->client_id,
                                            l->client_secret ? l->client_secret : "");
                if (!auth)
                        goto oom;
        }
        *body = b;
        *authorization = auth;
        return 0;
oom:
        wipe_free(b);
        wipe_free(auth);
        cxw_set_err(errstr, errstr_size, "out of memory building the token request");
        return -1;
}

/* base64url (RFC 4648 5), with or without '=' padding; the standard
 * alphabet's '+' and '/' are refused. @returns the decoded length, or -1. */
static long b64url_decode(const char *in, size_t len, unsigned char *out, size_t out_size)
{
        unsigned acc = 0;
        int bits = 0;
        size_t n = 0, pad = 0;

        while (len > 0 && in[len - 1] == '=' && pad < 2) {
                len--;
                pad++;
        }
        if (len % 4 == 1 || (pad && (len + pad) % 4 != 0))
                return -1;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)in[i];
                unsigned v;

                if (c >= 'A' && c <= 'Z')
                        v = c - 'A';
                else if (c >= 'a' && c <= 'z')
                        v = c - 'a' + 26;
                else if (c >= '0' && c <= '9')
                        v = c - '0' + 52;
                else if (c == '-')
                        v = 62;
                else if (c == '_')
                        v = 63;
                else
                        return -1;
                acc = (acc << 6) | v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (n >= out_size)
                                return -1;
                        out[n++] = (unsigned char)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        return (long)n;
}

int cxw_jwt_claim_str(const char *jwt, size_t len, const char *claim, char *out,
                      size_t out_size, char *errstr, size_t errstr_size)
{
        const char *dot1, *dot2;
        unsigned char *payload = NULL;
        json_t *root = NULL, *v;
        long plen;
        int rc = -1;

        if (out_size)
                out[0] = '\0';
        if (!jwt || len == 0 || len > JWT_MAX_LEN) {
                cxw_set_err(errstr, errstr_size, "id_token is empty or over %d bytes",
                            JWT_MAX_LEN);
                return -1;
        }
        dot1 = memchr(jwt, '.', len);
        dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
        if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt))) {
                cxw_set_err(errstr, errstr_size,
                            "id_token is not a JWT (header.payload.signature)");
                return -1;
        }
        payload = malloc(len);
        if (!payload) {
                cxw_set_err(errstr, errstr_size, "out of memory");
                return -1;
        }
        plen = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, len);
        if (plen <= 0) {
                cxw_set_err(errstr, errstr_size, "id_token payload is not base64url");
                goto done;
        }
        root =
            json_loadb((const char *)payload, (size_t)plen, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(root)) {
                cxw_set_err(errstr, errstr_size, "id_token payload is not a JSON object");
                goto done;
        }
        v = json_object_get(root, claim);
        if (!v) {
                cxw_set_err(errstr, errstr_size, "id_token has no %s claim", claim);
                goto done;
        }
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > CLAIM_MAX_LEN || json_string_length(v) >= out_size ||
            strlen(json_string_value(v)) != json_string_length(v)) {
                cxw_set_err(errstr, errstr_size,
                            "id_token claim %s is not a string of 1-%zu bytes", claim,
                            out_size - 1 < CLAIM_MAX_LEN ? out_size - 1 : CLAIM_MAX_LEN);
                goto done;
        }
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
        rc = 0;
done:
        json_decref(root);
        OPENSSL_cleanse(payload, len);
        free(payload);
        return rc;
}

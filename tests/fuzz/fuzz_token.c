/* fuzz_token.c: a token endpoint answer through cxw_token_fetch_done().
 * Input: the body; a first byte '!' makes the status 401 instead of 200
 * (the error path that quotes the endpoint's "error" fields).
 *
 * Beyond not crashing: a stored token is the body's access_token, 1..n
 * bytes of printable ASCII without spaces (it goes into a header), usable
 * at once and not due for refresh yet; a refused answer starts the backoff
 * and its message never holds the access token. */
#include "fuzz_common.h"

#include "cxone/io/token.h"

#include <jansson.h>

static void check_stored(cxw_token_t *t, const char *body, size_t len, int64_t now)
{
        uint64_t gen = 0;
        const char *tok = cxw_token_get(t, now, &gen);
        json_t *j = json_loadb(body, len, 0, NULL);

        FUZZ_CHECK(tok && tok[0] && gen == 1);
        for (const char *c = tok; *c; c++)
                FUZZ_CHECK(*c > 0x20 && *c < 0x7f);
        FUZZ_CHECK(strcmp(tok, json_string_value(json_object_get(j, "access_token"))) ==
                   0);
        FUZZ_CHECK(!cxw_token_need_fetch(t, now));
        FUZZ_CHECK(cxw_token_next_fetch_at(t) > now);
        json_decref(j);
        /* a 401 of that generation drops it */
        cxw_token_invalidate(t, gen);
        FUZZ_CHECK(cxw_token_get(t, now, NULL) == NULL && cxw_token_need_fetch(t, now));
}

/* The message never quotes the access token (unless the endpoint also put
 * the same text in a field that is quoted: error, error_description,
 * token_type). */
static void check_secret(const char *body, size_t len, const char *err)
{
        json_t *j = json_loadb(body, len, 0, NULL);
        const char *tok = json_string_value(json_object_get(j, "access_token"));
        static const char *const quoted[] = {"error", "error_description", "token_type"};
        int echoed = 0;

        if (tok && strlen(tok) >= 12) {
                for (size_t i = 0; i < 3; i++) {
                        const char *s = json_string_value(json_object_get(j, quoted[i]));
                        if (s && strstr(s, tok))
                                echoed = 1;
                }
                if (!echoed)
                        FUZZ_CHECK(strstr(err, tok) == NULL);
        }
        json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const int64_t now = 1000000;
        long status = 200;
        cxw_token_t *t = cxw_token_new(60000, 100, 30000);
        char err[512];
        const char *body = (const char *)data;
        int rc;

        FUZZ_CHECK(t != NULL);
        if (size > 0 && data[0] == '!') {
                status = 401;
                body++;
                size--;
        }
        cxw_token_fetch_started(t, now);
        rc = cxw_token_fetch_done(t, status, body, size, now, err, sizeof(err));
        if (rc == 0) {
                FUZZ_CHECK(status == 200);
                FUZZ_CHECK(cxw_token_fetches_ok(t) == 1);
                check_stored(t, body, size, now);
        } else {
                FUZZ_CHECK(rc == -1 && fuzz_errstr_ok(err, sizeof(err)) && err[0]);
                FUZZ_CHECK(cxw_token_fetches_failed(t) == 1);
                FUZZ_CHECK(cxw_token_get(t, now, NULL) == NULL);
                FUZZ_CHECK(!cxw_token_need_fetch(t, now)); /* backoff */
                check_secret(body, size, err);
        }
        cxw_token_destroy(t);
        return 0;
}

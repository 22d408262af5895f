/* fuzz_contacts.c: a contact-update message (and its key) through
 * cxw_contact_decode(). Input: the value, optionally followed by a NUL and
 * the key (no NUL: no key).
 *
 * Beyond not crashing: an accepted update has a valid contactId and a
 * PATCH body that is a JSON object holding exactly the allowed fields of
 * the message that are non-empty strings, with the message's values (a
 * check of the fast path against jansson's reading of the same bytes). */
#include "fuzz_common.h"

#include "cxone/requests/contacts.h"

#include <jansson.h>

static const char *const allowed[] = {"firstName", "lastName", "email", "phone"};
#define NALLOWED (sizeof(allowed) / sizeof(allowed[0]))

static int is_allowed(const char *name)
{
        for (size_t i = 0; i < NALLOWED; i++)
                if (strcmp(name, allowed[i]) == 0)
                        return 1;
        return 0;
}

static void check_body(const cxw_contact_update_t *u, const uint8_t *value, size_t len)
{
        json_t *body, *msg, *v;
        const char *name;

        FUZZ_CHECK(cxw_contact_id_valid(u->contact_id, strlen(u->contact_id)));
        FUZZ_CHECK(u->body && strlen(u->body) == u->body_len);
        FUZZ_CHECK(u->nfields >= 1);
        body = json_loadb(u->body, u->body_len, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_CHECK(json_is_object(body));
        FUZZ_CHECK(json_object_size(body) == u->nfields);
        for (size_t i = 0; i < u->nfields; i++)
                FUZZ_CHECK(json_is_string(json_object_get(body, u->fields[i])));
        msg = json_loadb((const char *)value, len, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_CHECK(json_is_object(msg));
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(msg, "contactId")),
                          u->contact_id) == 0);
        json_object_foreach(body, name, v)
        {
                FUZZ_CHECK(is_allowed(name));
                FUZZ_CHECK(json_equal(v, json_object_get(msg, name)));
        }
        v = json_object_get(body, "email");
        if (v)
                FUZZ_CHECK(cxw_email_valid(json_string_value(v)) &&
                           strlen(json_string_value(v)) == json_string_length(v));
        json_object_foreach(msg, name, v)
        {
                if (is_allowed(name) && json_is_string(v) && json_string_length(v) > 0)
                        FUZZ_CHECK(json_object_get(body, name) != NULL);
        }
        json_decref(msg);
        json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cxw_contact_update_t u = {0};
        char err[512];
        const uint8_t *key;
        size_t vlen, keylen;
        int has_key = fuzz_split(data, size, 0, &vlen, &key, &keylen);
        /* a bound within reach of the fuzzer's lengths, so both sides run */
        size_t max_bytes = 2048;

        if (cxw_contact_decode(data, vlen, has_key ? key : NULL, keylen, allowed,
                               NALLOWED, max_bytes, &u, err, sizeof(err)) == 0) {
                FUZZ_CHECK(vlen <= max_bytes);
                check_body(&u, data, vlen);
                FUZZ_CHECK(cxw_contact_update_bytes(&u) > 0);
                /* the path of a valid id always has it in place */
                char *path = cxw_contact_path("/contacts/{contactId}", u.contact_id);
                FUZZ_CHECK(path && strstr(path, u.contact_id));
                free(path);
        } else {
                FUZZ_CHECK(fuzz_errstr_ok(err, sizeof(err)) && err[0]);
        }
        cxw_contact_update_clear(&u);
        cxw_contact_update_clear(&u); /* reusable, and clear twice is fine */
        return 0;
}

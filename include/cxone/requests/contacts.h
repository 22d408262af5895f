/**
 * @file contacts.h
 * @brief Contact-update requests: decode and validate a Kafka message,
 *        build the CXone call (path and PATCH body).
 *
 * Message (docs/messages.md): key = contactId, value =
 * {"contactId":"…","firstName":"…","lastName":"…","email":"…"}.
 * The body is the object without contactId, empty strings left out.
 */
#ifndef CXONE_CONTACTS_H
#define CXONE_CONTACTS_H

#include <stddef.h>

#define CXW_CONTACT_ID_MAX    128
#define CXW_CONTACT_VALUE_MAX 4096 /**< longest field value accepted */

typedef struct cxw_contact_update_s {
        char contact_id[CXW_CONTACT_ID_MAX + 1];
        char *body;          /**< the PATCH body (compact JSON), malloc'd */
        size_t body_len;     /**< strlen(body) */
        size_t body_cap;     /**< bytes allocated for body */
        const char **fields; /**< names of the fields in body: the array is
                                  malloc'd, the names are allowed[]'s own */
        size_t nfields;
        size_t fields_cap; /**< entries allocated in fields */
} cxw_contact_update_t;

/**
 * @brief Decodes and validates one contact update.
 *
 * Rejected, with a message naming the problem: value over max_bytes, not
 * JSON or not an object, contactId missing / not a string / empty / over
 * 128 chars / outside [A-Za-z0-9._-], a key present and different from
 * contactId, fields not in allowed (all of them named at once), a value
 * that is not a string (null is taken as "leave out") or longer than
 * CXW_CONTACT_VALUE_MAX, an "email" that is not addr-spec-like
 * (local@domain.tld, no spaces), and an update with no field left to change.
 *
 * @param key the message key, or NULL; keylen its length.
 * @param allowed the field names accepted; out->fields points into it, so
 *        it must outlive out.
 * @param out filled on success; clear with cxw_contact_update_clear(). On
 *        failure nothing is allocated, and out->contact_id holds the id when
 *        it could be read, for the outcome: the message's contactId when it
 *        is valid (even if something else is not), else the key when it is a
 *        valid id, else "".
 * @returns 0, or -1 with errstr set.
 */
int cxw_contact_decode(const void *value, size_t len, const void *key, size_t keylen,
                       const char *const *allowed, size_t nallowed, size_t max_bytes,
                       cxw_contact_update_t *out, char *errstr, size_t errstr_size);

/** @brief The heap the update holds (body and field array, memcost.h), for
 *         the buffer limit; 0 for a cleared one. */
size_t cxw_contact_update_bytes(const cxw_contact_update_t *u);

/** @brief Frees what decode allocated; the struct may be reused. NULL-safe. */
void cxw_contact_update_clear(cxw_contact_update_t *u);

/** @brief 1 if id (len bytes) is a valid contactId: 1..128 of [A-Za-z0-9._-],
 *         not only dots (".", ".." are dot segments of a URL path). */
int cxw_contact_id_valid(const char *id, size_t len);

/** @brief 1 if s looks like an e-mail address (local@domain.tld, printable, no spaces).
 */
int cxw_email_valid(const char *s);

/**
 * @brief The request path: tmpl with "{contactId}" replaced by id (which is
 *        URL-safe by validation).
 * @returns a malloc'd string, or NULL if tmpl has no "{contactId}".
 */
char *cxw_contact_path(const char *tmpl, const char *id);

#endif

/**
 * @file target.h
 * @brief Where a contact update goes: one request template per target
 *        (method, the base it goes to, path template, body builder), so
 *        that a profile is configuration and never a second code path.
 *
 * Targets (cxone.contacts.target):
 * - `seed`: cxone.contacts.method to cxone.contacts.path below the API
 *   base; the body is the decoded update's JSON object as it is.
 * - `dfo-custom-fields`: `PUT /dfo/3.0/customers/{contactId}/custom-fields`
 *   below the DFO base; the body is `[{"ident":"...","value":"..."}, ...]`,
 *   the fields mapped to idents (cxone.contacts.idents), each value at most
 *   CXW_DFO_VALUE_MAX characters.
 * - `address-book`: `PUT {admin prefix}/address-books/{addressBookId}/
 *   dynamic-entries?fullLoad=false` below the API base (addressbook.h), many
 *   updates per request: the body stays the update's JSON object, and the
 *   worker builds each batch's entries from it (cxw_ab_body()).
 *
 * @locality any thread; a target is read-only once made.
 */
#ifndef CXONE_TARGET_H
#define CXONE_TARGET_H

#include <stddef.h>

#include "cxone/requests/contacts.h"

#define CXW_DFO_VALUE_MAX 1024 /**< characters (not bytes) of one custom field */

/** The base URL a target's path goes below. */
typedef enum {
        CXW_TARGET_BASE_API = 0, /**< cxone.base_url or the discovered api_endpoint,
                                      plus cxone.admin_prefix */
        CXW_TARGET_BASE_DFO,     /**< cxone.dfo_base_url or the discovered DFO host */
} cxw_target_base_t;

typedef struct cxw_contact_target_s cxw_contact_target_t;

/**
 * @brief Makes the template of target name.
 * @param name "seed", "dfo-custom-fields" or "address-book".
 * @param seed_method, seed_path the seed target's method and path (with
 *        "{contactId}"); not used by the others.
 * @param idents the ident map, each "field=ident"; nidents 0 = a field's
 *        ident is its own name.
 * @returns the target, or NULL with errstr (unknown name, a bad map item,
 *          out of memory).
 * @remark free with cxw_contact_target_destroy(). The strings are copied.
 */
cxw_contact_target_t *cxw_contact_target_new(const char *name, const char *seed_method,
                                             const char *seed_path,
                                             const char *const *idents, size_t nidents,
                                             char *errstr, size_t errstr_size);

/** @brief Frees a target; NULL-safe. */
void cxw_contact_target_destroy(cxw_contact_target_t *t);

/** @brief The target's name, as configured. */
const char *cxw_contact_target_name(const cxw_contact_target_t *t);

/** @brief The HTTP method of its call. */
const char *cxw_contact_target_method(const cxw_contact_target_t *t);

/** @brief The base its path goes below. */
cxw_target_base_t cxw_contact_target_base(const cxw_contact_target_t *t);

/** @brief 1 when updates go many per request (address-book): the path
 *  names the book, not the contact, and the worker batches them. */
int cxw_contact_target_batched(const cxw_contact_target_t *t);

/** @brief The path of the call for contact id (valid by decode).
 *  @returns a malloc'd string, or NULL (out of memory). */
char *cxw_contact_target_path(const cxw_contact_target_t *t, const char *id);

/**
 * @brief Turns a decoded update's body into the target's body, in place
 *        (upd->body, body_len, body_cap). The seed target keeps it.
 * @returns 0, or -1 with errstr when the update cannot go to this target:
 *          a field with no ident while a map is configured (named), a value
 *          over CXW_DFO_VALUE_MAX characters (named, with its length); upd
 *          is unchanged then. Nothing is sent: the caller rejects it.
 */
int cxw_contact_target_body(const cxw_contact_target_t *t, cxw_contact_update_t *upd,
                            char *errstr, size_t errstr_size);

#endif

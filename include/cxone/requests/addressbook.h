/**
 * @file addressbook.h
 * @brief The address-book target's request: the path of CXone's dynamic
 *        entries upsert, the body of one batch of contact updates, the map
 *        from message fields to entry fields, and an entry's outcome from
 *        its batch result (bisect.h).
 *
 * `PUT {api_endpoint}{admin
 * prefix}/address-books/{addressBookId}/dynamic-entries?fullLoad=false` with
 * `{"addressBookEntries":[{"externalId":"<contactId>","firstName":...},...]}`.
 * fullLoad=false upserts the entries given and leaves the rest of the book
 * alone; this module never writes fullLoad=true (that would delete every
 * entry not in the batch).
 *
 * Pure: no I/O, no globals. The worker's src/worker/batches.c uses it for
 * the address-book target.
 */
#ifndef CXONE_ADDRESSBOOK_H
#define CXONE_ADDRESSBOOK_H

#include <stddef.h>

#include "cxone/flow/bisect.h"
#include "cxone/requests/outcome.h"

#define CXW_AB_PREFIX_DEFAULT "/inContactAPI/services/v30.0"
#define CXW_AB_PREFIX_MAX     256  /**< longest admin prefix accepted */
#define CXW_AB_BOOK_ID_MAX    64   /**< longest addressBookId accepted */
#define CXW_AB_NAME_MAX       64   /**< longest field name, message or entry side */
#define CXW_AB_FIELDS_MAX     32   /**< most pairs in a map */
#define CXW_AB_ENTRIES_MAX    1000 /**< most entries in one body */

/** One pair of the map: message field from → entry field to. */
typedef struct cxw_ab_pair_s {
        char from[CXW_AB_NAME_MAX + 1];
        char to[CXW_AB_NAME_MAX + 1];
} cxw_ab_pair_t;

/** The map from message fields to entry fields. Fixed size, no heap. */
typedef struct cxw_ab_map_s {
        cxw_ab_pair_t pairs[CXW_AB_FIELDS_MAX];
        size_t n;
} cxw_ab_map_t;

/** One field of a message: name and value (NUL-terminated, borrowed). */
typedef struct cxw_ab_field_s {
        const char *name;
        const char *value; /**< NULL or "" = left out of the entry */
} cxw_ab_field_t;

/** One entry of a batch: the message's contactId and its other fields. */
typedef struct cxw_ab_entry_s {
        const char *contact_id;
        const cxw_ab_field_t *fields;
        size_t nfields;
} cxw_ab_entry_t;

/**
 * @brief The default map: contactId → externalId, and firstName, lastName,
 *        email, phone, mobile under their own names.
 */
void cxw_ab_map_default(cxw_ab_map_t *m);

/**
 * @brief Parses a map from a config list: each item "from=to", or "name"
 *        for the same name on both sides.
 *
 * Rejected, naming the item: a name empty, over CXW_AB_NAME_MAX or outside
 * [A-Za-z0-9_]; more than CXW_AB_FIELDS_MAX items; a message field or an
 * entry field given twice; externalId filled from anything but contactId;
 * contactId sent under any other name; and a map without
 * contactId=externalId (the entry's identity is the message key, which is
 * what keeps per-contact order).
 * @returns 0, or -1 with errstr set (m is then cleared).
 */
int cxw_ab_map_parse(const char *const *items, size_t nitems, cxw_ab_map_t *m,
                     char *errstr, size_t errstr_size);

/**
 * @brief The message fields the map sends (its from names other than
 *        contactId), in map order: the decoder's list of allowed fields.
 * @param names receives up to cap pointers into m.
 * @returns how many there are (may exceed cap).
 */
size_t cxw_ab_map_fields(const cxw_ab_map_t *m, const char **names, size_t cap);

/**
 * @brief The request path: prefix (NULL = CXW_AB_PREFIX_DEFAULT) +
 *        "/address-books/" + book_id + "/dynamic-entries?fullLoad=false".
 *
 * prefix: empty, or "/" followed by up to CXW_AB_PREFIX_MAX characters of
 * [A-Za-z0-9._~/-], not ending in "/", without "//" or a "." / ".."
 * segment. book_id: 1..CXW_AB_BOOK_ID_MAX characters of [A-Za-z0-9_-].
 * @returns a malloc'd string, or NULL with errstr set.
 */
char *cxw_ab_path(const char *prefix, const char *book_id, char *errstr,
                  size_t errstr_size);

/**
 * @brief The body of one batch: {"addressBookEntries":[...]}, one object per
 *        entry in the order given: "externalId" (the contactId) first, then
 *        the mapped fields in map order, each only when the entry has it
 *        with a non-empty value.
 *
 * Refused, naming the entry (by index and contactId) and the field: no
 * entries or more than CXW_AB_ENTRIES_MAX; a contactId that is not valid
 * (contacts.h); a field the map does not send, or given twice in an entry;
 * a value over CXW_CONTACT_VALUE_MAX bytes; and a body over max_bytes.
 * Values are escaped by the JSON writer (jsonw.h).
 * @param bad set to the index of the entry at fault on failure, or to
 *        (size_t)-1 when the batch as a whole is (count, max_bytes, memory);
 *        may be NULL.
 * @param len set to the body's length on success; may be NULL.
 * @returns the body, malloc'd, or NULL with errstr set.
 */
char *cxw_ab_body(const cxw_ab_map_t *m, const cxw_ab_entry_t *entries, size_t n,
                  size_t max_bytes, size_t *len, size_t *bad, char *errstr,
                  size_t errstr_size);

/**
 * @brief One message's outcome fields from its entry's batch result:
 *        status (ok → succeeded, rejected, failed), httpStatus, attempts,
 *        latencyMs and error (borrowed from the batch's history: o is valid
 *        while the batch state is). The rest of o is the caller's.
 * @returns 0, or -1 when r's verdict is not final (o untouched).
 */
int cxw_ab_outcome(const cxw_batch_result_t *r, cxw_outcome_t *o);

#endif

/* config_int.h: what the parts of the config module share, private to
 * src/lib/base/config*.c:
 *   config_table.c  the property table and the accessors of its fields
 *   config.c        loading: problems, the environment, derived values and
 *                   the secret files, the public API
 *   config_store.c  storing values: their text form and the file's settings
 *   config_check.c  the checks of the loaded values
 *   config_print.c  the reference, the dump, the env list and the warnings */
#ifndef CXONE_BASE_CONFIG_INT_H
#define CXONE_BASE_CONFIG_INT_H

#include "cxone/base/config.h"

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

/* Every input from outside has a bound. */
#define MAX_FILE_BYTES   (1024 * 1024) /* the config file */
#define MAX_STR_BYTES    4096          /* any string value */
#define MAX_LIST_ITEMS   256           /* any list */
#define MAX_SECRET_BYTES 4096          /* the client secret file */
#define MAX_ERRORS       100           /* problems listed; then one "more" line */
#define MAX_PATH_CHARS   256           /* a dotted key in the file */

typedef enum {
        PT_STR,
        PT_INT,
        PT_INT64,
        PT_DBL,
        PT_BOOL,
        PT_LIST,
} ptype_t;

/* Checks on a value. Those marked (worker) concern the CXone side and run
 * only for CXW_CONFIG_FOR_WORKER: cxonectl talks to Kafka only. */
enum {
        PF_NONEMPTY = 1 << 0,  /* string or list must not be empty */
        PF_TOPIC = 1 << 1,     /* a Kafka topic name */
        PF_PROPS = 1 << 2,     /* list of "name=value" */
        PF_LOGLEVEL = 1 << 3,  /* error|warn|info|debug */
        PF_LISTEN = 1 << 4,    /* "" or HOST:PORT */
        PF_URL = 1 << 5,       /* (worker) http(s) URL with a host */
        PF_REQUIRED = 1 << 6,  /* (worker) must be set */
        PF_METHOD = 1 << 7,    /* (worker) PATCH|PUT|POST */
        PF_CONTACTID = 1 << 8, /* (worker) contains "{contactId}" */
        PF_IDENTS = 1 << 9,    /* (worker) non-empty list of identifiers */
        PF_SECRET = 1 << 10,   /* never shown anywhere */
        PF_FILE = 1 << 11,     /* path of a file holding the secret */
        PF_DERIVED = 1 << 12,  /* "" means: computed after loading */
        PF_VALUES = 1 << 13,   /* (worker) non-empty list of API values */
        PF_ASSIGN = 1 << 14,   /* cooperative-sticky|eager */
        PF_CHOICE = 1 << 15,   /* one of the words of its row in cfg_choices */
        PF_EMPTYOK = 1 << 16,  /* a checked value may also be "" (off / discovered) */
        PF_IDENTMAP = 1 << 17, /* (worker) list of "field=ident" */
        PF_CAFILE = 1 << 18,   /* (worker) "" or a readable file */
        PF_TENANT = 1 << 19,   /* (worker) "" or 1-128 of [A-Za-z0-9._-] */
        PF_PREFIX = 1 << 20,   /* (worker) "" or a path starting with '/' */
        PF_JSONKEY = 1 << 21,  /* (worker) 1-64 printable ASCII characters */
};

/* The words a PF_CHOICE key may hold (config_table.c). */
typedef struct choice_s {
        const char *path;
        const char *const words[4]; /* NULL-terminated */
} choice_t;
extern const choice_t cfg_choices[];
extern const size_t cfg_nchoices;

/* What a profile (cxone.profile) changes: the default of path becomes value
 * unless the file or the environment sets the key (config_table.c). */
typedef struct preset_s {
        const char *profile;
        const char *path;
        const char *value; /* in the env syntax */
} preset_t;
extern const preset_t cfg_presets[];
extern const size_t cfg_npresets;

typedef struct prop_s {
        const char *path; /* dotted: group.key */
        ptype_t type;
        size_t off;      /* offsetof into cxw_config_t */
        const char *def; /* default, in the env syntax; lists comma-separated */
        double min, max; /* numbers only */
        const char *env; /* override, or NULL */
        int flags;
        const char *doc_def; /* shown instead of def in the reference, or NULL */
        const char *desc;
} prop_t;

/* The table (config_table.c). The order is the order of the reference, the
 * dump and the example config/cxone-worker.conf. */
extern const prop_t cfg_props[];
extern const size_t cfg_nprops;

typedef enum { FROM_DEFAULT, FROM_FILE, FROM_ENV, FROM_DERIVED } from_t;

/* Where a value came from, to say so in a problem. file points into the
 * libconfig object (ctx->lc), which lives until the end of cxw_config_load(). */
typedef struct origin_s {
        from_t from;
        const char *file;
        int line;
        const char *env;
} origin_t;

typedef struct ctx_s {
        cxw_config_t *cfg;
        cxw_config_errors_t *errs;
        cxw_config_purpose_t purpose;
        const char *path;
        config_t lc; /* the file read, kept for the file names in orig */
        bool lc_live;
        size_t dropped; /* problems beyond MAX_ERRORS */
        bool oom;
        origin_t orig[]; /* one per row of cfg_props */
} ctx_t;

/* ---- config_table.c ---------------------------------------------------- */

void *cfg_field(cxw_config_t *cfg, const prop_t *p);
const void *cfg_cfield(const cxw_config_t *cfg, const prop_t *p);
const prop_t *cfg_find_prop(const char *path);
/* The words of a PF_CHOICE key, or NULL. */
const char *const *cfg_choice_words(const prop_t *p);

/* ---- config.c: problems ------------------------------------------------ */

void cfg_add_err(ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A problem with a value: "file:line: key: msg", "ENV (key): msg" or
 * "key: msg", depending on where the value came from. */
void cfg_prop_err(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Does a librdkafka property name say it holds a secret? */
bool cfg_kafka_prop_secret(const char *name);

/* ---- config_store.c ---------------------------------------------------- */

/* Wiped: a librdkafka property may hold a password. */
void cfg_strlist_free(cxw_strlist_t *l);
int cfg_set_str(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v);
/* A value in the text form of the environment and of the table defaults. */
int cfg_set_text(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v);
/* Reads path into the config. @returns 0, or -1 when the file could not be
 * read or parsed (the problem is recorded). */
int cfg_load_file(ctx_t *ctx, const char *path);

/* ---- config_check.c ---------------------------------------------------- */

/* An http(s) URL with a host, no credentials, no spaces. */
bool cfg_url_ok(const char *u);
/* http:// to a host that is not loopback: secrets in clear text. */
bool cfg_url_cleartext_remote(const char *u);
/* Checks every value and the rules between them; records the problems. */
void cfg_validate(ctx_t *ctx);

#endif

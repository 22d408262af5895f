/**
 * @file sim_jobs_int.h
 * @brief Inside cxone-sim's schedule-import jobs: a job, its parsed entries
 *        and the schedule index they are imported into. Shared by
 *        sim_jobs.c (the store, its timer and what a poll shows),
 *        sim_job_request.c (reading an import request into a job) and
 *        sim_schedule_index.c (the imported shifts and their conflicts).
 */
#ifndef CXONE_SIM_JOBS_INT_H
#define CXONE_SIM_JOBS_INT_H

#include "sim.h"

#define CXW_SIM_JOB_ID_LEN 36 /**< "job-" + 32 hex */

typedef enum { ST_RUNNING = 0, ST_COMPLETED, ST_FAILED } cxw_sim_job_status_t;
typedef enum {
        RES_FAIL = 0,
        RES_OVERWRITE,
        RES_SKIP,
        RES_AUTO,
        RES__CNT
} cxw_sim_job_resolution_t;

/** "IN_PROGRESS", "COMPLETED", "FAILED", by cxw_sim_job_status_t. */
extern const char *const cxw_sim_job_status_names[];
/** "FAIL", "OVERWRITE", "SKIP", "AUTO_RESOLVE", by cxw_sim_job_resolution_t. */
extern const char *const cxw_sim_job_resolution_names[];

struct cxw_sim_job;

/** One imported shift, remembering the job that imported it. */
typedef struct cxw_sim_shift {
        int64_t start_ms, end_ms;
        struct cxw_sim_job *owner;
} cxw_sim_shift_t;

/** One agent's shifts in one calendar (value of the agents map). */
typedef struct cxw_sim_agent {
        cxw_sim_shift_t *v;
        size_t len, cap;
} cxw_sim_agent_t;

/** One parsed schedule entry of a job. */
typedef struct cxw_sim_job_entry {
        char *key; /**< calendar '\0' agent */
        size_t klen;
        int64_t start_ms, end_ms;
} cxw_sim_job_entry_t;

/** One import job. */
typedef struct cxw_sim_job {
        char id[CXW_SIM_JOB_ID_LEN + 1];
        uint64_t seq;                    /* creation order; breaks due-time ties */
        struct cxw_sim_job *prev, *next; /* creation order list */
        cxw_sim_job_status_t status;
        cxw_sim_job_resolution_t resolution;
        bool will_fail;        /* --job-fail-rate drew this one */
        char *calendar;        /* NULL if the request had none */
        char *validation_mode; /* NULL if absent */
        char *idem_key;        /* NULL if absent */
        int64_t created_wall_ms;
        int64_t duration_ms;
        int64_t due_ms;               /* cxw_now_ms clock */
        size_t n_request_entries;     /* scheduleEntries in the request */
        cxw_sim_job_entry_t *entries; /* parsed; NULL when invalid */
        size_t n_entries;
        size_t imported;
        bool bad;      /* the request is invalid: the job will fail */
        char *invalid; /* why (NULL if out of memory) */
        const char *err_code;
        char *err_msg;
} cxw_sim_job_t;

/* ---- reading a request (sim_job_request.c) ---- */

/** @brief Frees a job and what it owns. @remark NULL-safe. */
void cxw_sim_job_free(cxw_sim_job_t *jb);

/**
 * @brief Reads an import request into jb: its mode, resolution, calendar and
 *        parsed entries. Problems with the request set jb->bad and
 *        jb->invalid (the job fails later with VALIDATION_ERROR, as a real
 *        asynchronous import reports them).
 * @returns 0, or -1 when out of memory. @remark body is only read.
 */
int cxw_sim_job_parse(cxw_sim_job_t *jb, json_t *body);

/* ---- the schedule index (sim_schedule_index.c) ---- */

/** @brief Frees one value of the agents map (a cxw_sim_agent_t). NULL-safe. */
void cxw_sim_index_agent_free(void *p);

/**
 * @brief Imports jb's entries into agents by its conflict resolution; under
 *        FAIL a conflict imports nothing and is described in conflict
 *        ("" when none). Sets jb->imported.
 * @returns 0, or -1 when out of memory (nothing of jb stays imported).
 */
int cxw_sim_index_import(cxw_sim_map_t *agents, cxw_sim_job_t *jb, char *conflict,
                         size_t size);

/** @brief Removes every shift jb imported. */
void cxw_sim_index_forget(cxw_sim_map_t *agents, const cxw_sim_job_t *jb);

#endif

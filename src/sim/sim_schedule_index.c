/* sim_schedule_index.c: the schedule the simulator holds, built from
 * finished imports: "calendar\0agent" → that agent's shifts in that
 * calendar, each remembering the job that imported it. A later import with
 * an overlapping shift of the same agent in the same calendar fails
 * (conflictResolution FAIL), replaces the old shifts (OVERWRITE, and
 * AUTO_RESOLVE: the simulator resolves a conflict in favour of the newer
 * import) or leaves its own conflicting entries out (SKIP). The caller
 * (sim_jobs.c) holds the job store's lock. */
#include "sim_jobs_int.h"

#include "cxone/base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cxw_sim_index_agent_free(void *p)
{
        cxw_sim_agent_t *a = p;

        if (!a)
                return;
        free(a->v);
        free(a);
}

static int agent_add(cxw_sim_map_t *agents, const cxw_sim_job_entry_t *e,
                     cxw_sim_job_t *owner)
{
        cxw_sim_agent_t *a = cxw_sim_map_get(agents, e->key, e->klen);

        if (!a) {
                a = calloc(1, sizeof(*a));
                if (!a || cxw_sim_map_put(agents, e->key, e->klen, a) != 0) {
                        free(a);
                        return -1;
                }
        }
        if (a->len == a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 4;
                cxw_sim_shift_t *v = realloc(a->v, cap * sizeof(*v));
                if (!v)
                        return -1;
                a->v = v;
                a->cap = cap;
        }
        a->v[a->len].start_ms = e->start_ms;
        a->v[a->len].end_ms = e->end_ms;
        a->v[a->len].owner = owner;
        a->len++;
        return 0;
}

static bool overlaps(const cxw_sim_shift_t *s, const cxw_sim_job_entry_t *e)
{
        return s->start_ms < e->end_ms && e->start_ms < s->end_ms;
}

/* Removes from e's agent the shifts of owner (any, if overlapping_only is
 * false) or the shifts of other jobs overlapping e (if it is true). Frees the
 * agent when it has none left. */
static void agent_remove(cxw_sim_map_t *agents, const cxw_sim_job_entry_t *e,
                         const cxw_sim_job_t *owner, bool overlapping_only)
{
        cxw_sim_agent_t *a = cxw_sim_map_get(agents, e->key, e->klen);
        size_t keep = 0;

        if (!a)
                return;
        for (size_t i = 0; i < a->len; i++) {
                bool drop = overlapping_only
                                ? a->v[i].owner != owner && overlaps(&a->v[i], e)
                                : a->v[i].owner == owner;
                if (!drop)
                        a->v[keep++] = a->v[i];
        }
        a->len = keep;
        if (a->len == 0)
                cxw_sim_index_agent_free(cxw_sim_map_remove(agents, e->key, e->klen));
}

/* The first shift of another job that e overlaps, or NULL. */
static const cxw_sim_shift_t *conflict_of(cxw_sim_map_t *agents,
                                          const cxw_sim_job_entry_t *e,
                                          const cxw_sim_job_t *self)
{
        cxw_sim_agent_t *a = cxw_sim_map_get(agents, e->key, e->klen);

        for (size_t i = 0; a && i < a->len; i++) {
                if (a->v[i].owner != self && overlaps(&a->v[i], e))
                        return &a->v[i];
        }
        return NULL;
}

/* Imports jb's shifts by its conflict resolution.
 * @returns 0, or -1 when out of memory (nothing of jb stays imported). */
int cxw_sim_index_import(cxw_sim_map_t *agents, cxw_sim_job_t *jb, char *conflict,
                         size_t size)
{
        conflict[0] = '\0';
        if (jb->resolution == RES_FAIL) {
                for (size_t i = 0; i < jb->n_entries; i++) {
                        const cxw_sim_job_entry_t *e = &jb->entries[i];
                        const cxw_sim_shift_t *s = conflict_of(agents, e, jb);
                        char a[40], b[40], c[40], d[40];
                        if (!s)
                                continue;
                        snprintf(
                            conflict, size,
                            "scheduleEntries[%zu]: agent %s: shift %s to %s overlaps "
                            "shift %s to %s imported by %s into calendar %s",
                            i, e->key + strlen(e->key) + 1,
                            cxw_rfc3339(e->start_ms, a, sizeof(a)),
                            cxw_rfc3339(e->end_ms, b, sizeof(b)),
                            cxw_rfc3339(s->start_ms, c, sizeof(c)),
                            cxw_rfc3339(s->end_ms, d, sizeof(d)), s->owner->id,
                            jb->calendar);
                        return 0;
                }
        }
        jb->imported = 0;
        for (size_t i = 0; i < jb->n_entries; i++) {
                const cxw_sim_job_entry_t *e = &jb->entries[i];
                if (jb->resolution == RES_SKIP && conflict_of(agents, e, jb))
                        continue;
                if (jb->resolution == RES_OVERWRITE || jb->resolution == RES_AUTO)
                        agent_remove(agents, e, jb, true);
                if (agent_add(agents, e, jb) != 0)
                        goto oom;
                jb->imported++;
        }
        return 0;
oom:
        for (size_t i = 0; i < jb->n_entries; i++)
                agent_remove(agents, &jb->entries[i], jb, false);
        jb->imported = 0;
        return -1;
}

void cxw_sim_index_forget(cxw_sim_map_t *agents, const cxw_sim_job_t *jb)
{
        for (size_t i = 0; i < jb->n_entries; i++)
                agent_remove(agents, &jb->entries[i], jb, false);
}

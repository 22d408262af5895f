/* schedules_validate.c: the checks of a schedule import's members: the top
 * object, each entry (agent, times, shift length, breaks, availability
 * overrides) and the overlaps of breaks and of one agent's shifts. Every
 * problem is recorded; decoding (schedules.c) joins them. */
#include "schedules_int.h"
#include "cxone/base/heap.h"
#include "cxone/base/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_SIZE (CXW_SCHED_ID_MAX + 64)

static const char *const override_types[] = {"UNAVAILABLE", "AVAILABLE", "PARTIAL"};

/* The members of each object of the message. */
static const char *const top_members[] = {"targetCalendarId", "validationMode",
                                          "conflictResolution", "requiredCapacityMinutes",
                                          "scheduleEntries"};
static const char *const entry_members[] = {"agentId", "startDateTime", "endDateTime",
                                            "breaks", "availabilityOverrides"};
static const char *const break_members[] = {"startOffsetMinutes", "durationMinutes"};
static const char *const override_members[] = {"type", "reason", "start", "end"};

/* An interval for the overlap sweep. */
struct iv {
        int64_t s, e;
        long idx;
        const char *agent; /* shifts: the agent; breaks: NULL */
};

/* ---- problems and members -------------------------------------------- */

void sched_problem(cxw_schedule_problems_t *p, long entry, long other, const char *fmt,
                   ...)
{
        va_list ap;

        p->total++;
        if (p->n >= CXW_SCHED_PROBLEMS_MAX)
                return;
        cxw_schedule_problem_t *it = &p->items[p->n++];
        it->entry = entry;
        it->other = other;
        va_start(ap, fmt);
        vsnprintf(it->text, sizeof(it->text), fmt, ap);
        va_end(ap);
}

static const char *echo_json(const json_t *s, char *out)
{
        return cxw_echo(json_string_value(s), json_string_length(s), out);
}

static int id_valid(const json_t *v)
{
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);

        if (!s || len < 1 || len > CXW_SCHED_ID_MAX)
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return 0;
        }
        return 1;
}

static void list_of(const char *const *names, size_t n, char *buf, size_t size)
{
        size_t off = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n && off < size; i++) {
                int k = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[i]);
                if (k < 0)
                        break;
                off += (size_t)k;
        }
}

/* The index of the JSON string v in names, or -1. */
static int lookup(const json_t *v, const char *const *names, size_t n)
{
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);

        for (size_t i = 0; s && i < n; i++)
                if (names[i] && strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
                        return (int)i;
        return -1;
}

/* A member that may be absent: NULL when absent or null. */
static json_t *get_opt(const json_t *obj, const char *name)
{
        json_t *v = json_object_get(obj, name);
        return json_is_null(v) ? NULL : v;
}

static void check_members(cxw_schedule_problems_t *p, long entry, const char *where,
                          const json_t *obj, const char *const *allowed, size_t nallowed)
{
        char ebuf[CXW_ECHO_SIZE], list[200];
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)obj, key, v)
        {
                size_t i;
                for (i = 0; i < nallowed; i++)
                        if (strcmp(allowed[i], key) == 0)
                                break;
                if (i < nallowed)
                        continue;
                list_of(allowed, nallowed, list, sizeof(list));
                sched_problem(p, entry, -1, "%sunknown member '%s' (allowed: %s)", where,
                              cxw_echo(key, strlen(key), ebuf), list);
        }
}

/* Checks a required enum member; stores its index in *which (or -1). */
static void check_enum(cxw_schedule_problems_t *p, long entry, const char *where,
                       const json_t *obj, const char *name, const char *const *names,
                       size_t n, int *which)
{
        char ebuf[CXW_ECHO_SIZE], list[200];
        json_t *v = json_object_get(obj, name);

        *which = -1;
        if (!v) {
                sched_problem(p, entry, -1, "%s%s is missing", where, name);
                return;
        }
        if (!json_is_string(v)) {
                sched_problem(p, entry, -1, "%s%s must be a string", where, name);
                return;
        }
        *which = lookup(v, names, n);
        if (*which < 0) {
                list_of(names, n, list, sizeof(list));
                sched_problem(p, entry, -1, "%s%s '%s' is not one of %s", where, name,
                              echo_json(v, ebuf), list);
        }
}

/* Reads a date-time member. required: absent is a problem. Returns 1 when
 * parsed into *ms, 0 when absent (and not required), -1 on a problem. */
static int get_time(cxw_schedule_problems_t *p, long entry, const char *where,
                    const json_t *obj, const char *name, int required, int64_t *ms)
{
        char ebuf[CXW_ECHO_SIZE];
        const char *why = NULL;
        json_t *v = required ? json_object_get(obj, name) : get_opt(obj, name);

        if (!v) {
                if (!required)
                        return 0;
                sched_problem(p, entry, -1, "%s%s is missing", where, name);
                return -1;
        }
        if (!json_is_string(v)) {
                sched_problem(p, entry, -1, "%s%s must be a string (RFC 3339 date-time)",
                              where, name);
                return -1;
        }
        if (cxw_schedule_parse_time(json_string_value(v), json_string_length(v), ms,
                                    &why)) {
                sched_problem(p, entry, -1,
                              "%s%s '%s' is not a valid RFC 3339 date-time: %s", where,
                              name, echo_json(v, ebuf), why);
                return -1;
        }
        return 1;
}

/* Reads an integer member >= min. Returns 0 with *out, or -1 on a problem. */
static int get_int(cxw_schedule_problems_t *p, long entry, const char *where,
                   const json_t *obj, const char *name, json_int_t min, json_int_t *out)
{
        json_t *v = json_object_get(obj, name);

        if (!v) {
                sched_problem(p, entry, -1, "%s%s is missing", where, name);
                return -1;
        }
        if (!json_is_integer(v) || json_integer_value(v) < min) {
                sched_problem(p, entry, -1, "%s%s must be an integer >= %lld", where,
                              name, (long long)min);
                return -1;
        }
        *out = json_integer_value(v);
        return 0;
}

/* ---- the message's top object ----------------------------------------- */

void sched_check_top(cxw_schedule_problems_t *p, const json_t *root,
                     const char *const *vmodes, size_t nvmodes, const char *const *cres,
                     size_t ncres, int *mode, int *resolution, int64_t *required)
{
        char ebuf[CXW_ECHO_SIZE];
        json_t *cal, *req;

        check_members(p, -1, "", root, top_members, NELEM(top_members));
        cal = json_object_get(root, "targetCalendarId");
        if (!cal)
                sched_problem(p, -1, -1, "targetCalendarId is missing");
        else if (!json_is_string(cal))
                sched_problem(p, -1, -1, "targetCalendarId must be a string");
        else if (!id_valid(cal))
                sched_problem(
                    p, -1, -1,
                    "targetCalendarId '%s' must be 1-128 characters of A-Z a-z 0-9 . "
                    "_ -",
                    echo_json(cal, ebuf));
        check_enum(p, -1, "", root, "validationMode", vmodes, nvmodes, mode);
        check_enum(p, -1, "", root, "conflictResolution", cres, ncres, resolution);
        req = get_opt(root, "requiredCapacityMinutes");
        if (req && (!json_is_integer(req) || json_integer_value(req) < 0))
                sched_problem(p, -1, -1,
                              "requiredCapacityMinutes must be an integer >= 0");
        else if (req)
                *required = json_integer_value(req);
}

/* ---- overlaps -------------------------------------------------------- */

static int iv_cmp(const void *a, const void *b)
{
        const struct iv *x = a, *y = b;
        int c = 0;

        if (x->agent && y->agent)
                c = strcmp(x->agent, y->agent);
        if (c)
                return c;
        if (x->s != y->s)
                return x->s < y->s ? -1 : 1;
        if (x->e != y->e)
                return x->e < y->e ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The open intervals: pointers into v, by end. */
static int iv_end_cmp(const void *a, const void *b)
{
        const struct iv *x = *(struct iv *const *)a, *y = *(struct iv *const *)b;

        return x->e < y->e ? -1 : x->e > y->e;
}

static void ends_init(cxw_heap_t *ends)
{
        cxw_heap_init(ends, sizeof(struct iv *), iv_end_cmp, NULL);
}

static struct iv *ends_at(const cxw_heap_t *ends, size_t i)
{
        return *(struct iv **)cxw_heap_at(ends, i);
}

/* Reports every overlapping pair of the intervals v[0..n), sorted by start:
 * an interval overlaps exactly the earlier ones still open at its start
 * (end > start; touching is not an overlap), which a min-heap by end holds.
 * Each pair is reported once; the work is O(n log n) plus the problems kept
 * (the ones beyond the list are only counted). ends has room reserved for n
 * pointers (so a push cannot fail); it is emptied first.
 * entry >= 0: breaks of that entry (prefix names it); else shifts. */
static void report_overlaps(cxw_schedule_problems_t *p, struct iv *v, size_t n,
                            cxw_heap_t *ends, long entry, const char *prefix)
{
        cxw_heap_clear(ends);
        for (size_t j = 0; j < n; j++) {
                struct iv *x = &v[j];
                size_t nh;

                while (cxw_heap_len(ends) > 0 && ends_at(ends, 0)->e <= x->s)
                        cxw_heap_pop(ends, NULL);
                nh = cxw_heap_len(ends);
                for (size_t k = 0; k < nh; k++) {
                        const struct iv *o = ends_at(ends, k);

                        if (p->n >= CXW_SCHED_PROBLEMS_MAX) {
                                p->total += nh - k;
                                break;
                        }
                        long a = o->idx < x->idx ? o->idx : x->idx;
                        long b = o->idx < x->idx ? x->idx : o->idx;
                        if (entry >= 0)
                                sched_problem(p, entry, -1,
                                              "%sbreaks[%ld] and breaks[%ld] overlap",
                                              prefix, a, b);
                        else
                                sched_problem(
                                    p, a, b,
                                    "scheduleEntries[%ld] and scheduleEntries[%ld] "
                                    "(agent %s): shifts overlap",
                                    a, b, x->agent);
                }
                (void)cxw_heap_push(ends, &x); /* room reserved */
        }
}

/* ---- one entry ------------------------------------------------------- */

/* Validates breaks; adds the valid ones to w (when timed). Returns -1 on
 * OOM. */
static int check_breaks(cxw_schedule_problems_t *p, long idx, const char *pre,
                        const json_t *breaks, const struct entry *e,
                        cxw_schedule_window_t *w, size_t *nw)
{
        char where[PREFIX_SIZE + 32];
        size_t n = json_array_size(breaks), nv = 0;
        int64_t shift_min = e->timed ? (e->end - e->start) / MS_PER_MIN : 0;
        struct iv *v = NULL;
        cxw_heap_t ends;

        if (n == 0)
                return 0;
        ends_init(&ends);
        v = calloc(n, sizeof(*v));
        if (!v || cxw_heap_reserve(&ends, n) != 0) {
                free(v);
                cxw_heap_fini(&ends);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *b = json_array_get(breaks, i);
                json_int_t off = 0, dur = 0;
                int bad;

                snprintf(where, sizeof(where), "%sbreaks[%zu]: ", pre, i);
                if (!json_is_object(b)) {
                        sched_problem(p, idx, -1, "%sbreaks[%zu] must be an object", pre,
                                      i);
                        continue;
                }
                check_members(p, idx, where, b, break_members, NELEM(break_members));
                bad = get_int(p, idx, where, b, "startOffsetMinutes", 0, &off);
                bad |= get_int(p, idx, where, b, "durationMinutes", 1, &dur);
                if (bad)
                        continue;
                /* offsets alone say whether breaks overlap; offset and
                 * duration are >= 0 here, compare without overflow */
                if (e->timed && (off > shift_min || dur > shift_min - off)) {
                        sched_problem(p, idx, -1,
                                      "%sbreaks[%zu] ends after the shift (offset %lld + "
                                      "duration %lld > %lld minutes)",
                                      pre, i, (long long)off, (long long)dur,
                                      (long long)shift_min);
                        continue;
                }
                if (!e->timed && (off > INT64_MAX / 2 / MS_PER_MIN ||
                                  dur > INT64_MAX / 2 / MS_PER_MIN))
                        continue; /* the shift is already reported invalid */
                v[nv].s = off;
                v[nv].e = off + dur;
                v[nv].idx = (long)i;
                v[nv].agent = NULL;
                nv++;
                if (e->timed) {
                        w[*nw].start_ms = e->start + off * MS_PER_MIN;
                        w[*nw].end_ms = e->start + (off + dur) * MS_PER_MIN;
                        (*nw)++;
                }
        }
        qsort(v, nv, sizeof(*v), iv_cmp);
        report_overlaps(p, v, nv, &ends, idx, pre);
        free(v);
        cxw_heap_fini(&ends);
        return 0;
}

static void check_overrides(cxw_schedule_problems_t *p, const cxw_schedule_limits_t *lim,
                            long idx, const char *pre, const json_t *ovs,
                            const struct entry *e, cxw_schedule_window_t *w, size_t *nw)
{
        char where[PREFIX_SIZE + 64];
        size_t n = json_array_size(ovs);

        for (size_t i = 0; i < n; i++) {
                json_t *o = json_array_get(ovs, i), *reason;
                int64_t s = 0, en = 0;
                int type, hs, he;
                size_t before = p->total;

                snprintf(where, sizeof(where), "%savailabilityOverrides[%zu]: ", pre, i);
                if (!json_is_object(o)) {
                        sched_problem(p, idx, -1,
                                      "%savailabilityOverrides[%zu] must be an object",
                                      pre, i);
                        continue;
                }
                check_members(p, idx, where, o, override_members,
                              NELEM(override_members));
                check_enum(p, idx, where, o, "type", override_types,
                           NELEM(override_types), &type);
                reason = get_opt(o, "reason");
                if (reason && !json_is_string(reason))
                        sched_problem(p, idx, -1, "%sreason must be a string", where);
                else if (reason && json_string_length(reason) > lim->max_reason_len)
                        sched_problem(
                            p, idx, -1, "%sreason is %zu bytes, over the limit of %zu",
                            where, json_string_length(reason), lim->max_reason_len);
                hs = get_time(p, idx, where, o, "start", 0, &s);
                he = get_time(p, idx, where, o, "end", 0, &en);
                if (hs < 0 || he < 0)
                        continue;
                if (hs > 0 && he > 0 && en <= s) {
                        sched_problem(p, idx, -1, "%send is not after start", where);
                        continue;
                }
                if (!e->timed)
                        continue;
                if (hs == 0)
                        s = e->start;
                if (he == 0)
                        en = e->end;
                if (s < e->start || en > e->end || en <= s) {
                        sched_problem(p, idx, -1, "%swindow is not inside the shift",
                                      where);
                        continue;
                }
                if (p->total == before && type == 0) { /* UNAVAILABLE */
                        w[*nw].start_ms = s;
                        w[*nw].end_ms = en;
                        (*nw)++;
                }
        }
}

int sched_check_entry(cxw_schedule_problems_t *p, const cxw_schedule_limits_t *lim,
                      long idx, const json_t *obj, struct entry *e)
{
        char pre[PREFIX_SIZE], ebuf[CXW_ECHO_SIZE];
        json_t *agent, *breaks, *ovs;
        cxw_schedule_window_t *w = NULL;
        size_t before = p->total, nb = 0, no = 0, nw = 0;
        int hs, he;

        memset(e, 0, sizeof(*e));
        if (!json_is_object(obj)) {
                sched_problem(p, idx, -1, "scheduleEntries[%ld] must be an object", idx);
                return 0;
        }
        agent = json_object_get(obj, "agentId");
        if (json_is_string(agent) && id_valid(agent)) {
                e->agent = json_string_value(agent);
                snprintf(pre, sizeof(pre), "scheduleEntries[%ld] (agent %s): ", idx,
                         e->agent);
        } else {
                snprintf(pre, sizeof(pre), "scheduleEntries[%ld]: ", idx);
                if (!agent)
                        sched_problem(p, idx, -1, "%sagentId is missing", pre);
                else if (!json_is_string(agent))
                        sched_problem(p, idx, -1, "%sagentId must be a string", pre);
                else
                        sched_problem(
                            p, idx, -1,
                            "%sagentId '%s' must be 1-128 characters of A-Z a-z 0-9 . "
                            "_ -",
                            pre, echo_json(agent, ebuf));
        }
        check_members(p, idx, pre, obj, entry_members, NELEM(entry_members));

        hs = get_time(p, idx, pre, obj, "startDateTime", 1, &e->start);
        he = get_time(p, idx, pre, obj, "endDateTime", 1, &e->end);
        if (hs > 0 && he > 0) {
                if (e->end <= e->start) {
                        sched_problem(p, idx, -1,
                                      "%sendDateTime is not after startDateTime", pre);
                } else {
                        e->timed = 1;
                        int64_t len = e->end - e->start;
                        if (len > lim->max_shift_minutes * MS_PER_MIN)
                                sched_problem(p, idx, -1,
                                              "%sshift is %" PRId64
                                              " minutes, over the limit of %" PRId64,
                                              pre, (len + MS_PER_MIN - 1) / MS_PER_MIN,
                                              lim->max_shift_minutes);
                }
        }

        breaks = get_opt(obj, "breaks");
        if (breaks && !json_is_array(breaks))
                sched_problem(p, idx, -1, "%sbreaks must be an array", pre);
        else if (breaks && json_array_size(breaks) > lim->max_breaks)
                sched_problem(p, idx, -1, "%shas %zu breaks, over the limit of %zu", pre,
                              json_array_size(breaks), lim->max_breaks);
        else if (breaks)
                nb = json_array_size(breaks);

        ovs = get_opt(obj, "availabilityOverrides");
        if (ovs && !json_is_array(ovs))
                sched_problem(p, idx, -1, "%savailabilityOverrides must be an array",
                              pre);
        else if (ovs && json_array_size(ovs) > lim->max_overrides)
                sched_problem(p, idx, -1,
                              "%shas %zu availabilityOverrides, over the limit of %zu",
                              pre, json_array_size(ovs), lim->max_overrides);
        else if (ovs)
                no = json_array_size(ovs);

        if (nb + no > 0) {
                w = calloc(nb + no, sizeof(*w));
                if (!w)
                        return -1;
        }
        if (nb > 0 && check_breaks(p, idx, pre, breaks, e, w, &nw)) {
                free(w);
                return -1;
        }
        if (no > 0)
                check_overrides(p, lim, idx, pre, ovs, e, w, &nw);

        /* the capacity counts only entries whose every figure is valid */
        if (e->timed && p->total == before) {
                e->countable = 1;
                e->avail_ms = cxw_schedule_available_ms(e->start, e->end, w, nw);
        }
        free(w);
        return 0;
}

/* ---- shifts across entries ------------------------------------------- */

int sched_check_overlaps(cxw_schedule_problems_t *p, const struct entry *ents, size_t n,
                         size_t *nagents)
{
        struct iv *v = calloc(n, sizeof(*v));
        cxw_heap_t ends;
        size_t nv = 0;

        *nagents = 0;
        ends_init(&ends);
        if (!v || cxw_heap_reserve(&ends, n) != 0) {
                free(v);
                cxw_heap_fini(&ends);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                if (!ents[i].agent)
                        continue;
                v[nv].agent = ents[i].agent;
                v[nv].idx = (long)i;
                /* an entry without valid times still names an agent */
                v[nv].s = ents[i].timed ? ents[i].start : INT64_MIN;
                v[nv].e = ents[i].timed ? ents[i].end : INT64_MIN;
                nv++;
        }
        qsort(v, nv, sizeof(*v), iv_cmp);
        for (size_t g = 0; g < nv;) {
                size_t h = g + 1, first = g;
                while (h < nv && strcmp(v[h].agent, v[g].agent) == 0)
                        h++;
                (*nagents)++;
                while (first < h && !ents[v[first].idx].timed)
                        first++;
                report_overlaps(p, v + first, h - first, &ends, -1, "");
                g = h;
        }
        free(v);
        cxw_heap_fini(&ends);
        return 0;
}

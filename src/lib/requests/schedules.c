/* schedules.c: decode and validate schedule-import requests, build the call.
 * The date-times and the available time are in schedules_time.c, the async
 * job's id and answer in schedules_job.c. */
#include "cxone/requests/schedules.h"
#include "cxone/base/heap.h"
#include "cxone/base/util.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_PER_MIN  ((int64_t)60000)
#define PREFIX_SIZE (CXW_SCHED_ID_MAX + 64)
#define NELEM(a)    (sizeof(a) / sizeof((a)[0]))

/* The default allowed values (see schedules.h); the configuration may
 * replace the first two lists. */
static const char *const modes[] = {"STRICT", "LENIENT"};
static const char *const resolutions[] = {"AUTO_RESOLVE", "OVERWRITE", "SKIP", "FAIL"};
static const char *const override_types[] = {"UNAVAILABLE", "AVAILABLE", "PARTIAL"};

/* The members of each object of the message. */
static const char *const top_members[] = {"targetCalendarId", "validationMode",
                                          "conflictResolution", "requiredCapacityMinutes",
                                          "scheduleEntries"};
static const char *const entry_members[] = {"agentId", "startDateTime", "endDateTime",
                                            "breaks", "availabilityOverrides"};
static const char *const break_members[] = {"startOffsetMinutes", "durationMinutes"};
static const char *const override_members[] = {"type", "reason", "start", "end"};

/* One entry as the cross-entry checks (overlaps, capacity) see it. */
struct entry {
        const char *agent; /* into the parsed message; NULL when invalid */
        int64_t start, end;
        int timed;        /* start and end valid, end after start */
        int countable;    /* timed, and breaks and overrides all valid */
        int64_t avail_ms; /* when countable */
};

/* An interval for the overlap sweep. */
struct iv {
        int64_t s, e;
        long idx;
        const char *agent; /* shifts: the agent; breaks: NULL */
};

void cxw_schedule_limits_default(cxw_schedule_limits_t *l)
{
        if (!l)
                return;
        l->max_bytes = 1024 * 1024;
        l->max_entries = 5000;
        l->max_breaks = 16;
        l->max_overrides = 16;
        l->max_reason_len = 256;
        l->max_shift_minutes = 16 * 60;
        l->validation_modes = modes;
        l->nvalidation_modes = NELEM(modes);
        l->conflict_resolutions = resolutions;
        l->nconflict_resolutions = NELEM(resolutions);
}

void cxw_schedule_import_clear(cxw_schedule_import_t *imp)
{
        if (!imp)
                return;
        free(imp->body);
        memset(imp, 0, sizeof(*imp));
}

/* Records a problem: kept while there is room, always counted. */
static void problem(cxw_schedule_problems_t *p, long entry, long other, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

static void problem(cxw_schedule_problems_t *p, long entry, long other, const char *fmt,
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
                problem(p, entry, -1, "%sunknown member '%s' (allowed: %s)", where,
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
                problem(p, entry, -1, "%s%s is missing", where, name);
                return;
        }
        if (!json_is_string(v)) {
                problem(p, entry, -1, "%s%s must be a string", where, name);
                return;
        }
        *which = lookup(v, names, n);
        if (*which < 0) {
                list_of(names, n, list, sizeof(list));
                problem(p, entry, -1, "%s%s '%s' is not one of %s", where, name,
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
                problem(p, entry, -1, "%s%s is missing", where, name);
                return -1;
        }
        if (!json_is_string(v)) {
                problem(p, entry, -1, "%s%s must be a string (RFC 3339 date-time)", where,
                        name);
                return -1;
        }
        if (cxw_schedule_parse_time(json_string_value(v), json_string_length(v), ms,
                                    &why)) {
                problem(p, entry, -1, "%s%s '%s' is not a valid RFC 3339 date-time: %s",
                        where, name, echo_json(v, ebuf), why);
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
                problem(p, entry, -1, "%s%s is missing", where, name);
                return -1;
        }
        if (!json_is_integer(v) || json_integer_value(v) < min) {
                problem(p, entry, -1, "%s%s must be an integer >= %lld", where, name,
                        (long long)min);
                return -1;
        }
        *out = json_integer_value(v);
        return 0;
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
                                problem(p, entry, -1,
                                        "%sbreaks[%ld] and breaks[%ld] overlap", prefix,
                                        a, b);
                        else
                                problem(p, a, b,
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
                        problem(p, idx, -1, "%sbreaks[%zu] must be an object", pre, i);
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
                        problem(p, idx, -1,
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
                        problem(p, idx, -1,
                                "%savailabilityOverrides[%zu] must be an object", pre, i);
                        continue;
                }
                check_members(p, idx, where, o, override_members,
                              NELEM(override_members));
                check_enum(p, idx, where, o, "type", override_types,
                           NELEM(override_types), &type);
                reason = get_opt(o, "reason");
                if (reason && !json_is_string(reason))
                        problem(p, idx, -1, "%sreason must be a string", where);
                else if (reason && json_string_length(reason) > lim->max_reason_len)
                        problem(p, idx, -1,
                                "%sreason is %zu bytes, over the limit of %zu", where,
                                json_string_length(reason), lim->max_reason_len);
                hs = get_time(p, idx, where, o, "start", 0, &s);
                he = get_time(p, idx, where, o, "end", 0, &en);
                if (hs < 0 || he < 0)
                        continue;
                if (hs > 0 && he > 0 && en <= s) {
                        problem(p, idx, -1, "%send is not after start", where);
                        continue;
                }
                if (!e->timed)
                        continue;
                if (hs == 0)
                        s = e->start;
                if (he == 0)
                        en = e->end;
                if (s < e->start || en > e->end || en <= s) {
                        problem(p, idx, -1, "%swindow is not inside the shift", where);
                        continue;
                }
                if (p->total == before && type == 0) { /* UNAVAILABLE */
                        w[*nw].start_ms = s;
                        w[*nw].end_ms = en;
                        (*nw)++;
                }
        }
}

/* Validates scheduleEntries[idx] into *e. Returns -1 on OOM. */
static int check_entry(cxw_schedule_problems_t *p, const cxw_schedule_limits_t *lim,
                       long idx, const json_t *obj, struct entry *e)
{
        char pre[PREFIX_SIZE], ebuf[CXW_ECHO_SIZE];
        json_t *agent, *breaks, *ovs;
        cxw_schedule_window_t *w = NULL;
        size_t before = p->total, nb = 0, no = 0, nw = 0;
        int hs, he;

        memset(e, 0, sizeof(*e));
        if (!json_is_object(obj)) {
                problem(p, idx, -1, "scheduleEntries[%ld] must be an object", idx);
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
                        problem(p, idx, -1, "%sagentId is missing", pre);
                else if (!json_is_string(agent))
                        problem(p, idx, -1, "%sagentId must be a string", pre);
                else
                        problem(
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
                        problem(p, idx, -1, "%sendDateTime is not after startDateTime",
                                pre);
                } else {
                        e->timed = 1;
                        int64_t len = e->end - e->start;
                        if (len > lim->max_shift_minutes * MS_PER_MIN)
                                problem(p, idx, -1,
                                        "%sshift is %" PRId64
                                        " minutes, over the limit of %" PRId64,
                                        pre, (len + MS_PER_MIN - 1) / MS_PER_MIN,
                                        lim->max_shift_minutes);
                }
        }

        breaks = get_opt(obj, "breaks");
        if (breaks && !json_is_array(breaks))
                problem(p, idx, -1, "%sbreaks must be an array", pre);
        else if (breaks && json_array_size(breaks) > lim->max_breaks)
                problem(p, idx, -1, "%shas %zu breaks, over the limit of %zu", pre,
                        json_array_size(breaks), lim->max_breaks);
        else if (breaks)
                nb = json_array_size(breaks);

        ovs = get_opt(obj, "availabilityOverrides");
        if (ovs && !json_is_array(ovs))
                problem(p, idx, -1, "%savailabilityOverrides must be an array", pre);
        else if (ovs && json_array_size(ovs) > lim->max_overrides)
                problem(p, idx, -1,
                        "%shas %zu availabilityOverrides, over the limit of %zu", pre,
                        json_array_size(ovs), lim->max_overrides);
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

/* ---- the import ------------------------------------------------------ */

/* Every pair of overlapping shifts of one agent, and the number of agents. */
static int check_overlaps(cxw_schedule_problems_t *p, const struct entry *ents, size_t n,
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

/* Joins the problems into one message of at most size - 1 bytes. */
static void join(const cxw_schedule_problems_t *p, char *errstr, size_t size)
{
        static const size_t reserve = 48; /* "; ... and N more" */
        size_t off, shown = 0;
        int k;

        if (!errstr || size == 0)
                return;
        errstr[0] = '\0';
        if (p->total == 1 && p->n == 1) {
                snprintf(errstr, size, "%s", p->items[0].text);
                return;
        }
        k = snprintf(errstr, size, "%zu problems: ", p->total);
        if (k < 0 || (size_t)k >= size)
                return;
        off = (size_t)k;
        for (size_t i = 0; i < p->n; i++) {
                size_t need = (shown ? 2 : 0) + strlen(p->items[i].text);
                size_t keep = i + 1 < p->total ? reserve : 0;
                if (off + need + keep >= size)
                        break;
                k = snprintf(errstr + off, size - off, "%s%s", shown ? "; " : "",
                             p->items[i].text);
                off += (size_t)k;
                shown++;
        }
        if (shown < p->total)
                snprintf(errstr + off, size - off, "%s... and %zu more",
                         shown ? "; " : "", p->total - shown);
}

static int64_t elapsed_us(const struct timespec *t0)
{
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 +
               (t1.tv_nsec - t0->tv_nsec) / 1000;
}

int cxw_schedule_decode(const void *value, size_t len,
                        const cxw_schedule_limits_t *limits, cxw_schedule_import_t *out,
                        cxw_schedule_problems_t *problems, char *errstr,
                        size_t errstr_size)
{
        char ebuf[CXW_ECHO_SIZE];
        cxw_schedule_limits_t defaults;
        cxw_schedule_problems_t *p = problems;
        struct timespec t0;
        json_error_t jerr;
        json_t *root = NULL, *cal = NULL, *req, *list;
        struct entry *ents = NULL;
        size_t nentries = 0, nagents = 0;
        int64_t avail_ms = 0, required = -1;
        int mode = -1, resolution = -1, all_countable = 1, rc = -1;
        const char *const *vmodes = modes, *const *cres = resolutions;
        size_t nvmodes = NELEM(modes), ncres = NELEM(resolutions);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (errstr && errstr_size)
                errstr[0] = '\0';
        if (!out) {
                cxw_set_err(errstr, errstr_size, "no output");
                return -1;
        }
        memset(out, 0, sizeof(*out));
        if (!limits) {
                cxw_schedule_limits_default(&defaults);
                limits = &defaults;
        }
        /* Limits filled by hand without the lists get the default lists. */
        if (limits->validation_modes) {
                vmodes = limits->validation_modes;
                nvmodes = limits->nvalidation_modes;
        }
        if (limits->conflict_resolutions) {
                cres = limits->conflict_resolutions;
                ncres = limits->nconflict_resolutions;
        }
        if (!p) {
                p = malloc(sizeof(*p));
                if (!p) {
                        cxw_set_err(errstr, errstr_size, "out of memory");
                        return -2;
                }
        }
        p->n = 0;
        p->total = 0;

        if (limits->max_bytes && len > limits->max_bytes) {
                problem(p, -1, -1, "message is %zu bytes, over the limit of %zu", len,
                        limits->max_bytes);
                goto done;
        }
        if (!value || len == 0) {
                problem(p, -1, -1, "message is empty");
                goto done;
        }
        root = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                /* jerr.text may quote the input: echo it only through the
                 * printable filter. */
                problem(p, -1, -1, "invalid JSON at line %d column %d: %s", jerr.line,
                        jerr.column, cxw_echo(jerr.text, strlen(jerr.text), ebuf));
                goto done;
        }
        if (!json_is_object(root)) {
                problem(p, -1, -1, "message is not a JSON object");
                goto done;
        }

        check_members(p, -1, "", root, top_members, NELEM(top_members));
        cal = json_object_get(root, "targetCalendarId");
        if (!cal)
                problem(p, -1, -1, "targetCalendarId is missing");
        else if (!json_is_string(cal))
                problem(p, -1, -1, "targetCalendarId must be a string");
        else if (!id_valid(cal))
                problem(p, -1, -1,
                        "targetCalendarId '%s' must be 1-128 characters of A-Z a-z 0-9 . "
                        "_ -",
                        echo_json(cal, ebuf));
        check_enum(p, -1, "", root, "validationMode", vmodes, nvmodes, &mode);
        check_enum(p, -1, "", root, "conflictResolution", cres, ncres, &resolution);
        req = get_opt(root, "requiredCapacityMinutes");
        if (req && (!json_is_integer(req) || json_integer_value(req) < 0))
                problem(p, -1, -1, "requiredCapacityMinutes must be an integer >= 0");
        else if (req)
                required = json_integer_value(req);

        list = json_object_get(root, "scheduleEntries");
        if (!list) {
                problem(p, -1, -1, "scheduleEntries is missing");
                goto done;
        }
        if (!json_is_array(list)) {
                problem(p, -1, -1, "scheduleEntries must be an array");
                goto done;
        }
        nentries = json_array_size(list);
        if (nentries == 0) {
                problem(p, -1, -1, "scheduleEntries is empty");
                goto done;
        }
        if (nentries > limits->max_entries) {
                problem(p, -1, -1,
                        "scheduleEntries has %zu entries, over the limit of %zu",
                        nentries, limits->max_entries);
                goto done;
        }
        ents = calloc(nentries, sizeof(*ents));
        if (!ents)
                goto oom;
        for (size_t i = 0; i < nentries; i++) {
                if (check_entry(p, limits, (long)i, json_array_get(list, i), &ents[i]))
                        goto oom;
                if (ents[i].countable)
                        avail_ms += ents[i].avail_ms;
                else
                        all_countable = 0;
        }
        if (check_overlaps(p, ents, nentries, &nagents))
                goto oom;
        if (all_countable && required >= 0 && avail_ms / MS_PER_MIN < required)
                problem(p, -1, -1,
                        "capacity %" PRId64
                        " minutes is below requiredCapacityMinutes %" PRId64,
                        avail_ms / MS_PER_MIN, required);

done:
        if (p->total > 0) {
                join(p, errstr, errstr_size);
                goto out;
        }
        out->body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!out->body)
                goto oom;
        out->body_len = strlen(out->body);
        snprintf(out->calendar_id, sizeof(out->calendar_id), "%s",
                 json_string_value(cal));
        snprintf(out->validation_mode, sizeof(out->validation_mode), "%s", vmodes[mode]);
        snprintf(out->conflict_resolution, sizeof(out->conflict_resolution), "%s",
                 cres[resolution]);
        out->nentries = nentries;
        out->nagents = nagents;
        out->capacity_minutes = avail_ms / MS_PER_MIN;
        out->required_capacity_minutes = required;
        out->validate_us = elapsed_us(&t0);
        rc = 0;
        goto out;

oom:
        cxw_schedule_import_clear(out);
        cxw_set_err(errstr, errstr_size, "out of memory");
        rc = -2;
out:
        if (rc != 0)
                cxw_schedule_import_clear(out);
        free(ents);
        json_decref(root);
        if (p != problems)
                free(p);
        return rc;
}

int cxw_schedule_idempotency_key(const void *hdr, size_t hdrlen, const char *topic,
                                 int32_t partition, int64_t offset, char *out,
                                 size_t outsize, char *errstr, size_t errstr_size)
{
        const unsigned char *h = hdr;
        int n;

        if (errstr && errstr_size)
                errstr[0] = '\0';
        if (!out || outsize == 0) {
                cxw_set_err(errstr, errstr_size, "no output buffer");
                return -1;
        }
        out[0] = '\0';
        if (h && hdrlen > 0) {
                if (hdrlen > CXW_SCHED_IDEMKEY_MAX) {
                        cxw_set_err(
                            errstr, errstr_size,
                            "idempotency-key header is %zu bytes, over the limit of %d",
                            hdrlen, CXW_SCHED_IDEMKEY_MAX);
                        return -1;
                }
                for (size_t i = 0; i < hdrlen; i++) {
                        if (h[i] < 0x21 || h[i] > 0x7e) {
                                cxw_set_err(errstr, errstr_size,
                                            "idempotency-key header has a byte outside "
                                            "printable ASCII at position %zu",
                                            i);
                                return -1;
                        }
                }
                if (hdrlen >= outsize) {
                        cxw_set_err(errstr, errstr_size,
                                    "idempotency key buffer too small");
                        return -1;
                }
                memcpy(out, h, hdrlen);
                out[hdrlen] = '\0';
                return 0;
        }
        n = snprintf(out, outsize, "%s/%" PRId32 "/%" PRId64, topic ? topic : "",
                     partition, offset);
        if (n < 0 || (size_t)n >= outsize) {
                out[0] = '\0';
                cxw_set_err(errstr, errstr_size, "idempotency key buffer too small");
                return -1;
        }
        return 0;
}

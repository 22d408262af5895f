/* outcome.c: results, audit and DLQ records (formats: docs/messages.md). */
#include "cxone/requests/outcome.h"
#include "cxone/base/jsonw.h"
#include "cxone/base/util.h"

#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {"succeeded", "rejected", "failed"};

const char *cxw_outcome_status_str(cxw_outcome_status_t s)
{
        return (unsigned)s < 3 ? status_names[s] : "unknown";
}

static const char *stamp(const cxw_outcome_t *o, char *ts, size_t size)
{
        return o->finished_at ? o->finished_at
                              : cxw_rfc3339(o->finished_wall_ms, ts, size);
}

static void source_json(cxw_jsonw_t *w, const cxw_outcome_t *o)
{
        cxw_jsonw_key(w, "source");
        cxw_jsonw_obj_begin(w);
        cxw_jsonw_kstr(w, "topic", o->topic);
        cxw_jsonw_kint(w, "partition", o->partition);
        cxw_jsonw_kint(w, "offset", o->offset);
        cxw_jsonw_obj_end(w);
}

/* Records are written with the small writer, not a jansson tree: one
 * allocation a record instead of one a value, same bytes (jsonw.h). */
char *cxw_outcome_json(const cxw_outcome_t *o)
{
        cxw_jsonw_t w;
        char ts[40];

        cxw_jsonw_init(&w, 384);
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_kstr(&w, "type", o->type);
        cxw_jsonw_kstr(&w, "status", cxw_outcome_status_str(o->status));
        if (o->contact_id)
                cxw_jsonw_kstr(&w, "contactId", o->contact_id);
        if (o->job_id)
                cxw_jsonw_kstr(&w, "jobId", o->job_id);
        cxw_jsonw_key(&w, "httpStatus");
        if (o->http_status)
                cxw_jsonw_int(&w, o->http_status);
        else
                cxw_jsonw_null(&w);
        cxw_jsonw_kint(&w, "attempts", o->attempts);
        cxw_jsonw_kstr(&w, "error", o->error);
        cxw_jsonw_kstr(&w, "batchId", o->batch_id);
        cxw_jsonw_kstr(&w, "correlationId", o->correlation_id);
        source_json(&w, o);
        cxw_jsonw_kint(&w, "latencyMs", o->latency_ms);
        if (o->job_status)
                cxw_jsonw_kstr(&w, "jobStatus", o->job_status);
        if (o->has_timings) {
                cxw_jsonw_kint(&w, "validationMs", o->validation_ms);
                cxw_jsonw_kint(&w, "requestMs", o->request_ms);
                cxw_jsonw_kint(&w, "pollingMs", o->polling_ms);
        }
        cxw_jsonw_kstr(&w, "finishedAt", stamp(o, ts, sizeof(ts)));
        cxw_jsonw_obj_end(&w);
        return cxw_jsonw_finish(&w, NULL);
}

char *cxw_audit_json(const char *action, const char *worker, const cxw_outcome_t *o,
                     const char *const *fields, size_t nfields, int entries)
{
        cxw_jsonw_t w;
        char ts[40];

        cxw_jsonw_init(&w, 320);
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_kstr(&w, "at", stamp(o, ts, sizeof(ts)));
        cxw_jsonw_kstr(&w, "action", action);
        cxw_jsonw_kstr(&w, "worker", worker);
        if (o->contact_id)
                cxw_jsonw_kstr(&w, "contactId", o->contact_id);
        if (fields && nfields) {
                cxw_jsonw_key(&w, "fields");
                cxw_jsonw_arr_begin(&w);
                for (size_t i = 0; i < nfields; i++)
                        cxw_jsonw_str(&w, fields[i]);
                cxw_jsonw_arr_end(&w);
        }
        if (o->job_id)
                cxw_jsonw_kstr(&w, "jobId", o->job_id);
        if (entries >= 0)
                cxw_jsonw_kint(&w, "entries", entries);
        if (o->batch_id)
                cxw_jsonw_kstr(&w, "batchId", o->batch_id);
        source_json(&w, o);
        cxw_jsonw_obj_end(&w);
        return cxw_jsonw_finish(&w, NULL);
}

static void add_str(rd_kafka_headers_t *h, const char *name, const char *value)
{
        rd_kafka_header_add(h, name, -1, value, -1);
}

static void add_num(rd_kafka_headers_t *h, const char *name, long long v)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%lld", v);
        rd_kafka_header_add(h, name, -1, buf, -1);
}

rd_kafka_headers_t *cxw_outcome_headers(const cxw_outcome_t *o)
{
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);

        if (o->batch_id)
                add_str(h, "batch-id", o->batch_id);
        if (o->correlation_id)
                add_str(h, "correlation-id", o->correlation_id);
        return h;
}

rd_kafka_headers_t *cxw_dlq_headers(const rd_kafka_headers_t *orig,
                                    const cxw_outcome_t *o, const char *worker)
{
        rd_kafka_headers_t *h =
            orig ? rd_kafka_headers_copy(orig) : rd_kafka_headers_new(9);
        char ts[40];

        add_str(h, "dlq-reason", o->error ? o->error : "");
        if (o->contact_id)
                add_str(h, "dlq-contact-id", o->contact_id);
        add_str(h, "dlq-status", cxw_outcome_status_str(o->status));
        add_num(h, "dlq-http-status", o->http_status);
        add_str(h, "dlq-source-topic", o->topic);
        add_num(h, "dlq-source-partition", o->partition);
        add_num(h, "dlq-source-offset", o->offset);
        add_num(h, "dlq-attempts", o->attempts);
        add_str(h, "dlq-worker", worker);
        add_str(h, "dlq-at", stamp(o, ts, sizeof(ts)));
        return h;
}

/* A length as librdkafka writes it (zig-zag varint): at most 5 bytes for
 * 32 bits; counted at its real size so the estimate stays close. */
static size_t varint_size(size_t n)
{
        uint64_t z = (uint64_t)n << 1; /* zig-zag of a non-negative number */
        size_t b = 1;

        while (z >= 0x80) {
                z >>= 7;
                b++;
        }
        return b;
}

size_t cxw_record_size(size_t keylen, size_t len, const rd_kafka_headers_t *hdrs)
{
        size_t size = CXW_RECORD_OVERHEAD + keylen + len;
        const char *name;
        const void *v;
        size_t vlen;

        for (size_t i = 0;
             hdrs && rd_kafka_header_get_all(hdrs, i, &name, &v, &vlen) == 0; i++) {
                size_t nlen = strlen(name);
                size += varint_size(nlen) + nlen + varint_size(vlen) + vlen;
        }
        return size;
}

long long cxw_dlq_fit(rd_kafka_headers_t *hdrs, size_t keylen, size_t len,
                      size_t orig_len, size_t max_bytes)
{
        char buf[32];
        size_t fixed;

        if (len >= orig_len && cxw_record_size(keylen, len, hdrs) <= max_bytes)
                return (long long)len;
        snprintf(buf, sizeof(buf), "%zu", orig_len);
        /* the header goes in before the room left for the value is known */
        fixed = cxw_record_size(keylen, 0, hdrs) + varint_size(strlen("dlq-truncated")) +
                strlen("dlq-truncated") + varint_size(strlen(buf)) + strlen(buf);
        if (fixed > max_bytes)
                return -1;
        rd_kafka_header_add(hdrs, "dlq-truncated", -1, buf, -1);
        /* a shorter value may have a shorter length varint: at most 4 bytes
         * less, which only leaves a little room unused */
        return (long long)(max_bytes - fixed < len ? max_bytes - fixed : len);
}

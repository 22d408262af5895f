/* outcome.c: results, audit and DLQ records (DESIGN.md formats). */
#include "cxone/outcome.h"
#include "cxone/util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {"succeeded", "rejected", "failed"};

const char *cxw_outcome_status_str(cxw_outcome_status_t s)
{
        return (unsigned)s < 3 ? status_names[s] : "unknown";
}

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *source_json(const cxw_outcome_t *o)
{
        return json_pack("{s:s, s:i, s:I}", "topic", o->topic, "partition",
                         (int)o->partition, "offset", (json_int_t)o->offset);
}

char *cxw_outcome_json(const cxw_outcome_t *o)
{
        json_t *j = json_object();
        char ts[40];
        char *out;

        json_object_set_new(j, "type", json_string(o->type));
        json_object_set_new(j, "status", json_string(cxw_outcome_status_str(o->status)));
        if (o->contact_id)
                json_object_set_new(j, "contactId", json_string(o->contact_id));
        if (o->job_id)
                json_object_set_new(j, "jobId", json_string(o->job_id));
        json_object_set_new(j, "httpStatus",
                            o->http_status ? json_integer(o->http_status) : json_null());
        json_object_set_new(j, "attempts", json_integer(o->attempts));
        json_object_set_new(j, "error", str_or_null(o->error));
        json_object_set_new(j, "batchId", str_or_null(o->batch_id));
        json_object_set_new(j, "correlationId", str_or_null(o->correlation_id));
        json_object_set_new(j, "source", source_json(o));
        json_object_set_new(j, "latencyMs", json_integer(o->latency_ms));
        if (o->job_status)
                json_object_set_new(j, "jobStatus", json_string(o->job_status));
        if (o->has_timings) {
                json_object_set_new(j, "validationMs", json_integer(o->validation_ms));
                json_object_set_new(j, "requestMs", json_integer(o->request_ms));
                json_object_set_new(j, "pollingMs", json_integer(o->polling_ms));
        }
        json_object_set_new(
            j, "finishedAt",
            json_string(cxw_rfc3339(o->finished_wall_ms, ts, sizeof(ts))));
        out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        return out;
}

char *cxw_audit_json(const char *action, const char *worker, const cxw_outcome_t *o,
                     const char *const *fields, size_t nfields, int entries)
{
        json_t *j = json_object();
        char ts[40];
        char *out;

        json_object_set_new(
            j, "at", json_string(cxw_rfc3339(o->finished_wall_ms, ts, sizeof(ts))));
        json_object_set_new(j, "action", json_string(action));
        json_object_set_new(j, "worker", json_string(worker));
        if (o->contact_id)
                json_object_set_new(j, "contactId", json_string(o->contact_id));
        if (fields && nfields) {
                json_t *a = json_array();
                for (size_t i = 0; i < nfields; i++)
                        json_array_append_new(a, json_string(fields[i]));
                json_object_set_new(j, "fields", a);
        }
        if (o->job_id)
                json_object_set_new(j, "jobId", json_string(o->job_id));
        if (entries >= 0)
                json_object_set_new(j, "entries", json_integer(entries));
        if (o->batch_id)
                json_object_set_new(j, "batchId", json_string(o->batch_id));
        json_object_set_new(j, "source", source_json(o));
        out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        return out;
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
        add_str(h, "dlq-status", cxw_outcome_status_str(o->status));
        add_num(h, "dlq-http-status", o->http_status);
        add_str(h, "dlq-source-topic", o->topic);
        add_num(h, "dlq-source-partition", o->partition);
        add_num(h, "dlq-source-offset", o->offset);
        add_num(h, "dlq-attempts", o->attempts);
        add_str(h, "dlq-worker", worker);
        add_str(h, "dlq-at", cxw_rfc3339(o->finished_wall_ms, ts, sizeof(ts)));
        return h;
}

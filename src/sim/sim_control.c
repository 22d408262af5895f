/* sim_control.c: the /_sim/ endpoints a test or an operator uses to look
 * inside the simulator and steer it: stats, the last tokens issued, stored
 * contacts and jobs, the runtime configuration, reset. No faults, no auth. */
#include "sim_req.h"

#include "cxone/base/log.h"

#include <stdio.h>
#include <string.h>

/* GET /_sim/jobs/{jobId} */
void cxw_sim_on_sim_job(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        json_t *j;

        if ((j = cxw_sim_job_of(sim, r, true)))
                cxw_sim_answer_json(r, 200, j);
}

void cxw_sim_on_stats(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        cxw_sim_answer_json(r, 200, cxw_sim_stats_json(sim));
}

void cxw_sim_on_tokens(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        cxw_sim_answer_json(r, 200, cxw_sim_tokens_json(sim));
}

void cxw_sim_on_sim_contact(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        json_t *c;

        if (r->param_too_long || !cxw_sim_id_valid(r->param)) {
                cxw_sim_answer_error(r, 400, "invalid contactId");
                return;
        }
        c = cxw_sim_contact_get(sim, r->param);
        if (!c) {
                cxw_sim_answer_error2(r, 404, "contact not found", "contactId", r->param);
                return;
        }
        cxw_sim_answer_json(r, 200, c);
}

static json_t *config_json(cxw_sim_t *sim)
{
        double rate;
        int64_t burst;

        cxw_sim_rate_get(sim, &rate, &burst);
        return json_pack("{s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:f}",
                         "errorRate", atomic_load(&sim->error_rate), "dropRate",
                         atomic_load(&sim->drop_rate), "tokenFailRate",
                         atomic_load(&sim->token_fail_rate), "rateLimit", rate, "burst",
                         (json_int_t)burst, "latencyMs",
                         (json_int_t)atomic_load(&sim->latency_ms), "latencyJitterMs",
                         (json_int_t)sim->opts->latency_jitter_ms, "jobDurationMs",
                         (json_int_t)atomic_load(&sim->job_duration_ms),
                         "jobDurationJitterMs", (json_int_t)sim->opts->job_jitter_ms,
                         "jobFailRate", atomic_load(&sim->job_fail_rate));
}

void cxw_sim_on_config_get(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        cxw_sim_answer_json(r, 200, config_json(sim));
}

/* Checks one /_sim/config value. @returns NULL if fine, else why not. */
static const char *config_check(const char *k, json_t *v)
{
        if (!strcmp(k, "errorRate") || !strcmp(k, "dropRate") ||
            !strcmp(k, "tokenFailRate") || !strcmp(k, "jobFailRate")) {
                if (!json_is_number(v) || json_number_value(v) < 0 ||
                    json_number_value(v) > 1)
                        return "must be a number from 0 to 1";
        } else if (!strcmp(k, "rateLimit")) {
                if (!json_is_number(v) || json_number_value(v) < 0 ||
                    json_number_value(v) > 1e9)
                        return "must be a number from 0 (off) to 1e9";
        } else if (!strcmp(k, "burst")) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                    json_integer_value(v) > 1000000000)
                        return "must be an integer from 1 to 1e9";
        } else if (!strcmp(k, "latencyMs") || !strcmp(k, "jobDurationMs")) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                    json_integer_value(v) > 3600000)
                        return "must be an integer from 0 to 3600000";
        } else {
                return "unknown setting";
        }
        return NULL;
}

/* POST /_sim/config: only the keys present change; all are checked first. */
void cxw_sim_on_config_set(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        char msg[160];
        json_t *body, *v;
        json_error_t jerr;
        const char *k;

        if (r->http->too_large) {
                cxw_sim_answer_error(r, 413, "body larger than 8 KiB");
                return;
        }
        body = json_loadb(r->http->body ? r->http->body : "", r->http->len,
                          JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(body)) {
                json_decref(body);
                cxw_sim_answer_error(r, 400, "body must be a JSON object");
                return;
        }
        json_object_foreach(body, k, v)
        {
                const char *why = config_check(k, v);
                if (why) {
                        snprintf(msg, sizeof(msg), "%.60s: %s", k, why);
                        cxw_sim_answer_error2(r, 400, msg, "field", k);
                        json_decref(body);
                        return;
                }
        }
        if ((v = json_object_get(body, "errorRate")))
                atomic_store(&sim->error_rate, json_number_value(v));
        if ((v = json_object_get(body, "dropRate")))
                atomic_store(&sim->drop_rate, json_number_value(v));
        if ((v = json_object_get(body, "tokenFailRate")))
                atomic_store(&sim->token_fail_rate, json_number_value(v));
        if ((v = json_object_get(body, "latencyMs")))
                atomic_store(&sim->latency_ms, (int64_t)json_integer_value(v));
        if ((v = json_object_get(body, "jobDurationMs")))
                atomic_store(&sim->job_duration_ms, (int64_t)json_integer_value(v));
        if ((v = json_object_get(body, "jobFailRate")))
                atomic_store(&sim->job_fail_rate, json_number_value(v));
        {
                json_t *rate = json_object_get(body, "rateLimit");
                json_t *burst = json_object_get(body, "burst");
                if (rate || burst)
                        cxw_sim_rate_set(sim, rate ? json_number_value(rate) : -1,
                                         burst ? (int64_t)json_integer_value(burst) : 0);
        }
        json_decref(body);
        CXW_INFO("sim", "runtime configuration changed");
        cxw_sim_answer_json(r, 200, config_json(sim));
}

void cxw_sim_on_reset(cxw_sim_t *sim, cxw_sim_req_t *r)
{
        cxw_sim_reset(sim);
        cxw_sim_answer_json(r, 200, json_pack("{s:b}", "reset", 1));
}

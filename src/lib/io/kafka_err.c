/* kafka_err.c: which produce errors no retry can mend (kafka.h). Apart from
 * kafka.c and kafka_{consumer,producer,reader}.c, which hold the clients, so that a fake
 * of the clients in the worker's unit tests uses this very classification. */
#include "cxone/io/kafka.h"

int cxw_kafka_err_permanent(rd_kafka_resp_err_t err)
{
        switch (err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: /* local check or broker */
        case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:   /* broker */
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:  /* the broker's validation */
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION: /* invalid topic name */
        case RD_KAFKA_RESP_ERR__INVALID_ARG:
                return 1;
        default:
                return 0;
        }
}

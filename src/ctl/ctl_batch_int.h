/* ctl_batch_int.h: what the parts of a batch share, private to
 * src/ctl/ctl_batch*.c:
 *   ctl_batch.c       the arguments, producing with delivery tracking, the
 *                     end of a batch
 *   ctl_batch_wait.c  --wait: the outcomes of exactly the produced requests
 *                     read back from the results topic, the summary and the
 *                     exit code */
#ifndef CXONE_CTL_BATCH_INT_H
#define CXONE_CTL_BATCH_INT_H

#include "ctl.h"

/* Assigns b->consumer to the current end of every results partition, so
 * that exactly the outcomes written from now on are read.
 * @returns 0, or -1 after printing why. */
int batch_wait_start(ctl_batch_t *b);

/* Follows the outcomes of b's acknowledged requests until all are in, the
 * --timeout passes or ctl_stop; prints the summary.
 * @returns the exit code (CTL_EXIT_*). */
int batch_wait_outcomes(ctl_batch_t *b);

#endif

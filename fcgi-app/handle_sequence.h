/*
 * handle_sequence: the Sequence Service API (API.md section 3): typed entities (int, long,
 * uuid8..uuid22), batches, status, list and types. int values are JSON numbers, long values JSON
 * strings, as the replaced service answered.
 */
#ifndef NEXTID_HANDLE_SEQUENCE_H
#define NEXTID_HANDLE_SEQUENCE_H

#include "exchange.h"

void handle_sequence_next_id(struct exchange *x);    /* /api/next-id/<e>?dataType= */
void handle_sequence_next_batch(struct exchange *x); /* /api/next-batch/<e>?dataType=&batchSize= */
void handle_sequence_status(struct exchange *x);     /* /api/status/<e> */
void handle_sequence_list(struct exchange *x);       /* /api/list?after=&limit= */
void handle_sequence_types(struct exchange *x);      /* /api/types */

#endif

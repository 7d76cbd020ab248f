/* handle_next: GET|POST /next/<name>, the TakeANumber API (API.md section 2). */
#ifndef NEXTID_HANDLE_NEXT_H
#define NEXTID_HANDLE_NEXT_H

#include "exchange.h"

/* Issue the next value of the named sequence (created on first use) as JSON or text. */
void handle_next_value(struct exchange *x);

#endif

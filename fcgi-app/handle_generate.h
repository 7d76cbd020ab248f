/* handle_generate: time-ordered 64-bit ids, the go-id API (API.md section 4). */
#ifndef NEXTID_HANDLE_GENERATE_H
#define NEXTID_HANDLE_GENERATE_H

#include "exchange.h"

void handle_generate(struct exchange *x);           /* /generate[?count=N][&format=string] */
void handle_generate_decompose(struct exchange *x); /* /generate/decompose/<id> */

#endif

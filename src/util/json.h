/* Writing JSON strings (escaped, UTF-8 passed through). */
#ifndef CLIPVK_JSON_H
#define CLIPVK_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included. */
void clipvk_json_write_string(FILE *f, const char *s);

#endif

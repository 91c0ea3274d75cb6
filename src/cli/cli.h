/* The clipvk command-line program: one function per command. */
#ifndef CLIPVK_CLI_H
#define CLIPVK_CLI_H

/* Exit codes: 0 success, 1 bad input or a failure while running, 2 bad usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cli_devices(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_tokenize(int argc, char **argv);

/* Prints "clipvk: <message>" to stderr; returns code. */
int cli_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif

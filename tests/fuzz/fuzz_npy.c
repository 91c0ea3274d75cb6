/* Fuzzes the .npy reader (cli_npy_parse: the magic, versions 1-3, the
 * header dict, dtype, shape and data size). */
#include "fuzz.h"
#include "cli/npy.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_npy a;
    cli_npy_error err;
    if (!cli_npy_parse("fuzz.npy", data, size, &a, &err)) {
        uint64_t count = 1;
        for (uint32_t i = 0; i < a.ndim; i++) count *= a.shape[i];
        if (count != a.count || !a.data) abort();
        /* Touch the last byte: the buffer must hold every element. */
        size_t bytes = (size_t)a.count * cli_npy_item_size(a.type);
        if (bytes) ((volatile uint8_t *)a.data)[bytes - 1];
        cli_npy_free(&a);
    }
    return 0;
}

/*
 * The libFuzzer entry point every target in tests/fuzz defines. Each target
 * is built twice: with -fsanitize=fuzzer (CLIPVK_FUZZ) as a fuzzer, and with
 * replay.c's main as fuzz_replay_<target>, which ctest runs over the target's
 * corpus and regression inputs in every build (normal and sanitizer).
 */
#ifndef CLIPVK_FUZZ_H
#define CLIPVK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

/* tests/fuzz/fuzz.h  The libFuzzer entry point every target defines */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0; a broken invariant calls abort() so libFuzzer keeps it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

/* Shared by the fuzz targets: a private scratch folder, files written
 * into it, and the check that stops a run on a broken property.
 *
 * Every target defines LLVMFuzzerTestOneInput(); libFuzzer drives it
 * (build/fuzz/), or tests/fuzz/replay.c runs it over files (the coverage
 * build, and gdb). */
#ifndef FB_FUZZ_H
#define FB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the code promises did not hold: report and crash, so that
 * libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: property failed: %s\n",        \
			        __FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* A folder of this process's own, made once (in /dev/shm when there is
 * one: the targets write a file per input) and removed at exit. */
const char *fuzz_dir(void);

/* Writes size bytes to fuzz_dir()/name; returns the path (static). */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (free it). */
char *fuzz_str(const uint8_t *data, size_t size);

#endif

/* Shared test helpers: temp dirs, files, and clocks for the pure core. */
#ifndef FB_TEST_HELPERS_H
#define FB_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* Creates a fresh temporary directory; returns its path (static buffer
 * per call site is the caller's business: copy it). Aborts on failure. */
void th_tempdir(char *out, size_t len);

/* Removes a directory tree made by th_tempdir(). */
void th_rmtree(const char *path);

/* Writes `text` to dir/name and returns the full path in out. */
void th_write_file(const char *dir, const char *name, const char *text,
                   char *out, size_t len);

/* A fake random source returning the values of `seq` in turn (cycling). */
typedef struct th_rng_seq {
	const uint64_t *seq;
	size_t n, i;
} th_rng_seq;
uint64_t th_rng_next(void *ctx);

/* The raw 64-bit value that fb's rng_unit() maps to `u` in [0, 1). */
uint64_t th_unit(double u);

#endif

/* Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c) and the plain
 * replayer that runs their committed corpus without clang (replay.c).
 *
 * A target feeds one input to a parser and then checks what the parser's
 * header promises about its output (strings terminated inside their arrays,
 * counts within their bounds, pointers into the input).  A broken promise
 * aborts, so libFuzzer and the replayer report it like a crash. */
#ifndef CRYO_TESTS_FUZZ_H
#define CRYO_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* The string fits its array: a NUL within sizeof(array). */
#define FUZZ_CHECK_STR(arr) FUZZ_CHECK(memchr((arr), '\0', sizeof(arr)) != NULL)

/* A heap copy of exactly size bytes, no terminator: for (text, len) readers,
 * so AddressSanitizer sees any read past len. */
static inline char *fuzz_dup(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	return s;
}

/* A NUL-terminated heap copy: the parsers that take C strings read up to the
 * first NUL, as they would in a file read by cryo_read_file_at(). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Call fn(line, len, ctx) for each '\n'-separated line of data (without the
 * newline; the last line may lack one). */
static inline void fuzz_each_line(const uint8_t *data, size_t size,
				  void (*fn)(const uint8_t *line, size_t len, void *ctx), void *ctx)
{
	if (!size)
		return;
	const uint8_t *p = data, *end = data + size;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		fn(p, n, ctx);
		p += n + (nl ? 1 : 0);
	}
}

#endif

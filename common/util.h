/*
 * util.h: allocation, growable buffers and key/value lists shared by every layer.
 *
 * Allocation failure aborts: the daemon cannot do anything useful without memory and
 * a half-handled NULL is worse than a clean stop.
 */
#ifndef SIGNPOST_UTIL_H
#define SIGNPOST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WUR __attribute__((warn_unused_result))
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Growable byte buffer, always NUL-terminated after data[len] once anything was added. */
struct sbuf {
	char *data;
	size_t len;
	size_t cap;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
void sbuf_reserve(struct sbuf *b, size_t extra);
void sbuf_add(struct sbuf *b, const void *data, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Returns the data (never NULL) and leaves b empty. */
char *sbuf_detach(struct sbuf *b);
/* data, or "" when nothing was added yet. */
const char *sbuf_str(const struct sbuf *b);

/* Ordered list of owned key/value strings (form fields, headers, query parameters). */
struct kv {
	char *key;
	char *value;
	size_t value_len;
};

struct kvlist {
	struct kv *items;
	size_t n;
	size_t cap;
};

void kvlist_init(struct kvlist *l);
void kvlist_free(struct kvlist *l);
void kvlist_add(struct kvlist *l, const char *key, const char *value);
void kvlist_addn(struct kvlist *l, const char *key, size_t klen, const char *value, size_t vlen);
/* First value for key (exact match), or NULL. */
const char *kvlist_get(const struct kvlist *l, const char *key);
/* First value for key compared without regard to ASCII case (HTTP header names). */
const char *kvlist_get_ci(const struct kvlist *l, const char *key);
/* Sort by key (byte order), then by value; stable for equal pairs. */
void kvlist_sort(struct kvlist *l);

/* Case-insensitive ASCII comparisons. */
bool str_ieq(const char *a, const char *b);
bool str_startswith(const char *s, const char *prefix);
/* Parse a whole string as a decimal integer within [min, max]. */
bool str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out) WUR;

/* Monotonic and wall clocks in milliseconds. */
int64_t clock_mono_ms(void);
int64_t clock_wall_ms(void);

#endif

/*
 * fuzz.h: a small seeded mutation fuzzer for the unit-test binaries test_fuzz*.c.
 *
 * Each target has seed inputs and a dictionary of tokens its parser cares about. Every
 * iteration takes a seed (or an earlier mutant), applies a few random mutations (bit
 * flips, byte insertion and deletion, dictionary splices, truncation, UTF-8 edge
 * sequences, NUL bytes, repeated chunks up to very long inputs) and hands the result to
 * the target, which checks invariants with CHECK. The generator is xorshift64*, so a run
 * is fully determined by its seed and iteration count.
 *
 * Command line (both binaries):
 *   test_fuzz [-n ITERATIONS] [-s SEED] [-t TARGET] [-v] [CORPUS_DIR]
 * -n iterations per target (default FUZZ_DEFAULT_ITERATIONS), -s the seed (a decimal
 * number; without -s, $SIGNPOST_TEST_SEED when set, else FUZZ_DEFAULT_SEED, so `make
 * test` tries the same inputs every time), -t runs only the targets whose name contains
 * TARGET, -v prints each input (hex) before running it, so the last line before a
 * sanitizer report is the input that caused it. Files in CORPUS_DIR/<target>/ are added
 * to that target's seeds, files directly in CORPUS_DIR to every target's. The first line
 * of output names the seed and where it came from. `-w DIR` writes each target's seeds to
 * DIR/<target>/ and its dictionary to DIR/<target>.dict (how tests/fuzz/corpus began).
 *
 * The same targets build as libFuzzer fuzzers (make fuzz, tests/fuzz/README.md): with
 * FUZZ_TARGET defined as a target's name, this header gives the binary libFuzzer's entry
 * points instead of the suite's main, and runs that one target on each input libFuzzer
 * makes. The target's random choices then come from a hash of the input, so an input
 * always takes the same path, and a failed CHECK aborts, which libFuzzer reports as a
 * crash and saves the input (SIGNPOST_FUZZ_BROKEN set in the environment fails every input,
 * to show that a run which finds something fails). A suite defines fuzz_suite_open,
 * fuzz_suite_targets and fuzz_suite_close for both ways of running.
 */
#ifndef SIGNPOST_FUZZ_H
#define SIGNPOST_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "tests/check.h"

#define FUZZ_DEFAULT_ITERATIONS 1500
#define FUZZ_DEFAULT_SEED 20260101ull
#define FUZZ_MAX_LEN (256u << 10)
#define FUZZ_POOL 64

struct fuzz_input {
	char *data;
	size_t len;
};

struct fuzz_target {
	const char *name;
	const char *const *seeds; /* NULL-terminated */
	const char *const *dict;  /* NULL-terminated, may be NULL */
	/* data[len] is always '\0'; data may also hold NULs. */
	void (*run)(const char *data, size_t len);
};

struct fuzz_opts {
	long iterations;
	uint64_t seed;
	const char *only;
	const char *corpus;
	const char *write_dir;
	bool verbose;
};

/* Defined by each suite: set-up, its targets, tear-down. */
static int fuzz_suite_open(void);
static size_t fuzz_suite_targets(const struct fuzz_target **targets);
static void fuzz_suite_close(void);

static uint64_t fuzz_state = 0x9e3779b97f4a7c15ull;
/* The target running, for a run function several targets share. */
static const struct fuzz_target *fuzz_current;

static inline uint64_t fuzz_rand(void)
{
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 0x2545f4914f6cdd1dull;
}

/* A number in [0, n); n > 0. */
static inline size_t fuzz_below(size_t n)
{
	return (size_t)(fuzz_rand() % n);
}

/* Byte sequences at the edges of UTF-8 and of what the parsers treat specially. */
static const char *const fuzz_utf8_edges[] = {
	"\xc0\x80",         /* overlong NUL */
	"\xc1\xbf",         /* overlong */
	"\xe0\x80\xaf",     /* overlong '/' */
	"\xed\xa0\x80",     /* a surrogate */
	"\xed\xbf\xbf",     /* a surrogate */
	"\xf4\x90\x80\x80", /* past U+10FFFF */
	"\xf4\x8f\xbf\xbf", /* U+10FFFF */
	"\xef\xbf\xbf",     /* U+FFFF */
	"\xef\xbb\xbf",     /* BOM */
	"\xef\xbf\xbd",     /* U+FFFD */
	"\x80",             /* lone continuation */
	"\xbf",
	"\xc3",             /* truncated two-byte sequence */
	"\xe2\x82",         /* truncated three-byte sequence */
	"\xf0\x9f\x98",     /* truncated four-byte sequence */
	"\xff",
	"\xfe",
	"\xf0\x9f\x98\x80", /* an emoji (surrogate pair in UTF-16) */
	"\xe2\x80\x8d",     /* zero-width joiner */
	"\xe2\x80\xa8",     /* line separator */
	"\xc2\xa0",         /* no-break space */
	"\xe2\x82\xac",     /* euro sign (GSM-7 extension) */
	"\x1b",             /* ESC */
	"\r\n",
	"\r",
	"\n",
	"\t",
	"\x7f",
};

static inline void fuzz_insert(struct sbuf *b, size_t at, const char *s, size_t n)
{
	if (b->len + n > FUZZ_MAX_LEN)
		return;
	sbuf_reserve(b, n);
	memmove(b->data + at + n, b->data + at, b->len - at);
	memcpy(b->data + at, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void fuzz_delete(struct sbuf *b, size_t at, size_t n)
{
	n = MIN(n, b->len - at);
	memmove(b->data + at, b->data + at + n, b->len - at - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

static inline size_t fuzz_count(const char *const *list)
{
	size_t n = 0;
	while (list && list[n])
		n++;
	return n;
}

/* One random change to b. */
static inline void fuzz_mutate_once(struct sbuf *b, const struct fuzz_target *t,
				    const struct fuzz_input *pool, size_t npool)
{
	size_t ndict = fuzz_count(t->dict);
	size_t at = b->len ? fuzz_below(b->len + 1) : 0;
	char c;

	switch (fuzz_below(11)) {
	case 0: /* flip a bit */
		if (b->len)
			b->data[fuzz_below(b->len)] ^= (char)(1u << fuzz_below(8));
		break;
	case 1: /* overwrite a byte with a random one */
		if (b->len)
			b->data[fuzz_below(b->len)] = (char)fuzz_rand();
		break;
	case 2: /* insert a random byte */
		c = (char)fuzz_rand();
		fuzz_insert(b, at, &c, 1);
		break;
	case 3: /* delete a run */
		if (b->len)
			fuzz_delete(b, fuzz_below(b->len), 1 + fuzz_below(8));
		break;
	case 4: /* splice a dictionary token */
	case 5:
		if (ndict) {
			const char *tok = t->dict[fuzz_below(ndict)];
			fuzz_insert(b, at, tok, strlen(tok));
		}
		break;
	case 6: /* truncate */
		if (b->len)
			fuzz_delete(b, fuzz_below(b->len), b->len);
		break;
	case 7: { /* a UTF-8 edge sequence */
		const char *e = fuzz_utf8_edges[fuzz_below(ARRAY_LEN(fuzz_utf8_edges))];
		fuzz_insert(b, at, e, strlen(e));
		break;
	}
	case 8: /* a NUL byte */
		fuzz_insert(b, at, "", 1);
		break;
	case 9: { /* repeat a chunk, sometimes into a very long input */
		if (!b->len || b->len >= FUZZ_MAX_LEN)
			break;
		size_t from = fuzz_below(b->len), n = 1 + fuzz_below(MIN(b->len - from, 64));
		size_t times = fuzz_below(16) == 0 ? 2000 + fuzz_below(8000) : 1 + fuzz_below(8);
		times = MIN(times, (FUZZ_MAX_LEN - b->len) / n);
		char *chunk = xmalloc(n * times + 1);
		for (size_t i = 0; i < times; i++)
			memcpy(chunk + i * n, b->data + from, n);
		fuzz_insert(b, from, chunk, n * times);
		free(chunk);
		break;
	}
	case 10: { /* splice in part of another input */
		const struct fuzz_input *o = &pool[fuzz_below(npool)];
		if (o->len) {
			size_t from = fuzz_below(o->len);
			fuzz_insert(b, at, o->data + from, 1 + fuzz_below(o->len - from));
		}
		break;
	}
	}
}

static inline void fuzz_pool_add(struct fuzz_input *pool, size_t *npool, const char *data,
				 size_t len)
{
	size_t i;

	if (*npool < FUZZ_POOL) {
		i = (*npool)++;
	} else {
		i = fuzz_below(FUZZ_POOL);
		free(pool[i].data);
	}
	pool[i].data = xstrndup(data, len);
	pool[i].len = len;
}

static inline void fuzz_print_hex(const char *name, long iter, const char *data, size_t len)
{
	fprintf(stderr, "fuzz %s #%ld ", name, iter);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%02x", (unsigned char)data[i]);
	fputc('\n', stderr);
}

static inline void fuzz_corpus_dir(const char *dir, struct fuzz_input *seeds, size_t *nseeds,
				   size_t max)
{
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d)) && *nseeds < max) {
		char *path = xasprintf("%s/%s", dir, e->d_name);
		FILE *f = e->d_name[0] != '.' ? fopen(path, "rb") : NULL;
		struct sbuf b;
		char chunk[4096];
		size_t n;

		sbuf_init(&b);
		while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < FUZZ_MAX_LEN)
			sbuf_add(&b, chunk, n);
		if (f && !ferror(f)) {
			seeds[*nseeds].len = b.len;
			seeds[(*nseeds)++].data = sbuf_detach(&b);
		}
		if (f)
			fclose(f);
		sbuf_free(&b);
		free(path);
	}
	if (d)
		closedir(d);
}

static inline void fuzz_run_target(const struct fuzz_target *t, const struct fuzz_opts *o)
{
	struct fuzz_input pool[FUZZ_POOL], extra[256];
	size_t npool = 0, nextra = 0, nseeds = fuzz_count(t->seeds);
	int before = check_failures;
	struct sbuf b;

	if (o->corpus) {
		char *sub = xasprintf("%s/%s", o->corpus, t->name);
		fuzz_corpus_dir(sub, extra, &nextra, ARRAY_LEN(extra));
		fuzz_corpus_dir(o->corpus, extra, &nextra, ARRAY_LEN(extra));
		free(sub);
	}
	fuzz_state = o->seed ^ (uint64_t)strlen(t->name) * 0x100000001b3ull;
	for (const char *p = t->name; *p; p++)
		fuzz_state = (fuzz_state ^ (unsigned char)*p) * 0x100000001b3ull;
	if (!fuzz_state)
		fuzz_state = 1;
	for (size_t i = 0; i < nseeds; i++)
		fuzz_pool_add(pool, &npool, t->seeds[i], strlen(t->seeds[i]));
	for (size_t i = 0; i < nextra; i++)
		fuzz_pool_add(pool, &npool, extra[i].data, extra[i].len);
	if (!npool)
		fuzz_pool_add(pool, &npool, "", 0);
	sbuf_init(&b);
	/* The seeds as they are first, then mutants. */
	for (long i = 0; i < (long)npool + o->iterations; i++) {
		const struct fuzz_input *src = &pool[i < (long)npool ? (size_t)i : fuzz_below(npool)];
		sbuf_reset(&b);
		sbuf_add(&b, src->data, src->len);
		for (size_t m = i < (long)npool ? 0 : 1 + fuzz_below(4); m > 0; m--)
			fuzz_mutate_once(&b, t, pool, npool);
		if (o->verbose)
			fuzz_print_hex(t->name, i, b.data, b.len);
		int failures = check_failures;
		fuzz_current = t;
		t->run(b.data, b.len);
		if (check_failures != failures) {
			fuzz_print_hex(t->name, i, b.data, b.len);
			break;
		}
		if (i >= (long)npool && fuzz_below(8) == 0 && b.len < 8192)
			fuzz_pool_add(pool, &npool, b.data, b.len);
	}
	if (check_failures != before)
		fprintf(stderr, "FAIL fuzz %s (seed %llu: -s %llu -t %s -n %ld runs it again)\n",
			t->name, (unsigned long long)o->seed, (unsigned long long)o->seed, t->name,
			o->iterations);
	sbuf_free(&b);
	for (size_t i = 0; i < npool; i++)
		free(pool[i].data);
	for (size_t i = 0; i < nextra; i++)
		free(extra[i].data);
}

/* A seed written as a decimal number and nothing else. */
static inline bool fuzz_parse_seed(const char *s, uint64_t *seed)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*seed = v;
	return true;
}

/* A dictionary entry as libFuzzer reads it: "text" with \\, \" and \xNN escapes. */
static inline void fuzz_write_dict_entry(FILE *f, const char *tok)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)tok; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 32 || *p > 126)
			fprintf(f, "\\x%02X", *p);
		else
			fputc(*p, f);
	}
	fputs("\"\n", f);
}

/* Writes the target's seeds to dir/<target>/seed-N and its dictionary to dir/<target>.dict. */
static inline int fuzz_write_seeds(const struct fuzz_target *t, const char *dir)
{
	char *sub = xasprintf("%s/%s", dir, t->name), *path;
	int rc = 0;
	FILE *f;

	if (mkdir(sub, 0755) < 0 && errno != EEXIST)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < fuzz_count(t->seeds); i++) {
		path = xasprintf("%s/seed-%zu", sub, i + 1);
		f = fopen(path, "wb");
		size_t n = strlen(t->seeds[i]);
		if (!f || fwrite(t->seeds[i], 1, n, f) != n)
			rc = -1;
		if (f && fclose(f) != 0)
			rc = -1;
		free(path);
	}
	if (rc == 0 && t->dict) {
		path = xasprintf("%s/%s.dict", dir, t->name);
		f = fopen(path, "w");
		for (size_t i = 0; f && t->dict[i]; i++)
			fuzz_write_dict_entry(f, t->dict[i]);
		if (!f || fclose(f) != 0)
			rc = -1;
		free(path);
	}
	if (rc < 0)
		fprintf(stderr, "cannot write the seeds of %s to %s: %s\n", t->name, sub,
			strerror(errno));
	free(sub);
	return rc;
}

static inline int fuzz_main(int argc, char **argv, const struct fuzz_target *targets,
			    size_t ntargets, const char *suite)
{
	struct fuzz_opts o = { FUZZ_DEFAULT_ITERATIONS, FUZZ_DEFAULT_SEED, NULL, NULL, NULL,
			       false };
	const char *env = getenv("SIGNPOST_TEST_SEED"), *from = "the default";

	if (env && *env) {
		if (!fuzz_parse_seed(env, &o.seed)) {
			fprintf(stderr, "%s: SIGNPOST_TEST_SEED must be a decimal number, not \"%s\"\n",
				argv[0], env);
			return 2;
		}
		from = "SIGNPOST_TEST_SEED";
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			o.iterations = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc &&
			 fuzz_parse_seed(argv[i + 1], &o.seed))
			from = argv[i++];
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			o.only = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			o.verbose = true;
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			o.write_dir = argv[++i];
		else if (argv[i][0] != '-')
			o.corpus = argv[i];
		else {
			fprintf(stderr, "usage: %s [-n ITERATIONS] [-s SEED] [-t TARGET] [-v] "
				"[-w DIR] [CORPUS_DIR]\n", argv[0]);
			return 2;
		}
	}
	if (o.write_dir) {
		int rc = 0;
		for (size_t i = 0; i < ntargets; i++)
			if (!o.only || strstr(targets[i].name, o.only))
				rc |= fuzz_write_seeds(&targets[i], o.write_dir);
		return rc ? 1 : 0;
	}
	printf("%s: seed %llu (%s), %ld inputs per target\n", suite, (unsigned long long)o.seed,
	       from, o.iterations);
	fflush(stdout);
	for (size_t i = 0; i < ntargets; i++)
		if (!o.only || strstr(targets[i].name, o.only))
			fuzz_run_target(&targets[i], &o);
	return check_summary(suite);
}

#ifdef FUZZ_TARGET
/* ---- libFuzzer: one target, FUZZ_TARGET, per binary ---- */

static const struct fuzz_target *fuzz_libfuzzer_target;
static bool fuzz_libfuzzer_broken; /* SIGNPOST_FUZZ_BROKEN: fail every input (self-check) */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct fuzz_target *targets;
	size_t n;

	(void)argc, (void)argv;
	if (fuzz_suite_open() < 0)
		abort();
	n = fuzz_suite_targets(&targets);
	for (size_t i = 0; i < n; i++)
		if (strcmp(targets[i].name, FUZZ_TARGET) == 0)
			fuzz_libfuzzer_target = &targets[i];
	if (!fuzz_libfuzzer_target) {
		fprintf(stderr, "no fuzz target named %s\n", FUZZ_TARGET);
		abort();
	}
	fuzz_libfuzzer_broken = getenv("SIGNPOST_FUZZ_BROKEN") != NULL;
	/* The suite stays open: libFuzzer ends the process with exit(). */
	atexit(fuzz_suite_close);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = xmalloc(size + 1);
	int before = check_failures;

	memcpy(copy, data, size);
	copy[size] = '\0';
	/* The target's random choices follow from the input (FNV-1a of it). */
	fuzz_state = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < size; i++)
		fuzz_state = (fuzz_state ^ data[i]) * 0x100000001b3ull;
	if (!fuzz_state)
		fuzz_state = 1;
	fuzz_current = fuzz_libfuzzer_target;
	fuzz_libfuzzer_target->run(copy, size);
	CHECK(!fuzz_libfuzzer_broken);
	free(copy);
	if (check_failures != before) {
		fprintf(stderr, "fuzz %s: a check failed on this input\n", FUZZ_TARGET);
		abort();
	}
	return 0;
}
#endif

/* Helpers for invariants. */
static inline bool fuzz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* ---- structural JSON mutation, for validators whose input parses ---- */

#include <json-c/json.h>

/* A value of a random type, some of them hostile. */
static inline struct json_object *fuzz_json_value(void)
{
	static const char bad_utf8[] = "ab\xc3(\xed\xa0\x80z";
	struct json_object *a;

	switch (fuzz_below(16)) {
	case 0: return NULL; /* JSON null */
	case 1: return json_object_new_boolean(fuzz_below(2));
	case 2: return json_object_new_int64((int64_t)fuzz_rand());
	case 3: return json_object_new_int64(fuzz_below(2) ? INT64_MAX : INT64_MIN);
	case 4: return json_object_new_int64((int64_t)fuzz_below(5) - 1);
	case 5: return json_object_new_double(fuzz_below(2) ? 1e308 : -0.5);
	case 6: return json_object_new_double(__builtin_nan(""));
	case 7: return json_object_new_string("");
	case 8: return json_object_new_string_len("a\0b", 3);
	case 9: return json_object_new_string_len(bad_utf8, sizeof(bad_utf8) - 1);
	case 10: {
		size_t n = fuzz_below(2) ? 300 : 100000;
		char *s = xmalloc(n);
		memset(s, 'x', n);
		a = json_object_new_string_len(s, (int)n);
		free(s);
		return a;
	}
	case 11: return json_object_new_array();
	case 12: return json_object_new_object();
	case 13:
		a = json_object_new_array();
		for (size_t i = 0, n = fuzz_below(2) ? 3 : 5000; i < n; i++)
			json_object_array_add(a, json_object_new_string("x"));
		return a;
	case 14:
		a = json_object_new_array();
		for (int i = 0; i < 60; i++) {
			struct json_object *outer = json_object_new_array();
			json_object_array_add(outer, a);
			a = outer;
		}
		return a;
	default:
		return json_object_new_string(fuzz_below(2) ? "STOP" : "{first_name}");
	}
}

struct fuzz_json_slot {
	struct json_object *parent;
	const char *key; /* NULL for an array element */
	size_t idx;
};

static inline void fuzz_json_slots(struct json_object *o, struct fuzz_json_slot *slots,
				   size_t *n, size_t max, int depth)
{
	if (depth > 20)
		return;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			if (*n < max)
				slots[(*n)++] = (struct fuzz_json_slot){ o, k, 0 };
			fuzz_json_slots(v, slots, n, max, depth + 1);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o) && i < 64; i++) {
			if (*n < max)
				slots[(*n)++] = (struct fuzz_json_slot){ o, NULL, i };
			fuzz_json_slots(json_object_array_get_idx(o, i), slots, n, max, depth + 1);
		}
	}
}

/* Changes one value of a parsed document: a new type, a deleted or an unknown key. */
static inline void fuzz_json_mutate(struct json_object *root)
{
	struct fuzz_json_slot slots[512];
	size_t n = 0;

	fuzz_json_slots(root, slots, &n, ARRAY_LEN(slots), 0);
	if (!n)
		return;
	struct fuzz_json_slot *s = &slots[fuzz_below(n)];
	if (!s->key) {
		json_object_array_put_idx(s->parent, s->idx, fuzz_json_value());
		return;
	}
	switch (fuzz_below(6)) {
	case 0:
		json_object_object_del(s->parent, s->key);
		break;
	case 1:
		json_object_object_add(s->parent, fuzz_below(2) ? "unknown_key" : "",
				       fuzz_json_value());
		break;
	default: {
		char *key = xstrdup(s->key);
		json_object_object_add(s->parent, key, fuzz_json_value());
		free(key);
		break;
	}
	}
}

/*
 * The document a JSON target checks: data parsed as JSON and, for half the inputs that
 * parse, mutated structurally a few times. NULL when data is not JSON.
 */
static inline struct json_object *fuzz_json_doc(const char *data, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, data, (int)len);

	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	for (size_t m = o && fuzz_below(2) ? 1 + fuzz_below(3) : 0; m > 0; m--)
		fuzz_json_mutate(o);
	return o;
}

#endif

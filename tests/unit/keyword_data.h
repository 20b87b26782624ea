/*
 * keyword_data.h: the shipped built-in words and keyword set, read from data/ for unit
 * tests run from the repository root, and the escapes of the tests' tables.
 */
#ifndef SIGNPOST_TEST_KEYWORD_DATA_H
#define SIGNPOST_TEST_KEYWORD_DATA_H

#include <stdio.h>
#include <string.h>

#include "triage/keyword.h"

#define KEYWORD_DATA_BASE "data/builtin-words.json"
#define KEYWORD_DATA_SET "data/keywords.json"

/* The built-in words, or NULL with the reason on stderr. */
static inline struct keyword_base *keyword_data_base(void)
{
	struct json_object *o = json_object_from_file(KEYWORD_DATA_BASE);
	struct sbuf err;
	struct keyword_base *b;

	sbuf_init(&err);
	b = o ? keyword_base_from_json(o, &err) : NULL;
	if (!b)
		fprintf(stderr, "cannot load %s (run from the repository root): %s\n",
			KEYWORD_DATA_BASE, sbuf_str(&err));
	json_object_put(o);
	sbuf_free(&err);
	return b;
}

/* The shipped keyword set on base, or NULL with the reason on stderr. */
static inline struct keyword_set *keyword_data_set(const struct keyword_base *base)
{
	struct json_object *o = json_object_from_file(KEYWORD_DATA_SET);
	struct sbuf err;
	struct keyword_set *set;

	sbuf_init(&err);
	set = o && base ? keyword_set_from_json(base, o, &err) : NULL;
	if (!set)
		fprintf(stderr, "cannot load %s (run from the repository root): %s\n",
			KEYWORD_DATA_SET, sbuf_str(&err));
	json_object_put(o);
	sbuf_free(&err);
	return set;
}

/*
 * Calls row(line, lineno, arg) for each row of a tests' table at path (lines starting with
 * # and empty lines are not rows); a row it finds malformed (-1) is reported on stderr.
 * Returns the number of rows, or -1 when the file cannot be read; *malformed counts the
 * malformed rows.
 */
static inline int keyword_data_rows(const char *path, int (*row)(char *line, int lineno, void *arg),
				    void *arg, int *malformed)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int lineno = 0, rows = 0;

	*malformed = 0;
	if (!f) {
		fprintf(stderr, "cannot read %s (run from the repository root)\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		rows++;
		if (row(line, lineno, arg) < 0) {
			fprintf(stderr, "%s:%d: malformed row\n", path, lineno);
			(*malformed)++;
		}
	}
	fclose(f);
	return rows;
}

/* Undoes the \t, \n and \\ escapes of the tests' tables in place. */
static inline void keyword_data_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && (s[1] == 't' || s[1] == 'n' || s[1] == '\\')) {
			s++;
			*o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : '\\';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

#endif

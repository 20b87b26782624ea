/*
 * csv.h: a streaming RFC 4180 CSV reader, and the one writer of CSV cells.
 *
 * Reading: bytes go in as they arrive; each complete record comes out through a callback
 * with the physical line it started on, so errors can point officers at the right line of
 * their file. Lines end with LF, CRLF or a bare CR; a NUL byte makes its record an error.
 *
 * Writing: every CSV the daemon serves is made of csv_cell()s, which keep a spreadsheet
 * from running what a tenant, partner or provider wrote as a formula.
 */
#ifndef SIGNPOST_CSV_H
#define SIGNPOST_CSV_H

#include "common/util.h"

#define CSV_MAX_FIELD 10000
#define CSV_MAX_FIELDS 64

/* error is NULL for a good record; fields are valid only during the call. */
typedef void csv_record_cb(void *arg, size_t line, char **fields, size_t n, const char *error);

struct csv_parser {
	struct sbuf field;
	char *fields[CSV_MAX_FIELDS];
	size_t nfields;
	size_t line;        /* current physical line, 1-based */
	size_t record_line; /* line the current record started on */
	const char *error;  /* the current record is bad; skip to its end */
	bool in_quotes;
	bool after_quote;   /* just read a closing quote (or the first of a "" pair) */
	bool field_started; /* the current record has begun */
	bool paused;        /* set by the callback through csv_pause: stop after this record */
	bool last_cr;       /* the byte before was a CR: an LF now is its pair */
	bool bom_checked;
	unsigned char bom[3];
	size_t bom_len;
	csv_record_cb *cb;
	void *arg;
};

void csv_init(struct csv_parser *p, csv_record_cb *cb, void *arg);
/* Returns how many bytes were consumed: fewer than len when a callback paused. */
size_t csv_feed(struct csv_parser *p, const char *data, size_t len);
/* From a callback: stop feeding after the current record until csv_resume. */
void csv_pause(struct csv_parser *p);
void csv_resume(struct csv_parser *p);
/* Ends the input: flushes a last record without a newline. */
void csv_finish(struct csv_parser *p);
void csv_free(struct csv_parser *p);

/*
 * Appends s (NULL: nothing) as one cell: in double quotes when it holds a comma, a quote,
 * CR or LF, quotes doubled. A cell that starts with =, +, -, @, tab or CR, which a
 * spreadsheet may take for a formula, is prefixed with ' (OWASP's advice on CSV
 * injection), unless it is a plain number such as "-3", "0.5" or "+447700900123", which
 * no spreadsheet runs.
 */
void csv_cell(struct sbuf *out, const char *s);

#endif

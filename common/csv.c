#include "common/csv.h"

#include <stdlib.h>
#include <string.h>

void csv_init(struct csv_parser *p, csv_record_cb *cb, void *arg)
{
	memset(p, 0, sizeof(*p));
	sbuf_init(&p->field);
	p->line = 1;
	p->record_line = 1;
	p->cb = cb;
	p->arg = arg;
}

static void csv_clear_fields(struct csv_parser *p)
{
	for (size_t i = 0; i < p->nfields; i++)
		free(p->fields[i]);
	p->nfields = 0;
}

void csv_free(struct csv_parser *p)
{
	csv_clear_fields(p);
	sbuf_free(&p->field);
}

static void csv_end_field(struct csv_parser *p)
{
	if (!p->error && p->nfields == CSV_MAX_FIELDS)
		p->error = "too many fields";
	if (!p->error)
		p->fields[p->nfields++] = xstrndup(sbuf_str(&p->field), p->field.len);
	sbuf_reset(&p->field);
	p->after_quote = false;
}

static void csv_end_record(struct csv_parser *p)
{
	bool blank = p->nfields == 0 && p->field.len == 0 && !p->after_quote && !p->error;

	if (!blank) {
		csv_end_field(p);
		p->cb(p->arg, p->record_line, p->fields, p->nfields, p->error);
	}
	csv_clear_fields(p);
	sbuf_reset(&p->field);
	p->error = NULL;
	p->field_started = false;
	p->after_quote = false;
	p->record_line = p->line;
}

static void csv_add_char(struct csv_parser *p, char c)
{
	if (p->error)
		return;
	if (c == '\0') {
		p->error = "a field contains a NUL byte (is this a CSV text file?)";
		return;
	}
	if (p->field.len >= CSV_MAX_FIELD) {
		p->error = "a field is longer than 10000 characters";
		return;
	}
	sbuf_addc(&p->field, c);
}

static void csv_quoted(struct csv_parser *p, char c)
{
	if (p->after_quote) {
		p->after_quote = false;
		if (c == '"') { /* an escaped quote */
			csv_add_char(p, '"');
			return;
		}
		p->in_quotes = false;
		p->after_quote = true; /* the field is closed; c is handled as unquoted */
		return;
	}
	if (c == '"')
		p->after_quote = true;
	else
		csv_add_char(p, c);
}

static void csv_byte(struct csv_parser *p, char c)
{
	if (p->in_quotes) {
		csv_quoted(p, c);
		if (p->in_quotes || !p->after_quote)
			return;
		/* fall through to handle c after a closing quote */
	}
	if (c == ',') {
		csv_end_field(p);
	} else if (c == '\n') {
		if (!p->last_cr) /* else the LF of a CRLF */
			csv_end_record(p);
	} else if (c == '\r') {
		csv_end_record(p);
	} else if (c == '"' && p->field.len == 0 && !p->after_quote) {
		p->in_quotes = true;
	} else {
		if (p->after_quote && !p->error)
			p->error = "text after a closing quote (a quote inside a field must be doubled)";
		csv_add_char(p, c);
	}
	p->field_started = true;
}

void csv_pause(struct csv_parser *p)
{
	p->paused = true;
}

void csv_resume(struct csv_parser *p)
{
	p->paused = false;
}

/* One byte with line counting; true when a line ended. */
static bool csv_step(struct csv_parser *p, char c)
{
	bool newline = c == '\r' || (c == '\n' && !p->last_cr);

	csv_byte(p, c);
	p->last_cr = c == '\r';
	if (newline) {
		p->line++;
		if (!p->in_quotes)
			p->record_line = p->line;
	}
	return newline;
}

/* Bytes held back while they could still be a byte-order mark. */
static void csv_flush_bom(struct csv_parser *p)
{
	p->bom_checked = true;
	for (size_t j = 0; j < p->bom_len; j++)
		csv_step(p, (char)p->bom[j]);
}

size_t csv_feed(struct csv_parser *p, const char *data, size_t len)
{
	static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

	for (size_t i = 0; i < len; i++) {
		if (!p->bom_checked) {
			p->bom[p->bom_len++] = (unsigned char)data[i];
			if (p->bom_len < 3 && p->bom[p->bom_len - 1] == bom[p->bom_len - 1])
				continue;
			if (p->bom_len == 3 && memcmp(p->bom, bom, 3) == 0)
				p->bom_checked = true;
			else
				csv_flush_bom(p);
			continue;
		}
		if (csv_step(p, data[i]) && p->paused)
			return i + 1;
	}
	return len;
}

void csv_finish(struct csv_parser *p)
{
	if (!p->bom_checked)
		csv_flush_bom(p);
	if (p->in_quotes && !p->after_quote && !p->error)
		p->error = "a quoted field is not closed";
	if (p->in_quotes && p->after_quote)
		p->in_quotes = false;
	if (p->field_started || p->nfields || p->field.len || p->error)
		csv_end_record(p);
}

/* + or -, digits and maybe a fraction: a number, which no spreadsheet runs. */
static bool csv_plain_number(const char *s)
{
	size_t n = strspn(s + 1, "0123456789");

	if ((s[0] != '+' && s[0] != '-') || n == 0)
		return false;
	s += 1 + n;
	if (*s == '.' && s[1])
		s += 1 + strspn(s + 1, "0123456789");
	return *s == '\0';
}

void csv_cell(struct sbuf *out, const char *s)
{
	bool quote;

	if (!s)
		return;
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		sbuf_addc(out, '"');
	if (s[0] && strchr("=+-@\t\r", s[0]) && !csv_plain_number(s))
		sbuf_addc(out, '\'');
	for (; *s; s++) {
		if (*s == '"')
			sbuf_addc(out, '"');
		sbuf_addc(out, *s);
	}
	if (quote)
		sbuf_addc(out, '"');
}

/*
 * template.h: campaign text templates with {field} and {field|fallback} placeholders.
 *
 * "{{" and "}}" stand for literal braces. A placeholder's value is the tenant's field; when
 * that is empty or missing the fallback is used, and with no fallback the placeholder
 * renders as nothing.
 *
 * Names are [a-z_][a-z0-9_]*, written exactly: spaces inside the braces ("{ first_name }")
 * and capitals are errors, not silently fixed, so what an officer sees is what is sent. A
 * fallback is everything between '|' and '}' as written, spaces included; it may hold any
 * text except braces and '|'. Positions in messages count characters from 1.
 */
#ifndef SIGNPOST_TEMPLATE_H
#define SIGNPOST_TEMPLATE_H

#include "common/util.h"

struct template_field {
	const char *name;
	const char *value; /* NULL or "" means empty */
};

/*
 * Checks syntax and that every placeholder names one of known[0..nknown). On failure
 * writes a sentence naming the problem ("unknown placeholder {frist_name}; known
 * placeholders are ...", "unclosed '{' at character 12") to err and returns -1.
 */
int template_validate(const char *tmpl, const char *const *known, size_t nknown,
		      struct sbuf *err) WUR;

/* Appends the rendered text to out. The template must have passed template_validate. */
void template_render(const char *tmpl, const struct template_field *fields, size_t nfields,
		     struct sbuf *out);

#endif

/*
 * template.h: campaign text templates with {field} and {field|fallback} placeholders.
 *
 * "{{" and "}}" stand for literal braces. A placeholder's value is the tenant's field; when
 * that is empty or missing the fallback is used, and with no fallback the placeholder
 * renders as nothing.
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

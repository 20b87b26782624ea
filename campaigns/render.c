/*
 * render.c: one tenant's campaign text, and the checks on a text's sender.
 */
#include "campaigns/render.h"

#include <string.h>
#include <strings.h>

#include "campaigns/template.h"

const char *const render_field_names[RENDER_NFIELDS] = { "first_name", "borough", "landlord" };

void render_text(const char *tmpl, const struct render_tenant *t, bool smart, struct sbuf *out,
		 struct gsm_info *gi)
{
	struct template_field fields[RENDER_NFIELDS];
	struct sbuf raw;
	size_t start = out->len;

	for (size_t i = 0; i < RENDER_NFIELDS; i++) {
		fields[i].name = render_field_names[i];
		fields[i].value = t ? t->fields[i] : NULL;
	}
	if (!smart) {
		template_render(tmpl ? tmpl : "", fields, RENDER_NFIELDS, out);
	} else {
		sbuf_init(&raw);
		template_render(tmpl ? tmpl : "", fields, RENDER_NFIELDS, &raw);
		gsm_smart_replace(out, sbuf_str(&raw), raw.len);
		sbuf_free(&raw);
	}
	gsm_analyze(sbuf_str(out) + start, out->len - start, gi);
}

static bool render_word_is_upper(const char *w)
{
	bool letter = false;

	for (; *w; w++) {
		if (*w >= 'a' && *w <= 'z')
			return false;
		letter = letter || (*w >= 'A' && *w <= 'Z');
	}
	return letter;
}

static bool render_set_has(const struct keyword_set *set, const char *word)
{
	for (size_t i = 0; set && i < keyword_set_count(set); i++) {
		const struct keyword *k = keyword_set_get(set, i);
		if (strcmp(k->word, word) == 0)
			return true;
		for (size_t j = 0; j < k->naliases; j++)
			if (strcmp(k->aliases[j], word) == 0)
				return true;
	}
	return false;
}

/* A word asks for a reply: "reply" in any case, or a keyword written in capitals. */
static bool render_word_invites(const char *word, const struct keyword_set *set)
{
	if (strcasecmp(word, "reply") == 0)
		return true;
	if (!render_word_is_upper(word))
		return false;
	return keyword_builtin(word) != NULL || render_set_has(set, word);
}

static bool render_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (unsigned char)c >= 0x80;
}

bool render_invites_reply(const char *tmpl, const struct keyword_set *set)
{
	struct sbuf word;
	bool found = false;

	sbuf_init(&word);
	for (const char *p = tmpl ? tmpl : ""; !found; p++) {
		if (*p && render_word_char(*p)) {
			sbuf_addc(&word, *p);
			continue;
		}
		found = word.len && render_word_invites(sbuf_str(&word), set);
		sbuf_reset(&word);
		if (!*p)
			break;
	}
	sbuf_free(&word);
	return found;
}

bool render_sender_is_alpha(const char *from)
{
	if (!from || !*from)
		return false;
	for (const char *p = from[0] == '+' ? from + 1 : from; *p; p++)
		if (!(*p >= '0' && *p <= '9') && *p != ' ')
			return true;
	return false;
}

/*
 * render.h: one tenant's campaign text, exactly as it will be sent.
 *
 * The preview and the dispatcher both call render_text, so the figures an officer sees
 * before scheduling (encoding, segments, cost) are those of the texts that go out.
 */
#ifndef SIGNPOST_RENDER_H
#define SIGNPOST_RENDER_H

#include "common/util.h"
#include "sms/gsm.h"
#include "triage/keyword.h"

/* The tenant fields a campaign text may use as {placeholders}, in this order. */
enum render_field {
	RENDER_FIRST_NAME,
	RENDER_BOROUGH,
	RENDER_LANDLORD,
	RENDER_NFIELDS
};

extern const char *const render_field_names[RENDER_NFIELDS];

/* A tenant's values, indexed by enum render_field; NULL or "" is empty. */
struct render_tenant {
	const char *fields[RENDER_NFIELDS];
};

/*
 * Appends the text for one tenant to out: the template (which passed template_validate
 * with render_field_names) with placeholders filled, then look-alikes replaced when smart
 * is true. gi receives the encoding and segments of what was appended.
 */
void render_text(const char *tmpl, const struct render_tenant *t, bool smart, struct sbuf *out,
		 struct gsm_info *gi);

/*
 * Whether a campaign text asks for replies: it contains the word "reply" (any case) or
 * one of the set's keyword words or the built-in opt-out and opt-in words (STOP, START) as
 * a word. Such a text needs a sender that can receive replies (a phone number).
 */
bool render_invites_reply(const char *tmpl, const struct keyword_set *set);

/* Whether a provider's sender ("from") is alphanumeric rather than a phone number or short code. */
bool render_sender_is_alpha(const char *from);

#endif

/*
 * rules.h: the keyword set and the triage flows, the rules inbound texts are read by.
 *
 * The shipped ones (data/) are loaded at start-up and stored in PostgreSQL the first time;
 * from then on the stored ones are what counts, since admins change them through the API
 * (PUT /v1/keywords, PUT /v1/flows/{name}). Every daemon keeps copies in app->keywords and
 * app->flows and reloads them, each second at most, when what is stored has changed, so a
 * change on one daemon reaches the others within a second.
 */
#ifndef SIGNPOST_RULES_H
#define SIGNPOST_RULES_H

#include "gateway/app.h"

/* Loads the shipped flows into app->flows; NULL with a message in err when they are bad. */
struct rules *rules_new(struct app *app, struct sbuf *err) WUR;
/* Frees app->flows too. */
void rules_free(struct rules *r);
/* Stores the shipped rules once, then reloads what is stored when it changed. */
void rules_tick(struct app *app);
/* Whether the rules are in the database (texts and requests wait until they are). */
bool rules_ready(const struct rules *r);
bool rules_idle(const struct rules *r);

#endif

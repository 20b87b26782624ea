/*
 * sim_server.h: the built-in provider simulator, the far side of the "sim" adapter.
 *
 * It answers POST /sim/messages like a provider (the JSON protocol in providers/webhook.c),
 * keeps the last texts it "delivered" for GET /v1/sim/messages, and posts a signed
 * delivery receipt back a moment later. POST /v1/sim/inbound plays a tenant texting in.
 *
 * Magic numbers, as GOV.UK Notify's test numbers do: +447700900001 is delivered,
 * +447700900002 fails permanently, +447700900003 fails temporarily, +447700900004 has
 * opted out at the provider; every other number is delivered.
 */
#ifndef SIGNPOST_SIM_SERVER_H
#define SIGNPOST_SIM_SERVER_H

#include "gateway/app.h"

struct sim_server *sim_server_new(struct app *app);
void sim_server_free(struct sim_server *s);

#endif

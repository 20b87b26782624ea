/*
 * referral.h: help requests after they are made: partner matching, the partner webhook
 * outbox, deadlines, follow-ups, and the conversation timers.
 *
 * All of it is driven by referral_tick (called by the scheduler every second) and kept in
 * PostgreSQL, so any daemon can pick up any work and a restart loses nothing:
 * - a new help request goes to the active partner covering its category and borough with
 *   the most spare capacity (signpost_pick_partner in schema/0003_triage.sql); none: it
 *   waits in the officers' queue (escalated_at set, reason no_partner);
 * - an assignment queues a webhook in partner_outbox, signed with the partner's secret
 *   (Standard Webhooks) and retried with doubling delays until a 2xx, or until it gives up
 *   and escalates the request to officers;
 * - a request not accepted by its deadline escalates to officers;
 * - a resolved request gets one follow-up text ("Did you get the help you needed?");
 * - an unanswered conversation gets one reminder, then expires.
 * Texts queued here follow quiet hours (signpost_reply_at).
 */
#ifndef SIGNPOST_REFERRAL_H
#define SIGNPOST_REFERRAL_H

#include "gateway/app.h"

struct referral *referral_new(struct app *app);
/* Frees in-flight webhook state. Call after httpc and db are freed. */
void referral_free(struct referral *r);
/* One round of timed work; does nothing while the previous round is still running. */
void referral_tick(struct app *app);
bool referral_idle(const struct referral *r);
/* A help request was just made here: match it to a partner now, not at the next tick. */
void referral_poke(struct app *app);

#endif

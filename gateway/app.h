/*
 * app.h: the daemon's one context, created in main and passed to every module.
 */
#ifndef SIGNPOST_APP_H
#define SIGNPOST_APP_H

#include <event2/event.h>

#include "campaigns/window.h"
#include "gateway/config.h"
#include "triage/keyword.h"

struct db;
struct httpd;
struct httpc;
struct sched;
struct dispatch;
struct sim_server;
struct auth;
struct limiter;
struct referral;
struct rules;
struct flow_set;
struct kdf;
struct console;
struct retention;

struct app {
	struct event_base *base;
	struct config cfg;
	struct db *db;
	struct httpd *httpd;
	struct httpc *httpc;
	struct auth *auth;
	struct limiter *auth_failures; /* failed key and session look-ups per client address */
	struct sched *sched;
	struct dispatch *dispatch;
	struct sim_server *sim_server; /* the built-in provider simulator (sim_server.c) */
	struct keyword_base *keyword_base; /* the built-in words (data/builtin-words.json) */
	struct keyword_set *keywords; /* on keyword_base */
	struct flow_set *flows;       /* triage flows by name (rules.c keeps them current) */
	struct referral *referral;
	struct rules *rules;          /* keeps keywords and flows current */
	struct kdf *kdf;              /* password hashing, off the loop */
	struct console *console;      /* the console's page, rendered for this configuration */
	struct retention *retention;  /* clearing data past its retention period */
	struct holidays holidays;
	struct config **retired; /* configurations a reload replaced (reload.c), freed at exit */
	size_t nretired;
	int64_t daemon_id;
	int schema_version;  /* as last read from the database, 0 before the first read */
	int64_t schema_read_ms; /* when it was last asked for */
	bool schema_reading;
	bool stopping;
};

#endif

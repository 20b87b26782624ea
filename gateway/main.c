/*
 * main.c: signpostd's entry point.
 *
 *   signpostd [serve]      run the daemon (applies pending migrations first)
 *   signpostd migrate      apply pending migrations and exit
 *   signpostd keys create --role admin|officer|partner [--partner ID] [--label TEXT]
 *                         [--landlord CODE]
 *   signpostd keys list    every key, without the key itself
 *   signpostd keys revoke ID
 *   signpostd users create --email EMAIL --role admin|officer|partner [--partner ID]
 *                          [--name TEXT]      (the password is read from standard input)
 *   signpostd users set-password --email EMAIL  (likewise)
 *   signpostd check-config [FILE]  the start-up checks of a configuration file, no connecting
 *   signpostd version      this build's version and the versions of its libraries
 *
 * Start-up order: configuration, migrations, this daemon's registration, then the event
 * loop with the database pool, the HTTP client and server, dispatch and the scheduler.
 * SIGINT/SIGTERM stop accepting work and wait (up to SHUTDOWN_GRACE_S) for texts in
 * flight and their results to be recorded; a second signal stops at once. SIGHUP reads the
 * configuration file again (reload.h), keeping the old one when the new one is refused.
 * A service manager is told READY=1, RELOADING=1, STOPPING=1 and WATCHDOG=1 (notify.h).
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <json-c/json_c_version.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns/window.h"
#include "gateway/accounts.h"
#include "gateway/api.h"
#include "gateway/app.h"
#include "gateway/auth.h"
#include "gateway/console.h"
#include "gateway/counters.h"
#include "gateway/data.h"
#include "gateway/dispatch.h"
#include "gateway/janitor.h"
#include "gateway/lifecycle.h"
#include "gateway/referral.h"
#include "gateway/reload.h"
#include "gateway/retention.h"
#include "gateway/rules.h"
#include "gateway/sched.h"
#include "gateway/sim_server.h"
#include "infra/db.h"
#include "infra/httpc.h"
#include "infra/kdf.h"
#include "infra/log.h"
#include "infra/migrate.h"
#include "infra/notify.h"
#include "triage/keyword.h"

/* This release; raised when one is made. */
#define SIGNPOST_VERSION "0.15.0"
#define SHUTDOWN_GRACE_S 30
#define HTTPC_MIN_HOST_CONNECTIONS 64

static const char usage[] =
	"usage: signpostd [serve]\n"
	"       signpostd migrate\n"
	"       signpostd keys create --role admin|officer|partner [--partner ID] [--label TEXT]\n"
	"                             [--landlord CODE]  (an officer bound to a landlord)\n"
	"       signpostd keys list\n"
	"       signpostd keys revoke ID\n"
	"       signpostd users create --email EMAIL --role admin|officer|partner [--partner ID]\n"
	"                              [--landlord CODE]\n"
	"                              [--name TEXT]   (password: one line on standard input)\n"
	"       signpostd users set-password --email EMAIL   (likewise)\n"
	"       signpostd check-config [FILE]   (default: SIGNPOST_CONFIG)\n"
	"       signpostd version\n"
	"\n"
	"Environment: SIGNPOST_DATABASE_URL, SIGNPOST_LISTEN (default 127.0.0.1:8080),\n"
	"SIGNPOST_PUBLIC_URL, SIGNPOST_CONFIG (JSON file), SIGNPOST_LOG_LEVEL, SIGNPOST_LOG_FORMAT (text, json).\n";

struct shutdown {
	struct app *app;
	struct event *poll;
	int64_t deadline_ms;
	int signals;
};

/* Each line of a configuration error, after prefix. */
static void main_config_problems(const char *prefix, const char *problems)
{
	for (const char *p = problems; *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(stderr, "%s%.*s\n", prefix, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static int main_load_config(struct config *cfg)
{
	struct sbuf err;

	sbuf_init(&err);
	if (config_load(cfg, &err) < 0) {
		main_config_problems("signpostd: configuration error: ", sbuf_str(&err));
		sbuf_free(&err);
		config_free(cfg); /* what was read before the error */
		return -1;
	}
	sbuf_free(&err);
	log_set_level(cfg->log_level);
	log_set_format(cfg->log_format);
	return 0;
}

static int main_migrate(const struct config *cfg)
{
	struct sbuf err;
	int rc;

	sbuf_init(&err);
	rc = migrate_run(cfg->database_url, &err);
	if (rc == 0)
		rc = lifecycle_store(cfg->database_url, &err);
	if (rc < 0)
		fprintf(stderr, "signpostd: %s\n", err.data);
	sbuf_free(&err);
	return rc;
}

/* ---- check-config, version ---- */

/* check-config [FILE]: 0 when the file passes start-up's checks, else each problem and 1. */
static int main_check_config(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : getenv("SIGNPOST_CONFIG");
	struct config cfg;
	struct sbuf err;
	int rc = 0;

	if (argc > 1) {
		fprintf(stderr, "signpostd check-config: give at most one file\n%s", usage);
		return 2;
	}
	sbuf_init(&err);
	if (config_load_file(&cfg, path && *path ? path : NULL, &err) < 0) {
		main_config_problems("", sbuf_str(&err));
		rc = 1;
	} else {
		printf("%s: configuration is valid (%zu providers, default %s)\n",
		       path && *path ? path : "built-in configuration", cfg.nproviders,
		       cfg.default_provider->name);
		config_free(&cfg);
	}
	sbuf_free(&err);
	return rc;
}

static void main_version(void)
{
	int pq = PQlibVersion();

	printf("signpostd %s\n", SIGNPOST_VERSION);
	printf("libevent %s\n", event_get_version());
	printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("libpq %d.%d\n", pq / 10000, pq % 10000);
	printf("json-c %s\n", json_c_version());
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION)); /* "OpenSSL 3.0.x ..." */
}

/* ---- keys create, list, revoke ---- */

/* keys list, keys revoke ID: 0, 1 when the database refuses, 2 for bad arguments. */
static int main_keys_manage(const struct config *cfg, int argc, char **argv)
{
	bool list = strcmp(argv[0], "list") == 0;
	int64_t id = 0;
	struct sbuf err;
	int rc;

	if (list ? argc != 1 : (argc != 2 || !str_to_i64(argv[1], 1, INT64_MAX, &id))) {
		fprintf(stderr, "signpostd keys %s: %s\n%s", argv[0], list ? "takes no arguments"
			: "give the id of one key (signpostd keys list shows them)", usage);
		return 2;
	}
	sbuf_init(&err);
	rc = list ? auth_list_keys(cfg->database_url, stdout, &err)
		  : auth_revoke_key(cfg->database_url, id, &err);
	if (rc == 0 && !list)
		printf("revoked key %lld\n", (long long)id);
	if (rc < 0)
		fprintf(stderr, "signpostd keys %s: %s\n", argv[0], err.data);
	sbuf_free(&err);
	return rc < 0 ? 1 : 0;
}

static int main_keys(const struct config *cfg, int argc, char **argv)
{
	enum auth_role role = AUTH_ROLE_NONE;
	int64_t partner = 0;
	const char *label = NULL, *landlord = NULL;
	struct sbuf key, err;
	int rc = 2;

	if (argc >= 1 && (strcmp(argv[0], "list") == 0 || strcmp(argv[0], "revoke") == 0))
		return main_keys_manage(cfg, argc, argv);
	if (argc < 1 || strcmp(argv[0], "create") != 0) {
		fputs(usage, stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--role") == 0 && v && auth_role_parse(v, &role))
			i++;
		else if (strcmp(argv[i], "--partner") == 0 && v && str_to_i64(v, 1, INT64_MAX, &partner))
			i++;
		else if (strcmp(argv[i], "--label") == 0 && v)
			label = argv[++i];
		else if (strcmp(argv[i], "--landlord") == 0 && v)
			landlord = argv[++i];
		else {
			fprintf(stderr, "signpostd keys create: bad argument \"%s\"\n%s", argv[i], usage);
			return 2;
		}
	}
	if (role == AUTH_ROLE_NONE || (role == AUTH_ROLE_PARTNER) != (partner != 0)) {
		fprintf(stderr, "signpostd keys create: give --role admin|officer|partner; a partner "
			"key also needs --partner ID and only a partner key takes it\n");
		return 2;
	}
	if (landlord && role != AUTH_ROLE_OFFICER) {
		fprintf(stderr, "signpostd keys create: only an officer key is bound to a landlord\n");
		return 2;
	}
	sbuf_init(&key);
	sbuf_init(&err);
	struct auth_key_spec spec = { role, partner, label, landlord };
	if (auth_create_key(cfg->database_url, &spec, &key, &err) == 0) {
		printf("%s\n", key.data);
		rc = 0;
	} else {
		fprintf(stderr, "signpostd: %s\n", err.data);
		rc = 1;
	}
	sbuf_free(&key);
	sbuf_free(&err);
	return rc;
}

/* ---- users create, users set-password ---- */

static int main_users_args(int argc, char **argv, struct account *a, bool creating)
{
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--email") == 0 && v)
			a->email = argv[++i];
		else if (creating && strcmp(argv[i], "--role") == 0 && v && auth_role_parse(v, &a->role))
			i++;
		else if (creating && strcmp(argv[i], "--partner") == 0 && v &&
			 str_to_i64(v, 1, INT64_MAX, &a->partner_id))
			i++;
		else if (creating && strcmp(argv[i], "--landlord") == 0 && v)
			a->landlord = argv[++i];
		else if (creating && strcmp(argv[i], "--name") == 0 && v)
			a->name = argv[++i];
		else {
			fprintf(stderr, "signpostd users %s: bad argument \"%s\"\n%s", argv[0],
				argv[i], usage);
			return -1;
		}
	}
	if (!a->email || !strchr(a->email, '@')) {
		fprintf(stderr, "signpostd users %s: give --email with an email address\n", argv[0]);
		return -1;
	}
	if (creating && (a->role == AUTH_ROLE_NONE ||
			 (a->role == AUTH_ROLE_PARTNER) != (a->partner_id != 0))) {
		fprintf(stderr, "signpostd users create: give --role admin|officer|partner; a "
			"partner user also needs --partner ID and only a partner user takes it\n");
		return -1;
	}
	if (a->landlord && a->role != AUTH_ROLE_OFFICER) {
		fprintf(stderr, "signpostd users create: only an officer is bound to a landlord\n");
		return -1;
	}
	return 0;
}

static int main_users(const struct config *cfg, int argc, char **argv)
{
	struct account a = { 0 };
	struct sbuf pw, err;
	bool creating = argc > 0 && strcmp(argv[0], "create") == 0;
	int rc = 1;

	if (argc < 1 || (!creating && strcmp(argv[0], "set-password") != 0)) {
		fputs(usage, stderr);
		return 2;
	}
	if (main_users_args(argc, argv, &a, creating) < 0)
		return 2;
	sbuf_init(&pw);
	sbuf_init(&err);
	if (accounts_read_password(stdin, &pw, &err) == 0 &&
	    (creating ? accounts_create(cfg->database_url, &a, pw.data, &err)
		      : accounts_set_password(cfg->database_url, a.email, pw.data, &err)) == 0) {
		printf("%s %s\n", creating ? "created user" : "password set for", a.email);
		rc = 0;
	} else {
		fprintf(stderr, "signpostd users %s: %s\n", argv[0], sbuf_str(&err));
	}
	if (pw.data)
		OPENSSL_cleanse(pw.data, pw.len);
	sbuf_free(&pw);
	sbuf_free(&err);
	return rc;
}

/* ---- serve ---- */

static int main_load_data(struct app *app)
{
	struct json_object *words = json_tokener_parse(data_builtin_words_json);
	struct json_object *kw = json_tokener_parse(data_keywords_json);
	struct json_object *hol = json_tokener_parse(data_bank_holidays_england_and_wales_json);
	struct sbuf err;
	int rc = -1;

	sbuf_init(&err);
	app->keyword_base = words ? keyword_base_from_json(words, &err) : NULL;
	if (!app->keyword_base) {
		fprintf(stderr, "signpostd: built-in words: %s\n", sbuf_str(&err));
		goto out;
	}
	app->keywords = kw ? keyword_set_from_json(app->keyword_base, kw, &err) : NULL;
	if (!app->keywords) {
		fprintf(stderr, "signpostd: built-in keywords: %s\n", sbuf_str(&err));
		goto out;
	}
	if (!hol || holidays_from_json(hol, &app->holidays, &err) < 0) {
		fprintf(stderr, "signpostd: built-in bank holidays: %s\n", sbuf_str(&err));
		goto out;
	}
	rc = 0;
out:
	json_object_put(words);
	json_object_put(kw);
	json_object_put(hol);
	sbuf_free(&err);
	return rc;
}

/* Connections per host: enough for the busiest provider's requests in flight. */
static long main_host_connections(const struct config *cfg)
{
	long n = HTTPC_MIN_HOST_CONNECTIONS;

	for (size_t i = 0; i < cfg->nproviders; i++)
		n = MAX(n, (long)cfg->providers[i].max_in_flight);
	return n;
}

/* A notification, or (channel NULL) the session connection back after a break. */
static void main_notify(const char *channel, const char *payload, void *arg)
{
	struct app *app = arg;

	log_debug("db notification channel=%s payload=\"%s\"", channel ? channel : "(reconnected)",
		  payload ? payload : "");
	if (payload && strcmp(payload, AUTH_NOTIFY) == 0) {
		if (app->auth)
			auth_forget(app->auth);
		return;
	}
	if (!app->stopping && app->sched)
		sched_poke(app->sched);
}

static void main_shutdown_poll(evutil_socket_t fd, short what, void *arg)
{
	struct shutdown *sd = arg;
	struct app *app = sd->app;
	(void)fd, (void)what;

	bool idle = dispatch_idle(app->dispatch) && sched_idle(app->sched) &&
		    referral_idle(app->referral) && rules_idle(app->rules) &&
		    retention_idle(app->retention) &&
		    httpd_open_requests(app->httpd) == 0 && db_queue_len(app->db) == 0;
	if (idle || clock_mono_ms() > sd->deadline_ms) {
		if (!idle)
			log_warn("shutdown grace period over with work in flight; texts in flight will "
				 "be marked unknown");
		event_base_loopexit(app->base, NULL);
	}
}

static void main_signal(evutil_socket_t sig, short what, void *arg)
{
	struct shutdown *sd = arg;
	struct app *app = sd->app;
	struct timeval tick = { 0, 100 * 1000 };
	(void)what;

	if (++sd->signals > 1) {
		log_warn("second signal: stopping now");
		event_base_loopbreak(app->base);
		return;
	}
	log_info("stopping signal=%d: finishing work in flight", (int)sig);
	notify_send("STOPPING=1");
	app->stopping = true;
	httpd_stop_accepting(app->httpd);
	counters_stop();
	sched_stop(app->sched);
	dispatch_stop(app->dispatch);
	sd->deadline_ms = clock_mono_ms() + SHUTDOWN_GRACE_S * 1000;
	event_add(sd->poll, &tick);
}

/* SIGHUP: the configuration file again, or the old one kept with each problem logged. */
static void main_reload(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;
	struct sbuf err;
	(void)sig, (void)what;

	if (app->stopping)
		return;
	notify_send("RELOADING=1");
	sbuf_init(&err);
	if (reload_config(app, &err) == 0) {
		log_info("configuration reloaded providers=%zu default=%s", app->cfg.nproviders,
			 app->cfg.default_provider->name);
	} else {
		for (const char *p = sbuf_str(&err); *p;) {
			size_t n = strcspn(p, "\n");
			log_error("configuration reload refused, the running one is kept problem=\"%.*s\"",
				  (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	sbuf_free(&err);
	notify_send("READY=1");
}

static void main_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	notify_send("WATCHDOG=1");
}

static int main_start(struct app *app)
{
	struct sbuf err;
	char *setup;
	int rc = -1;

	sbuf_init(&err);
	app->daemon_id = janitor_reserve_id(app->cfg.database_url, &err);
	if (!app->daemon_id) {
		fprintf(stderr, "signpostd: %s\n", err.data);
		goto out;
	}
	app->base = event_base_new();
	app->db = db_new(app->base, app->cfg.database_url, app->cfg.db_pool_size);
	setup = janitor_session_sql(app->daemon_id);
	db_session_start(app->db, setup, main_notify, app);
	free(setup);
	app->httpc = httpc_new(app->base, main_host_connections(&app->cfg));
	app->sim_server = sim_server_new(app);
	app->kdf = kdf_new(app->base);
	app->console = console_new(&app->cfg);
	api_init(app);
	if (httpd_listen(app->httpd, app->cfg.listen_host, app->cfg.listen_port, &err) < 0) {
		fprintf(stderr, "signpostd: %s\n", err.data);
		goto out;
	}
	app->dispatch = dispatch_new(app);
	if (counters_start(app, &err) < 0) {
		fprintf(stderr, "signpostd: %s\n", err.data);
		goto out;
	}
	app->referral = referral_new(app);
	app->rules = rules_new(app, &err);
	if (!app->rules) {
		fprintf(stderr, "signpostd: %s\n", err.data);
		goto out;
	}
	app->retention = retention_new(app);
	app->sched = sched_new(app);
	rc = 0;
out:
	sbuf_free(&err);
	return rc;
}

static void main_stop(struct app *app)
{
	/* Queries still pending after the grace period fail first, while the modules their
	 * callbacks report to are alive. */
	db_free(app->db);
	app->db = NULL;
	kdf_free(app->kdf); /* likewise: sign-ins waiting for a hash are answered */
	app->kdf = NULL;
	sched_free(app->sched);
	dispatch_free(app->dispatch);
	if (app->httpd)
		api_shutdown(app);
	counters_free();
	sim_server_free(app->sim_server);
	httpc_free(app->httpc);
	referral_free(app->referral);
	retention_free(app->retention);
	rules_free(app->rules);
	console_free(app->console);
	reload_free(app);
	if (app->base)
		event_base_free(app->base);
	keyword_set_free(app->keywords);
	keyword_base_free(app->keyword_base);
	holidays_free(&app->holidays);
}

static int main_serve(struct app *app)
{
	struct shutdown sd = { .app = app };
	struct event *sigint = NULL, *sigterm = NULL, *sighup = NULL, *watchdog = NULL;
	int64_t watchdog_us = notify_watchdog_usec();
	int rc = 1;

	window_tz_init();
	if (main_load_data(app) < 0 || main_migrate(&app->cfg) < 0 || main_start(app) < 0)
		goto out;
	sd.poll = event_new(app->base, -1, EV_PERSIST, main_shutdown_poll, &sd);
	sigint = evsignal_new(app->base, SIGINT, main_signal, &sd);
	sigterm = evsignal_new(app->base, SIGTERM, main_signal, &sd);
	sighup = evsignal_new(app->base, SIGHUP, main_reload, app);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_add(sighup, NULL);
	if (watchdog_us > 0) { /* a heartbeat at half the interval the manager waits */
		struct timeval half = { watchdog_us / 2000000, (watchdog_us / 2) % 1000000 };
		watchdog = event_new(app->base, -1, EV_PERSIST, main_watchdog, NULL);
		event_add(watchdog, &half);
	}
	log_info("signpostd listening on %s:%d daemon=%lld providers=%zu default=%s",
		 app->cfg.listen_host, app->cfg.listen_port, (long long)app->daemon_id,
		 app->cfg.nproviders, app->cfg.default_provider->name);
	notify_send("READY=1");
	event_base_dispatch(app->base);
	log_info("signpostd stopped");
	rc = 0;
out:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (sighup)
		event_free(sighup);
	if (watchdog)
		event_free(watchdog);
	if (sd.poll)
		event_free(sd.poll);
	main_stop(app);
	return rc;
}

int main(int argc, char **argv)
{
	struct app app;
	const char *cmd = argc > 1 ? argv[1] : "serve";
	int rc;

	memset(&app, 0, sizeof(app));
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		main_version();
		return 0;
	}
	if (strcmp(cmd, "check-config") == 0)
		return main_check_config(argc - 2, argv + 2);
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "keys") != 0 &&
	    strcmp(cmd, "users") != 0) {
		fprintf(stderr, "signpostd: unknown command \"%s\"\n%s", cmd, usage);
		return 2;
	}
	if (main_load_config(&app.cfg) < 0)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(cmd, "migrate") == 0)
		rc = main_migrate(&app.cfg) < 0 ? 1 : 0;
	else if (strcmp(cmd, "keys") == 0)
		rc = main_keys(&app.cfg, argc - 2, argv + 2);
	else if (strcmp(cmd, "users") == 0)
		rc = main_users(&app.cfg, argc - 2, argv + 2);
	else
		rc = main_serve(&app);
	config_free(&app.cfg);
	curl_global_cleanup();
	return rc;
}

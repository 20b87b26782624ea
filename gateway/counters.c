#include "gateway/counters.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gateway/dispatch.h"
#include "infra/log.h"
#include "infra/metrics.h"

#define COUNTERS_ACTIONS (TRIAGE_RECORD + 1)
#define COUNTERS_KINDS (COUNTERS_ACTIONS + COUNTERS_WEBHOOK__COUNT)
#define COUNTERS_CLASSES 6 /* no answer, 1xx ... 5xx */

/* HTTP statuses counted each on its own; the rest as "other". */
static const int counters_codes[] = {
	200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 406, 408, 409, 410,
	412, 413, 415, 422, 429, 500, 502, 503, 504,
};
#define COUNTERS_CODES (ARRAY_LEN(counters_codes) + 1)

struct counters_provider {
	uint64_t texts[MSG__COUNT];
	uint64_t attempts[COUNTERS_SEND__COUNT][COUNTERS_CLASSES];
	struct metrics_hist latency;
	uint64_t inbound[COUNTERS_KINDS];
};

struct counters_route {
	uint64_t answers[COUNTERS_CODES];
	struct metrics_hist latency;
};

static struct {
	struct app *app;
	const struct provider_cfg *providers; /* the configuration's array */
	size_t nproviders;
	double started_s;
	struct httpd *listener; /* SIGNPOST_METRICS_LISTEN, or NULL */
	struct counters_provider provider[COUNTERS_PROVIDERS_MAX];
	struct counters_route route[COUNTERS_ROUTES_MAX + 1];
	uint64_t refused[COUNTERS_REFUSED__COUNT];
	uint64_t partner[COUNTERS_PARTNER__COUNT];
} counters;

static const char *const counters_send_names[] = {
	"accepted", "temporary_failure", "permanent_failure", "unreachable", "unknown",
};
static const char *const counters_webhook_names[] = { "delivery_receipt", "ignored" };
static const char *const counters_refusal_names[] = {
	"bad_signature", "replayed", "too_large", "unknown_provider", "malformed",
};
static const char *const counters_partner_names[] = { "delivered", "failed", "not_sent" };
static const char *const counters_class_names[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };

/* ---- counting: the hot paths ---- */

static struct counters_provider *counters_of(const struct provider_cfg *p)
{
	if (!p || !counters.providers || p < counters.providers ||
	    p >= counters.providers + counters.nproviders)
		return NULL;
	return &counters.provider[p - counters.providers];
}

static int counters_class(long status)
{
	return status >= 100 && status < 600 ? (int)(status / 100) : 0;
}

void counters_send(const struct provider_cfg *p, enum counters_send outcome, long http_status,
		   int64_t elapsed_ms, enum msg_state state)
{
	struct counters_provider *c = counters_of(p);

	if (!c)
		return;
	c->attempts[outcome][counters_class(http_status)]++;
	metrics_observe_ms(&c->latency, elapsed_ms);
	if (msg_state_final(state))
		c->texts[state]++;
}

void counters_text(const struct provider_cfg *p, enum msg_state state)
{
	struct counters_provider *c = counters_of(p);

	if (c && state < MSG__COUNT)
		c->texts[state]++;
}

void counters_inbound(const struct provider_cfg *p, enum triage_action action)
{
	struct counters_provider *c = counters_of(p);

	if (c && (int)action < COUNTERS_ACTIONS)
		c->inbound[action]++;
}

void counters_webhook(const struct provider_cfg *p, enum counters_webhook kind)
{
	struct counters_provider *c = counters_of(p);

	if (c)
		c->inbound[COUNTERS_ACTIONS + kind]++;
}

void counters_refused(enum counters_refusal reason)
{
	counters.refused[reason]++;
}

void counters_partner(enum counters_partner outcome)
{
	counters.partner[outcome]++;
}

static size_t counters_code_index(int status)
{
	size_t i = 0;

	while (i < ARRAY_LEN(counters_codes) && counters_codes[i] != status)
		i++;
	return i;
}

void counters_http(int route, bool route_webhook, int status, int64_t elapsed_ms)
{
	struct counters_route *r;

	if (route < 0 || route >= COUNTERS_ROUTES_MAX)
		route = COUNTERS_ROUTES_MAX;
	r = &counters.route[route];
	r->answers[counters_code_index(status)]++;
	metrics_observe_ms(&r->latency, elapsed_ms);
	if (route_webhook && status == 413)
		counters_refused(COUNTERS_REFUSED_TOO_LARGE);
}

/* ---- writing: at scrape time ---- */

static void counters_write_texts(struct metrics_out *o, struct sbuf *l)
{
	metrics_family(o, METRICS_COUNTER, "signpost_texts",
		       "Texts that reached a final state, by provider (from send answers and delivery receipts).");
	for (size_t i = 0; i < counters.nproviders; i++)
		for (int s = 0; s < MSG__COUNT; s++) {
			/* cancelled and skipped are marked in bulk by SQL, never counted here */
			if (!msg_state_final((enum msg_state)s) || s == MSG_CANCELLED ||
			    s == MSG_SKIPPED)
				continue;
			metrics_labels(l, "provider", counters.providers[i].name, "state",
				       msg_state_str((enum msg_state)s), NULL);
			metrics_value_u64(o, sbuf_str(l), counters.provider[i].texts[s]);
		}
}

static void counters_write_attempts(struct metrics_out *o, struct sbuf *l)
{
	metrics_family(o, METRICS_COUNTER, "signpost_send_attempts",
		       "Requests to providers to send a text, by outcome and HTTP status class.");
	for (size_t i = 0; i < counters.nproviders; i++)
		for (int s = 0; s < COUNTERS_SEND__COUNT; s++)
			for (int k = 0; k < COUNTERS_CLASSES; k++) {
				uint64_t v = counters.provider[i].attempts[s][k];
				if (!v && !(s == COUNTERS_SEND_ACCEPTED && k == 2))
					continue;
				metrics_labels(l, "provider", counters.providers[i].name, "outcome",
					       counters_send_names[s], "status_class",
					       counters_class_names[k], NULL);
				metrics_value_u64(o, sbuf_str(l), v);
			}
	metrics_family(o, METRICS_HISTOGRAM, "signpost_provider_request_duration_seconds",
		       "Time from sending a request to a provider to its answer.");
	for (size_t i = 0; i < counters.nproviders; i++) {
		metrics_labels(l, "provider", counters.providers[i].name, NULL);
		metrics_histogram(o, sbuf_str(l), &counters.provider[i].latency);
	}
}

static void counters_write_flow(struct metrics_out *o, struct sbuf *l)
{
	static const enum throttle_breaker states[] = { THROTTLE_CLOSED, THROTTLE_OPEN,
							THROTTLE_HALF_OPEN };
	struct dispatch_view v[COUNTERS_PROVIDERS_MAX];
	size_t n = 0;

	while (n < counters.nproviders && counters.app->dispatch &&
	       dispatch_provider_view(counters.app->dispatch, n, &v[n]))
		n++;
	metrics_family(o, METRICS_GAUGE, "signpost_provider_breaker_state",
		       "The provider's circuit breaker: 1 for the state it is in.");
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < ARRAY_LEN(states); s++) {
			metrics_labels(l, "provider", v[i].name, "state",
				       throttle_breaker_str(states[s]), NULL);
			metrics_value_u64(o, sbuf_str(l), v[i].breaker == states[s]);
		}
	metrics_family(o, METRICS_GAUGE, "signpost_provider_bucket_tokens",
		       "Segments the provider's token bucket holds now (negative: debt); "
		       "providers with no rate limit are left out.");
	for (size_t i = 0; i < n; i++) {
		if (!v[i].limited)
			continue;
		metrics_labels(l, "provider", v[i].name, NULL);
		metrics_value(o, sbuf_str(l), v[i].tokens);
	}
	metrics_family(o, METRICS_GAUGE, "signpost_provider_requests_in_flight",
		       "Send requests to the provider awaiting an answer.");
	for (size_t i = 0; i < n; i++) {
		metrics_labels(l, "provider", v[i].name, NULL);
		metrics_value_u64(o, sbuf_str(l), (uint64_t)v[i].inflight);
	}
}

static const char *counters_kind_name(int k)
{
	return k < COUNTERS_ACTIONS ? triage_action_str((enum triage_action)k)
				    : counters_webhook_names[k - COUNTERS_ACTIONS];
}

static void counters_write_webhooks(struct metrics_out *o, struct sbuf *l)
{
	metrics_family(o, METRICS_COUNTER, "signpost_inbound_webhooks",
		       "Provider webhooks accepted, by what they did: a tenant's text by its triage "
		       "action, a delivery receipt, or nothing to store.");
	for (size_t i = 0; i < counters.nproviders; i++)
		for (int k = 0; k < COUNTERS_KINDS; k++) {
			metrics_labels(l, "provider", counters.providers[i].name, "action",
				       counters_kind_name(k), NULL);
			metrics_value_u64(o, sbuf_str(l), counters.provider[i].inbound[k]);
		}
	metrics_family(o, METRICS_COUNTER, "signpost_webhooks_refused",
		       "Provider webhooks refused, by reason.");
	for (int r = 0; r < COUNTERS_REFUSED__COUNT; r++) {
		metrics_labels(l, "reason", counters_refusal_names[r], NULL);
		metrics_value_u64(o, sbuf_str(l), counters.refused[r]);
	}
	metrics_family(o, METRICS_COUNTER, "signpost_partner_webhooks",
		       "Help-request webhooks to partners, by outcome (failures are retried).");
	for (int r = 0; r < COUNTERS_PARTNER__COUNT; r++) {
		metrics_labels(l, "outcome", counters_partner_names[r], NULL);
		metrics_value_u64(o, sbuf_str(l), counters.partner[r]);
	}
}

/* Figures that live in PostgreSQL: one statement a scrape, answered from indexes. */
static const char counters_sql[] =
	"SELECT 'help', h.state, coalesce(p.name, 'unassigned'), count(*) "
	"  FROM help_requests h LEFT JOIN partners p ON p.id = h.partner_id GROUP BY 2, 3 "
	"UNION ALL SELECT 'campaign', state, '', count(*) FROM campaigns GROUP BY 2 "
	"UNION ALL SELECT 'waiting', '', '', "
	"  (SELECT count(*) FROM messages WHERE state IN ('queued', 'retry') AND kind = 'campaign') + "
	"  (SELECT count(*) FROM messages WHERE state IN ('queued', 'retry') AND kind <> 'campaign') "
	"UNION ALL SELECT 'overdue', '', '', count(*) FROM help_requests "
	"  WHERE state IN ('new', 'assigned') AND deadline_at < now()";

static const char *const counters_campaign_states[] = {
	"draft", "scheduled", "running", "paused", "completed", "cancelled",
};

/* Rows of kind from the scrape's statement: label columns 1 and 2, the count in 3. */
static void counters_write_rows(struct metrics_out *o, struct sbuf *l, const struct db_result *r,
				const char *kind)
{
	for (int i = 0; r && i < db_rows(r); i++) {
		if (strcmp(db_get(r, i, 0), kind) != 0)
			continue;
		if (strcmp(kind, "help") == 0)
			metrics_labels(l, "state", db_get(r, i, 1), "partner", db_get(r, i, 2), NULL);
		else
			sbuf_reset(l);
		metrics_value_u64(o, sbuf_str(l), (uint64_t)db_get_i64(r, i, 3));
	}
}

static void counters_write_campaigns(struct metrics_out *o, struct sbuf *l,
				     const struct db_result *r)
{
	metrics_family(o, METRICS_GAUGE, "signpost_campaigns", "Campaigns, by state.");
	for (size_t s = 0; r && s < ARRAY_LEN(counters_campaign_states); s++) {
		int64_t n = 0;
		for (int i = 0; i < db_rows(r); i++)
			if (strcmp(db_get(r, i, 0), "campaign") == 0 &&
			    strcmp(db_get(r, i, 1), counters_campaign_states[s]) == 0)
				n = db_get_i64(r, i, 3);
		metrics_labels(l, "state", counters_campaign_states[s], NULL);
		metrics_value_u64(o, sbuf_str(l), (uint64_t)n);
	}
}

static void counters_write_stored(struct metrics_out *o, struct sbuf *l, const struct db_result *r)
{
	metrics_family(o, METRICS_GAUGE, "signpost_help_requests",
		       "Help requests, by state and the partner they are assigned to.");
	counters_write_rows(o, l, r, "help");
	metrics_family(o, METRICS_GAUGE, "signpost_help_requests_overdue",
		       "Help requests not yet accepted whose deadline has passed.");
	counters_write_rows(o, l, r, "overdue");
	counters_write_campaigns(o, l, r);
	metrics_family(o, METRICS_GAUGE, "signpost_messages_waiting",
		       "Texts queued or waiting for a retry (all daemons).");
	counters_write_rows(o, l, r, "waiting");
}

static void counters_write_db(struct metrics_out *o, const struct db_result *r)
{
	struct db *db = counters.app->db;
	const struct db_stats *st = db_stats(db);

	metrics_single(o, METRICS_GAUGE, "signpost_database_up",
		       "1 when this scrape's statement ran, 0 when the database could not answer.",
		       r && !r->error);
	metrics_single(o, METRICS_GAUGE, "signpost_database_pool_connections",
		       "Connections in the pool.", db_pool_size(db));
	metrics_single(o, METRICS_GAUGE, "signpost_database_pool_ready",
		       "Connections in the pool that are up.", db_ready_count(db));
	metrics_single(o, METRICS_GAUGE, "signpost_database_pool_in_use",
		       "Connections with statements in flight.", db_busy_count(db));
	metrics_single(o, METRICS_GAUGE, "signpost_database_statements_queued",
		       "Statements waiting for a connection.", db_queue_len(db));
	metrics_family(o, METRICS_HISTOGRAM, "signpost_database_queue_wait_seconds",
		       "Time a statement waited for a connection before it was sent.");
	metrics_histogram(o, NULL, &st->queue_wait);
	metrics_single(o, METRICS_COUNTER, "signpost_database_query_errors",
		       "Statements that failed (errors, lost connections, database unavailable).",
		       st->errors);
}

static void counters_route_labels(struct sbuf *l, size_t i, const char *code)
{
	const struct api_route *r = i < COUNTERS_ROUTES_MAX ? api_route_at(i) : NULL;

	metrics_labels(l, "method", r ? r->method : "", "route", r ? r->pattern : "unmatched",
		       code ? "code" : NULL, code, NULL);
}

static void counters_write_http(struct metrics_out *o, struct sbuf *l)
{
	char code[16];

	metrics_family(o, METRICS_COUNTER, "signpost_http_requests",
		       "HTTP requests answered, by route (as in the route table) and status.");
	for (size_t i = 0; i <= COUNTERS_ROUTES_MAX; i++)
		for (size_t c = 0; c < COUNTERS_CODES; c++) {
			if (!counters.route[i].answers[c])
				continue;
			if (c < ARRAY_LEN(counters_codes))
				snprintf(code, sizeof(code), "%d", counters_codes[c]);
			else
				snprintf(code, sizeof(code), "other");
			counters_route_labels(l, i, code);
			metrics_value_u64(o, sbuf_str(l), counters.route[i].answers[c]);
		}
	metrics_family(o, METRICS_HISTOGRAM, "signpost_http_request_duration_seconds",
		       "Time from a request's head to its answer, by route.");
	for (size_t i = 0; i <= COUNTERS_ROUTES_MAX; i++) {
		if (!counters.route[i].latency.count)
			continue;
		counters_route_labels(l, i, NULL);
		metrics_histogram(o, sbuf_str(l), &counters.route[i].latency);
	}
}

static uint64_t counters_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	uint64_t n = 0;
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n ? n - 1 : 0; /* not the directory's own */
}

static uint64_t counters_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, resident = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void counters_write_process(struct metrics_out *o)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	metrics_single(o, METRICS_GAUGE, "process_resident_memory_bytes",
		       "Resident memory size in bytes.", counters_rss_bytes());
	metrics_single(o, METRICS_GAUGE, "process_open_fds", "Open file descriptors.",
		       counters_open_fds());
	metrics_single(o, METRICS_COUNTER, "process_cpu_seconds",
		       "User and system CPU time spent, in seconds.",
		       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	metrics_single(o, METRICS_GAUGE, "process_start_time_seconds",
		       "Start time of the process since the Unix epoch, in seconds.",
		       counters.started_s);
}

static void counters_write(struct sbuf *b, enum metrics_format f, const struct db_result *r)
{
	struct metrics_out o = { .b = b, .format = f };
	struct sbuf l;

	sbuf_init(&l);
	counters_write_texts(&o, &l);
	counters_write_attempts(&o, &l);
	counters_write_flow(&o, &l);
	counters_write_webhooks(&o, &l);
	counters_write_stored(&o, &l, r && !r->error ? r : NULL);
	counters_write_db(&o, r);
	counters_write_http(&o, &l);
	counters_write_process(&o);
	metrics_end(&o);
	sbuf_free(&l);
}

/* ---- scraping ---- */

typedef void counters_done(int status, const char *content_type, const struct sbuf *body,
			   void *arg);

struct counters_scrape {
	enum metrics_format format;
	counters_done *done;
	void *arg;
};

static void counters_scraped(const struct db_result *r, void *arg)
{
	struct counters_scrape *s = arg;
	struct sbuf body;

	if (counters.app->stopping) { /* the pool is going: its figures are not to be read */
		sbuf_init(&body);
		sbuf_adds(&body, "{\"error\": {\"code\": \"unavailable\", \"message\": "
			  "\"signpostd is stopping\"}}");
		s->done(503, "application/json", &body, s->arg);
		goto out;
	}
	if (r && r->error)
		log_warn("metrics: figures from the database unavailable error=\"%.*s\"",
			 (int)strcspn(r->error, "\n"), r->error);
	sbuf_init(&body);
	counters_write(&body, s->format, r);
	s->done(200, metrics_content_type(s->format), &body, s->arg);
out:
	sbuf_free(&body);
	free(s);
}

/* Writes the exposition; without a usable connection, without the database's figures. */
static void counters_scrape(const char *accept, counters_done *done, void *arg)
{
	struct counters_scrape *s = xcalloc(1, sizeof(*s));

	*s = (struct counters_scrape){ .format = metrics_negotiate(accept), .done = done,
				       .arg = arg };
	if (!db_healthy(counters.app->db))
		counters_scraped(NULL, s);
	else
		db_query(counters.app->db, counters_sql, 0, NULL, counters_scraped, s);
}

static void counters_api_done(int status, const char *content_type, const struct sbuf *body,
			      void *arg)
{
	api_reply(arg, status, content_type, sbuf_str(body), body->len);
}

void counters_api(struct api_ctx *ctx)
{
	counters_scrape(httpd_req_header(ctx->req, "Accept"), counters_api_done, ctx);
}

/* ---- the metrics listener ---- */

static void counters_listener_done(int status, const char *content_type,
				   const struct sbuf *body, void *arg)
{
	httpd_reply(arg, status, content_type, sbuf_str(body), body->len);
}

static void counters_listener_error(struct httpd_req *req, int status, const char *code,
				    const char *message)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\": {\"code\": \"%s\", \"message\": \"%s\"}}",
			 code, message);

	httpd_reply(req, status, "application/json", body, (size_t)n);
}

static void counters_listener_head(struct httpd_req *req, void *arg)
{
	(void)arg;
	if (strcmp(req->path, "/metrics") != 0)
		counters_listener_error(req, 404, "not_found",
					"this listener serves only GET /metrics");
	else if (strcmp(req->method, "GET") != 0)
		counters_listener_error(req, 405, "method_not_allowed",
					"only GET is allowed on /metrics");
	else
		httpd_req_buffer_body(req, 0);
}

static void counters_listener_complete(struct httpd_req *req, void *arg)
{
	(void)arg;
	counters_scrape(httpd_req_header(req, "Accept"), counters_listener_done, req);
}

int counters_start(struct app *app, struct sbuf *err)
{
	static const struct httpd_handlers handlers = {
		.on_headers = counters_listener_head,
		.on_complete = counters_listener_complete,
	};

	counters.app = app;
	counters.providers = app->cfg.providers;
	counters.nproviders = MIN(app->cfg.nproviders, (size_t)COUNTERS_PROVIDERS_MAX);
	counters.started_s = (double)clock_wall_ms() / 1000.0;
	if (app->cfg.nproviders > COUNTERS_PROVIDERS_MAX)
		log_warn("metrics: only the first %d providers are counted", COUNTERS_PROVIDERS_MAX);
	if (!app->cfg.metrics_host)
		return 0;
	counters.listener = httpd_new(app->base, &handlers, app);
	return httpd_listen(counters.listener, app->cfg.metrics_host, app->cfg.metrics_port, err);
}

void counters_stop(void)
{
	if (counters.listener)
		httpd_stop_accepting(counters.listener);
}

void counters_free(void)
{
	httpd_free(counters.listener);
	counters.listener = NULL;
	counters.app = NULL;
}

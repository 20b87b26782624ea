/*
 * config.h: start-up configuration from the environment and the JSON file SIGNPOST_CONFIG.
 *
 * Anything wrong stops start-up with one message naming the variable or JSON key.
 */
#ifndef SIGNPOST_CONFIG_H
#define SIGNPOST_CONFIG_H

#include "common/netaddr.h"
#include "common/util.h"
#include "infra/log.h"
#include "providers/provider.h"

struct provider_cfg {
	char *name;
	const struct provider_ops *ops;
	void *priv;
	double segments_per_second; /* 0: no limit of ours */
	long connect_timeout_ms;
	long timeout_ms;
	int validity_s;
	int max_in_flight;           /* requests outstanding at once */
	int64_t price_micro;         /* price_per_segment in millionths of a pound; 0 unknown */
	bool alpha_sender;           /* its "from" is alphanumeric: tenants cannot reply */
};

/* Triage timings, in seconds ("triage" in the configuration file). */
struct triage_cfg {
	int conversation_ttl_s;  /* an unanswered conversation expires */
	int reminder_after_s;    /* one reminder after this long without an answer */
	int accept_deadline_s;   /* a partner must accept by then; 0: two working days */
	int followup_after_s;    /* "did you get the help" after a resolve */
	int partner_retry_s;     /* first webhook retry delay, doubling */
	int partner_retry_max_s; /* longest delay between webhook attempts */
	int partner_give_up_s;   /* webhooks are retried this long, then officers are told */
};

/* Limits on HTTP clients ("http" in the configuration file). */
struct http_cfg {
	int request_s;            /* a request's head and body arrive within this */
	int import_s;             /* the same for a CSV import */
	int conns_per_ip;         /* connections at once from one address; 0: no cap */
	int auth_failures_per_min; /* failed key and session look-ups from one address; 0: any */
	char **exempt;            /* addresses the two limits above spare, NULL-terminated */
};

/* How long data is kept, in days ("retention" in the configuration file; retention.h). */
struct retention_cfg {
	int message_body_days;          /* bodies of texts sent */
	int inbound_body_days;          /* bodies of texts received */
	int conversation_days;          /* answers and number of a closed conversation */
	int help_request_personal_days; /* a closed request's name, number, answers, notes */
	int help_request_days;          /* a closed request itself, with its history */
	int receipt_days;               /* delivery receipts as providers sent them */
	int sign_in_failure_days;       /* failed sign-ins */
	int ended_session_days;         /* expired sessions, used or expired invitations */
	int every_s;                    /* seconds between passes */
	int batch_rows;                 /* rows per statement, so no pass holds locks long */
};

struct config {
	char *database_url;     /* libpq conninfo or URI; "" uses libpq's defaults */
	char *listen_host;
	int listen_port;
	char *metrics_host;      /* SIGNPOST_METRICS_LISTEN: /metrics alone, no key; or NULL */
	int metrics_port;
	char *public_url;       /* no trailing slash */
	char *self_url;         /* http://listen_host:listen_port */
	char *sim_secret;
	char *org_name;         /* who is texting, for HELP replies */
	enum log_level log_level;
	enum log_format log_format; /* SIGNPOST_LOG_FORMAT: text (default) or json */
	int db_pool_size;
	int session_idle_s;     /* a console session ends after this long without use */
	struct provider_cfg *providers;
	size_t nproviders;
	struct provider_cfg *default_provider;
	struct triage_cfg triage;
	struct http_cfg http;
	char **staff_numbers;   /* E.164 UK mobiles that receive campaign test sends */
	size_t nstaff_numbers;
	/* Partner webhook URLs (gateway/partner_url.c): http:// too, and these addresses. */
	bool allow_insecure_partner_urls;
	struct netaddr_list partner_url_allow;
	bool simulator;         /* the simulator's routes exist (sim_server.c) */
	struct retention_cfg retention;
};

/*
 * Reads the environment and the config file; on error writes to err one line per problem
 * found (the file's sections are all read, so each is told).
 */
int config_load(struct config *cfg, struct sbuf *err) WUR;
/* The same with the file at path (NULL: the built-in configuration) instead of SIGNPOST_CONFIG. */
int config_load_file(struct config *cfg, const char *path, struct sbuf *err) WUR;
/* config_load for a reload: what is made per process (the simulator's secret) is running's. */
int config_load_again(struct config *cfg, const struct config *running, struct sbuf *err) WUR;
void config_free(struct config *cfg);
struct provider_cfg *config_provider(const struct config *cfg, const char *name);

#endif

#include "gateway/reload.h"

#include <string.h>

#include "gateway/app.h"
#include "gateway/dispatch.h"
#include "infra/log.h"

#define RELOAD_SWAP(a, b) do { __typeof__(a) reload_tmp_ = (a); (a) = (b); (b) = reload_tmp_; } while (0)

static bool reload_same_http(const struct http_cfg *a, const struct http_cfg *b)
{
	size_t i = 0;

	if (a->request_s != b->request_s || a->import_s != b->import_s ||
	    a->conns_per_ip != b->conns_per_ip || a->auth_failures_per_min != b->auth_failures_per_min)
		return false;
	for (; a->exempt && a->exempt[i] && b->exempt && b->exempt[i]; i++)
		if (strcmp(a->exempt[i], b->exempt[i]) != 0)
			return false;
	return !(a->exempt && a->exempt[i]) && !(b->exempt && b->exempt[i]);
}

/* What a running daemon cannot take: one line each in err. */
static int reload_check_fixed(const struct config *cur, const struct config *next,
			      struct sbuf *err)
{
	size_t before = err->len;

	if (cur->nproviders != next->nproviders)
		sbuf_printf(err, "providers: %zu instead of %zu; adding or removing a provider "
			    "needs a restart\n", next->nproviders, cur->nproviders);
	for (size_t i = 0; i < MIN(cur->nproviders, next->nproviders); i++)
		if (strcmp(cur->providers[i].name, next->providers[i].name) != 0 ||
		    cur->providers[i].ops != next->providers[i].ops)
			sbuf_printf(err, "providers[%zu]: \"%s\" was \"%s\" of another type or "
				    "order; renaming, retyping or reordering providers needs a "
				    "restart\n", i, next->providers[i].name, cur->providers[i].name);
	if (cur->db_pool_size != next->db_pool_size)
		sbuf_adds(err, "db_pool_size: changing it needs a restart\n");
	if (cur->simulator != next->simulator)
		sbuf_adds(err, "simulator: turning it on or off needs a restart\n");
	if (!reload_same_http(&cur->http, &next->http))
		sbuf_adds(err, "http: changing the HTTP limits needs a restart\n");
	if (err->len == before)
		return 0;
	err->data[--err->len] = 0; /* the last line feed */
	return -1;
}

/* Moves what may change from next into cur, and cur's old values into next. */
static void reload_swap(struct config *cur, struct config *next)
{
	size_t def = (size_t)(next->default_provider - next->providers);

	for (size_t i = 0; i < cur->nproviders; i++)
		RELOAD_SWAP(cur->providers[i], next->providers[i]); /* the array stays put */
	next->default_provider = &next->providers[cur->default_provider - cur->providers];
	cur->default_provider = &cur->providers[def];
	RELOAD_SWAP(cur->org_name, next->org_name);
	RELOAD_SWAP(cur->log_level, next->log_level);
	RELOAD_SWAP(cur->session_idle_s, next->session_idle_s);
	RELOAD_SWAP(cur->triage, next->triage);
	RELOAD_SWAP(cur->staff_numbers, next->staff_numbers);
	RELOAD_SWAP(cur->nstaff_numbers, next->nstaff_numbers);
	RELOAD_SWAP(cur->allow_insecure_partner_urls, next->allow_insecure_partner_urls);
	RELOAD_SWAP(cur->partner_url_allow, next->partner_url_allow);
	RELOAD_SWAP(cur->retention, next->retention);
}

int reload_config(struct app *app, struct sbuf *err)
{
	struct config *next = xcalloc(1, sizeof(*next));

	if (config_load_again(next, &app->cfg, err) < 0 || reload_check_fixed(&app->cfg, next, err) < 0) {
		config_free(next);
		free(next);
		return -1;
	}
	reload_swap(&app->cfg, next);
	log_set_level(app->cfg.log_level);
	if (app->dispatch)
		dispatch_reconfigure(app->dispatch);
	/* Requests and callbacks in flight may still hold the old values: kept till the end. */
	app->retired = xrealloc(app->retired, (app->nretired + 1) * sizeof(*app->retired));
	app->retired[app->nretired++] = next;
	return 0;
}

void reload_free(struct app *app)
{
	for (size_t i = 0; i < app->nretired; i++) {
		config_free(app->retired[i]);
		free(app->retired[i]);
	}
	free(app->retired);
	app->retired = NULL;
	app->nretired = 0;
}

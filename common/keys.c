#include "common/keys.h"

#include <string.h>

/* Edit distance between short keys; SIZE_MAX when either is too long to bother. */
static size_t keys_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev_diag;

	if (la >= ARRAY_LEN(row) || lb >= ARRAY_LEN(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev_diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = prev_diag + (a[i - 1] != b[j - 1]);
			best = MIN(best, up + 1);
			best = MIN(best, row[j - 1] + 1);
			prev_diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *keys_unknown(struct json_object *obj, const char *const *known, size_t n,
			 bool (*also)(const char *key))
{
	json_object_object_foreach(obj, key, val) {
		bool ok = also && also(key);
		(void)val;
		for (size_t i = 0; i < n && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (!ok)
			return key;
	}
	return NULL;
}

void keys_error(struct sbuf *err, const char *where, const char *key, const char *const *known,
		size_t n, const char *more)
{
	size_t best = SIZE_MAX, best_i = 0;

	for (size_t i = 0; i < n; i++) {
		size_t d = keys_distance(key, known[i]);
		if (d < best)
			best = d, best_i = i;
	}
	sbuf_printf(err, "%s: unknown key \"%s\"", where && *where ? where : key, key);
	if (best <= 2)
		sbuf_printf(err, ", did you mean \"%s\"?", known[best_i]);
	sbuf_adds(err, n ? " (the keys are " : " (it takes no keys");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(err, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", known[i]);
	if (more)
		sbuf_printf(err, "; %s", more);
	sbuf_addc(err, ')');
}

int keys_check(struct json_object *obj, const char *where, const char *const *known, size_t n,
	       struct sbuf *err)
{
	const char *key = keys_unknown(obj, known, n, NULL);

	if (!key)
		return 0;
	keys_error(err, where, key, known, n, NULL);
	return -1;
}

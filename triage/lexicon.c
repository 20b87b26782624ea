#include "triage/lexicon.h"

#include <stdlib.h>
#include <string.h>

struct lexicon_edge {
	uint32_t parent, child; /* child LEXICON_NONE: an empty slot */
	uint32_t hash, off, len; /* the word: len bytes at off in the pool */
};

struct lexicon_node {
	uint32_t *values;
	uint32_t n, cap;
};

struct lexicon {
	struct lexicon_edge *table; /* open addressing, a power of two, at most half full */
	size_t cap, used;
	struct lexicon_node *nodes;
	size_t nnodes, capnodes;
	struct sbuf pool;
	size_t phrases;
};

static uint32_t lexicon_hash(uint32_t node, const char *word, size_t len)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 4; i++)
		h = (h ^ ((node >> (8 * i)) & 0xff)) * 16777619u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)word[i]) * 16777619u;
	return h;
}

static void lexicon_table_init(struct lexicon *lx, size_t cap)
{
	lx->table = xmalloc(cap * sizeof(*lx->table));
	for (size_t i = 0; i < cap; i++)
		lx->table[i].child = LEXICON_NONE;
	lx->cap = cap;
	lx->used = 0;
}

static uint32_t lexicon_node_new(struct lexicon *lx)
{
	if (lx->nnodes == lx->capnodes) {
		lx->capnodes = lx->capnodes ? lx->capnodes * 2 : 64;
		lx->nodes = xrealloc(lx->nodes, lx->capnodes * sizeof(*lx->nodes));
	}
	lx->nodes[lx->nnodes] = (struct lexicon_node){ 0 };
	return (uint32_t)lx->nnodes++;
}

struct lexicon *lexicon_new(void)
{
	struct lexicon *lx = xcalloc(1, sizeof(*lx));

	sbuf_init(&lx->pool);
	lexicon_table_init(lx, 64);
	(void)lexicon_node_new(lx); /* the root */
	return lx;
}

void lexicon_free(struct lexicon *lx)
{
	if (!lx)
		return;
	for (size_t i = 0; i < lx->nnodes; i++)
		free(lx->nodes[i].values);
	free(lx->nodes);
	free(lx->table);
	sbuf_free(&lx->pool);
	free(lx);
}

static void lexicon_put(struct lexicon *lx, const struct lexicon_edge *e)
{
	size_t mask = lx->cap - 1, i = e->hash & mask;

	while (lx->table[i].child != LEXICON_NONE)
		i = (i + 1) & mask;
	lx->table[i] = *e;
	lx->used++;
}

static void lexicon_grow(struct lexicon *lx)
{
	struct lexicon_edge *old = lx->table;
	size_t n = lx->cap;

	lexicon_table_init(lx, n * 2);
	for (size_t i = 0; i < n; i++)
		if (old[i].child != LEXICON_NONE)
			lexicon_put(lx, &old[i]);
	free(old);
}

uint32_t lexicon_step(const struct lexicon *lx, uint32_t node, const char *word, size_t len)
{
	uint32_t h = lexicon_hash(node, word, len);
	size_t mask = lx->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct lexicon_edge *e = &lx->table[i];
		if (e->child == LEXICON_NONE)
			return LEXICON_NONE;
		if (e->hash == h && e->parent == node && e->len == len &&
		    memcmp(lx->pool.data + e->off, word, len) == 0)
			return e->child;
	}
}

static uint32_t lexicon_child(struct lexicon *lx, uint32_t node, const char *word, size_t len)
{
	uint32_t child = lexicon_step(lx, node, word, len);
	struct lexicon_edge e;

	if (child != LEXICON_NONE)
		return child;
	if ((lx->used + 1) * 2 > lx->cap)
		lexicon_grow(lx);
	child = lexicon_node_new(lx);
	e = (struct lexicon_edge){ .parent = node, .child = child, .hash = lexicon_hash(node, word, len),
				   .off = (uint32_t)lx->pool.len, .len = (uint32_t)len };
	sbuf_add(&lx->pool, word, len);
	lexicon_put(lx, &e);
	return child;
}

void lexicon_add(struct lexicon *lx, const char *const *words, const size_t *lens, size_t n,
		 uint32_t value)
{
	uint32_t node = LEXICON_ROOT;
	struct lexicon_node *ln;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		node = lexicon_child(lx, node, words[i], lens[i]);
	ln = &lx->nodes[node];
	for (uint32_t i = 0; i < ln->n; i++)
		if (ln->values[i] == value)
			return;
	if (ln->n == ln->cap) {
		ln->cap = ln->cap ? ln->cap * 2 : 2;
		ln->values = xrealloc(ln->values, ln->cap * sizeof(*ln->values));
	}
	ln->values[ln->n++] = value;
	lx->phrases++;
}

const uint32_t *lexicon_values(const struct lexicon *lx, uint32_t node, size_t *n)
{
	*n = node < lx->nnodes ? lx->nodes[node].n : 0;
	return *n ? lx->nodes[node].values : NULL;
}

size_t lexicon_count(const struct lexicon *lx)
{
	return lx ? lx->phrases : 0;
}

/* ---- patterns ---- */

/* One part of a pattern: a literal (one alternative) or a group's alternatives. */
struct lexicon_part {
	const char *alt[32];
	size_t len[32];
	size_t n;
};

#define LEXICON_PARTS_MAX 16

static int lexicon_parse(const char *p, struct lexicon_part *parts, size_t *nparts,
			 struct sbuf *err)
{
	*nparts = 0;
	while (*p) {
		struct lexicon_part *part;
		if (*nparts == LEXICON_PARTS_MAX) {
			sbuf_printf(err, "more than %d parts", LEXICON_PARTS_MAX);
			return -1;
		}
		part = &parts[(*nparts)++];
		part->n = 0;
		if (*p != '(') {
			size_t n = strcspn(p, "()|");
			if (p[n] == ')' || p[n] == '|') {
				sbuf_adds(err, "\")\" or \"|\" outside a group");
				return -1;
			}
			part->alt[0] = p;
			part->len[part->n++] = n;
			p += n;
			continue;
		}
		for (p++;;) {
			size_t n = strcspn(p, "()|");
			if (p[n] != ')' && p[n] != '|') {
				sbuf_adds(err, p[n] == '(' ? "a group inside a group" : "a group not closed");
				return -1;
			}
			if (part->n == ARRAY_LEN(part->alt)) {
				sbuf_printf(err, "more than %zu choices in a group", ARRAY_LEN(part->alt));
				return -1;
			}
			part->alt[part->n] = p;
			part->len[part->n++] = n;
			p += n + 1;
			if (p[-1] == ')')
				break;
		}
	}
	return 0;
}

int lexicon_expand(const char *pattern, int (*fn)(const char *variant, void *arg), void *arg,
		   struct sbuf *err)
{
	struct lexicon_part parts[LEXICON_PARTS_MAX];
	size_t nparts, pick[LEXICON_PARTS_MAX] = { 0 }, total = 1;
	struct sbuf v;
	int rc = -1;

	sbuf_init(&v);
	if (lexicon_parse(pattern, parts, &nparts, err) < 0)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		total *= parts[i].n;
		if (total > LEXICON_EXPAND_MAX) {
			sbuf_printf(err, "more than %d variants", LEXICON_EXPAND_MAX);
			goto out;
		}
	}
	for (size_t k = 0; k < total; k++) {
		sbuf_reset(&v);
		for (size_t i = 0; i < nparts; i++) {
			sbuf_add(&v, parts[i].alt[pick[i]], parts[i].len[pick[i]]);
			sbuf_addc(&v, ' ');
		}
		if (fn(sbuf_str(&v), arg) < 0)
			goto out;
		for (size_t i = nparts; i-- > 0;) { /* the next choice, like an odometer */
			if (++pick[i] < parts[i].n)
				break;
			pick[i] = 0;
		}
	}
	rc = 0;
out:
	sbuf_free(&v);
	return rc;
}

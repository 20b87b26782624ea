/*
 * keyword_match.c: reading a reply with a keyword set, rule by rule (keyword.h).
 *
 * One pass finds every phrase of the base's and the set's lexicons in the text (hits);
 * the rules then only look at hits and at the core of the reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "sms/utf8.h"
#include "triage/keyword_impl.h"

/* Most words between a negation and what it undoes, in the same clause. */
#define KEYWORD_NEGATION_GAP 2
/* Longest message in which a keyword among other words is acted on. */
#define KEYWORD_SENTENCE_MAX_WORDS 16
/* Longest message in which a keyword or a hint among other words is asked about. */
#define KEYWORD_CONFIRM_MAX_WORDS 40
/* Longest phrase in a lexicon, in words. */
#define KEYWORD_PHRASE_MAX_WORDS 12
/* Typos: one edit, the longer word at least 5 characters and the shorter at least 4; a
 * swap of two neighbours in words of at least 4. */
#define KEYWORD_TYPO_LONGER 5
#define KEYWORD_TYPO_SHORTER 4
#define KEYWORD_SWAP_CHARS 4

struct keyword_hit {
	size_t start, n; /* words [start, start + n) */
	const struct keyword_entry *e;
};

/* A message being read: its words, its core and every hit. */
struct keyword_msg {
	const struct keyword_set *set;
	struct keyword_text t;
	size_t *core;
	size_t ncore;
	size_t *scratch; /* a clause's core */
	struct keyword_hit *hits;
	size_t nhits, cap;
	struct keyword_hit local[32];
};

static const char *const keyword_rule_names[] = {
	[KEYWORD_RULE_NONE] = "none",
	[KEYWORD_RULE_OPT_OUT_WORD] = "opt_out_word",
	[KEYWORD_RULE_OPT_OUT_CLAUSE] = "opt_out_clause",
	[KEYWORD_RULE_OPT_OUT_PHRASE] = "opt_out_phrase",
	[KEYWORD_RULE_OPT_IN_WORD] = "opt_in_word",
	[KEYWORD_RULE_KEYWORD] = "keyword",
	[KEYWORD_RULE_SENTENCE] = "keyword_in_sentence",
	[KEYWORD_RULE_SEVERAL_BRANCHES] = "several_branches",
	[KEYWORD_RULE_HINT] = "hint",
	[KEYWORD_RULE_LONG_MESSAGE] = "long_message",
	[KEYWORD_RULE_TYPO] = "typo",
	[KEYWORD_RULE_SWAP] = "swapped_letters",
};

const char *keyword_rule_str(enum keyword_rule r)
{
	return (size_t)r < ARRAY_LEN(keyword_rule_names) ? keyword_rule_names[r] : "unknown";
}

const char *keyword_match_kind_str(enum keyword_match_kind k)
{
	switch (k) {
	case KEYWORD_MATCH_NONE: return "none";
	case KEYWORD_MATCH_EXACT: return "exact";
	case KEYWORD_MATCH_TYPO: return "typo";
	case KEYWORD_MATCH_CONFIRM: return "confirm";
	}
	return "unknown";
}

/* ---- the message ---- */

static void keyword_hit_add(struct keyword_msg *m, size_t start, size_t n,
			    const struct keyword_entry *e)
{
	if (m->nhits == m->cap) {
		m->cap *= 2;
		if (m->hits == m->local) {
			m->hits = xmalloc(m->cap * sizeof(*m->hits));
			memcpy(m->hits, m->local, sizeof(m->local));
		} else {
			m->hits = xrealloc(m->hits, m->cap * sizeof(*m->hits));
		}
	}
	m->hits[m->nhits++] = (struct keyword_hit){ start, n, e };
}

/* Every phrase of lex starting at each word, within a clause. */
static void keyword_collect(struct keyword_msg *m, const struct keyword_lex *lex)
{
	const struct keyword_text *t = &m->t;

	for (size_t i = 0; lex->lx && i < t->n; i++) {
		uint32_t node = LEXICON_ROOT;
		for (size_t j = i; j < t->n && j - i < KEYWORD_PHRASE_MAX_WORDS; j++) {
			const uint32_t *vals;
			size_t nvals;
			if (j > i && t->words[j].clause_start)
				break;
			node = lexicon_step(lex->lx, node, keyword_text_fold(t, j), t->words[j].flen);
			if (node == LEXICON_NONE)
				break;
			vals = lexicon_values(lex->lx, node, &nvals);
			for (size_t v = 0; v < nvals; v++)
				keyword_hit_add(m, i, j - i + 1, &lex->entries[vals[v]]);
		}
	}
}

/* The longest hit of sense from word lo (end false) or ending at word hi (end true), within [lo, hi). */
static size_t keyword_edge(const struct keyword_msg *m, enum keyword_sense sense, size_t lo,
			   size_t hi, bool end)
{
	size_t best = 0;

	for (size_t i = 0; i < m->nhits; i++) {
		const struct keyword_hit *h = &m->hits[i];
		if (h->e->sense != sense || h->start < lo || h->start + h->n > hi)
			continue;
		if ((end ? h->start + h->n == hi : h->start == lo) && h->n > best)
			best = h->n;
	}
	return best;
}

/* The core of words [lo, hi): courtesy words at the ends set aside, repeats once. */
static size_t keyword_core_of(const struct keyword_msg *m, size_t lo, size_t hi, size_t *out)
{
	const struct keyword_text *t = &m->t;
	size_t k, n = 0;

	while (lo < hi && (k = keyword_edge(m, KEYWORD_SENSE_COURTESY, lo, hi, false)) > 0)
		lo += k;
	while (lo < hi && (k = keyword_edge(m, KEYWORD_SENSE_COURTESY, lo, hi, true)) > 0)
		hi -= k;
	for (size_t i = lo; i < hi; i++) {
		const struct keyword_word *w = &t->words[i];
		const struct keyword_word *prev = n ? &t->words[out[n - 1]] : NULL;
		if (prev && prev->flen == w->flen &&
		    memcmp(t->fold.data + prev->foff, t->fold.data + w->foff, w->flen) == 0)
			continue;
		out[n++] = i;
	}
	return n;
}

static void keyword_msg_init(struct keyword_msg *m, const struct keyword_set *set, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->set = set;
	keyword_text_init(&m->t, text);
	m->core = xcalloc(2 * m->t.n + 1, sizeof(size_t));
	m->scratch = m->core + m->t.n;
	m->hits = m->local;
	m->cap = ARRAY_LEN(m->local);
	keyword_collect(m, &set->base->lex);
	keyword_collect(m, &set->lex);
	m->ncore = keyword_core_of(m, 0, m->t.n, m->core);
}

static void keyword_msg_free(struct keyword_msg *m)
{
	keyword_text_free(&m->t);
	free(m->core);
	if (m->hits != m->local)
		free(m->hits);
}

/* ---- what the rules share ---- */

static void keyword_found(struct keyword_match *out, enum keyword_match_kind kind,
			  enum keyword_rule rule, const struct keyword_entry *e,
			  const struct keyword *k)
{
	out->kind = kind;
	out->rule = rule;
	out->keyword = k ? k : e->keyword;
	out->form = e->form;
	if (e->lang[0])
		snprintf(out->language, sizeof(out->language), "%s", e->lang);
}

/* A hit of sense among words [lo, hi), or NULL. */
static const struct keyword_hit *keyword_hit_within(const struct keyword_msg *m,
						    enum keyword_sense sense, size_t lo, size_t hi)
{
	for (size_t i = 0; i < m->nhits; i++)
		if (m->hits[i].e->sense == sense && m->hits[i].start >= lo &&
		    m->hits[i].start + m->hits[i].n <= hi)
			return &m->hits[i];
	return NULL;
}

/*
 * A negation ending at most KEYWORD_NEGATION_GAP words before h, in its clause, with no
 * barrier ("but") between: of need ("don't need", "no") before a keyword, of anything
 * ("not", "don't") before an opt-out phrase.
 */
static bool keyword_negated(const struct keyword_msg *m, const struct keyword_hit *h,
			    bool keyword)
{
	enum keyword_sense sense = keyword ? KEYWORD_SENSE_NEED_NEGATION : KEYWORD_SENSE_NEGATION;

	for (size_t i = 0; i < m->nhits; i++) {
		const struct keyword_hit *x = &m->hits[i];
		size_t end = x->start + x->n;
		bool clause = false;
		if (x->e->sense != sense || end > h->start || h->start - end > KEYWORD_NEGATION_GAP)
			continue;
		for (size_t w = end; w <= h->start && !clause; w++)
			clause = m->t.words[w].clause_start;
		if (!clause && !keyword_hit_within(m, KEYWORD_SENSE_BARRIER, end, h->start))
			return true;
	}
	return false;
}

/* An exception ("don't text me after 8pm") covering opt-out phrase h. */
static bool keyword_excepted(const struct keyword_msg *m, const struct keyword_hit *h)
{
	for (size_t i = 0; i < m->nhits; i++) {
		const struct keyword_hit *x = &m->hits[i];
		if (x->e->sense == KEYWORD_SENSE_NOT_OPT_OUT && x->start <= h->start &&
		    x->start + x->n >= h->start + h->n)
			return true;
	}
	return false;
}

/* ---- opt-out, opt-in and whole-reply keywords ---- */

/* The entry that the words idx[0..n) make whole, of one of senses, preferring earlier senses. */
static const struct keyword_entry *keyword_whole(const struct keyword_lex *lex,
						 const struct keyword_msg *m, const size_t *idx,
						 size_t n, const enum keyword_sense *senses,
						 size_t nsenses)
{
	size_t nvals;
	const uint32_t *vals = keyword_lex_whole(lex, &m->t, idx, n, &nvals);

	for (size_t s = 0; s < nsenses; s++)
		for (size_t i = 0; i < nvals; i++)
			if (lex->entries[vals[i]].sense == senses[s])
				return &lex->entries[vals[i]];
	return NULL;
}

static bool keyword_rule_opt_whole(const struct keyword_msg *m, struct keyword_match *out)
{
	static const enum keyword_sense opt[] = { KEYWORD_SENSE_OPT_OUT_WORD,
						  KEYWORD_SENSE_OPT_OUT_CLAUSE,
						  KEYWORD_SENSE_OPT_IN_WORD };
	static const enum keyword_sense form[] = { KEYWORD_SENSE_FORM };
	const struct keyword_entry *e = keyword_whole(&m->set->base->lex, m, m->core, m->ncore,
						      opt, ARRAY_LEN(opt));

	if (e) {
		keyword_found(out, KEYWORD_MATCH_EXACT, e->sense == KEYWORD_SENSE_OPT_IN_WORD
				   ? KEYWORD_RULE_OPT_IN_WORD : KEYWORD_RULE_OPT_OUT_WORD, e, NULL);
		return true;
	}
	e = keyword_whole(&m->set->lex, m, m->core, m->ncore, form, 1);
	if (e && (e->keyword->action == KEYWORD_OPT_OUT || e->keyword->action == KEYWORD_OPT_IN)) {
		keyword_found(out, KEYWORD_MATCH_EXACT, KEYWORD_RULE_KEYWORD, e, NULL);
		return true;
	}
	return false;
}

static bool keyword_rule_opt_clause(struct keyword_msg *m, struct keyword_match *out)
{
	static const enum keyword_sense clause[] = { KEYWORD_SENSE_OPT_OUT_CLAUSE };
	const struct keyword_text *t = &m->t;

	for (size_t lo = 0, hi; lo < t->n; lo = hi) {
		for (hi = lo + 1; hi < t->n && !t->words[hi].clause_start; hi++)
			;
		size_t n = keyword_core_of(m, lo, hi, m->scratch);
		const struct keyword_entry *e = keyword_whole(&m->set->base->lex, m, m->scratch, n,
							      clause, 1);
		if (e) {
			keyword_found(out, KEYWORD_MATCH_EXACT, KEYWORD_RULE_OPT_OUT_CLAUSE, e, NULL);
			return true;
		}
	}
	return false;
}

static bool keyword_rule_opt_phrase(const struct keyword_msg *m, struct keyword_match *out)
{
	for (size_t i = 0; i < m->nhits; i++) {
		const struct keyword_hit *h = &m->hits[i];
		if (h->e->sense == KEYWORD_SENSE_OPT_OUT_PHRASE && !keyword_excepted(m, h) &&
		    !keyword_negated(m, h, false)) {
			keyword_found(out, KEYWORD_MATCH_EXACT, KEYWORD_RULE_OPT_OUT_PHRASE, h->e, NULL);
			return true;
		}
	}
	return false;
}

static bool keyword_rule_whole_form(const struct keyword_msg *m, struct keyword_match *out)
{
	static const enum keyword_sense form[] = { KEYWORD_SENSE_FORM };
	const struct keyword_entry *e = keyword_whole(&m->set->lex, m, m->core, m->ncore, form, 1);

	if (!e)
		return false;
	keyword_found(out, KEYWORD_MATCH_EXACT, KEYWORD_RULE_KEYWORD, e, NULL);
	return true;
}

/* ---- keywords among other words ---- */

#define KEYWORD_PICK_MAX 16

/* The keywords hits name, and how they were told apart. */
struct keyword_pick {
	const struct keyword *k[KEYWORD_PICK_MAX];
	const struct keyword_hit *hit[KEYWORD_PICK_MAX];
	size_t n;
};

static void keyword_pick_add(struct keyword_pick *p, const struct keyword_hit *h)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->k[i] == h->e->keyword)
			return;
	if (p->n < KEYWORD_PICK_MAX) {
		p->k[p->n] = h->e->keyword;
		p->hit[p->n++] = h;
	}
}

/* The flow a flow keyword's target names, its length in *len. */
static const char *keyword_flow_of(const struct keyword *k, size_t *len)
{
	if (k->action != KEYWORD_FLOW || !k->target)
		return NULL;
	*len = strcspn(k->target, ":");
	return k->target;
}

/* The broad keyword that starts the flow of every keyword of p at its first question, or NULL. */
static const struct keyword *keyword_flow_start(const struct keyword_set *set,
						const struct keyword_pick *p)
{
	size_t len = 0, l;
	const char *flow = keyword_flow_of(p->k[0], &len);

	for (size_t i = 1; flow && i < p->n; i++) {
		const char *f = keyword_flow_of(p->k[i], &l);
		if (!f || l != len || memcmp(f, flow, len) != 0)
			return NULL;
	}
	for (size_t i = 0; flow && i < set->n; i++) {
		const struct keyword *k = &set->items[i];
		if (k->broad && k->action == KEYWORD_FLOW && !k->answer &&
		    strlen(k->target) == len && memcmp(k->target, flow, len) == 0)
			return k;
	}
	return NULL;
}

/*
 * One keyword out of the picked ones: the only one; else the only specific one; else,
 * for several specific ones of one flow, its broad keyword (*several set); else, when all
 * are broad, the only flow keyword. NULL when the hits remain ambiguous.
 */
static const struct keyword_hit *keyword_resolve(const struct keyword_set *set,
						 const struct keyword_pick *p,
						 const struct keyword **several)
{
	struct keyword_pick specific = { .n = 0 }, flows = { .n = 0 };

	*several = NULL;
	if (p->n == 1)
		return p->hit[0];
	for (size_t i = 0; i < p->n; i++) {
		if (!p->k[i]->broad)
			keyword_pick_add(&specific, p->hit[i]);
		else if (p->k[i]->action == KEYWORD_FLOW)
			keyword_pick_add(&flows, p->hit[i]);
	}
	if (specific.n == 1)
		return specific.hit[0];
	if (specific.n > 1) {
		*several = keyword_flow_start(set, &specific);
		return *several ? specific.hit[0] : NULL;
	}
	return flows.n == 1 ? flows.hit[0] : NULL;
}

/* Any built-in keyword word (STOP, END, START ...) in the text. */
static bool keyword_mentions_builtin(const struct keyword_msg *m)
{
	for (size_t i = 0; i < m->nhits; i++)
		if (m->hits[i].e->sense == KEYWORD_SENSE_MENTION)
			return true;
	return false;
}

/* Picks the keywords of hits of sense (FORM: flow and help-request keywords only), not negated. */
static void keyword_pick_sense(const struct keyword_msg *m, enum keyword_sense sense,
			       struct keyword_pick *p)
{
	for (size_t i = 0; i < m->nhits; i++) {
		const struct keyword_hit *h = &m->hits[i];
		const struct keyword *k = h->e->keyword;
		if (h->e->sense != sense || !k ||
		    (sense == KEYWORD_SENSE_FORM && k->action != KEYWORD_FLOW &&
		     k->action != KEYWORD_HELP_REQUEST) ||
		    keyword_negated(m, h, true))
			continue;
		keyword_pick_add(p, h);
	}
}

static bool keyword_decide_pick(const struct keyword_msg *m, const struct keyword_pick *p,
				enum keyword_match_kind kind, enum keyword_rule rule,
				struct keyword_match *out)
{
	const struct keyword *several;
	const struct keyword_hit *h = keyword_resolve(m->set, p, &several);

	if (!h)
		return false;
	keyword_found(out, kind, several ? KEYWORD_RULE_SEVERAL_BRANCHES : rule, h->e, several);
	return true;
}

/* True when every keyword picked is broad. */
static bool keyword_pick_broad(const struct keyword_pick *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->k[i]->broad)
			return false;
	return true;
}

/*
 * Keywords and hints among other words: acted on in short messages, asked about in
 * longer ones or when only hinted; a specific hint beside only broad keywords is asked
 * about too ("forms online" asks about UC rather than starting ONLINE). *stop is set when
 * keywords were named but could not be told apart: such a message is for a person.
 */
static bool keyword_rule_sentence(const struct keyword_msg *m, struct keyword_match *out,
				  bool *stop)
{
	struct keyword_pick forms = { .n = 0 }, hints = { .n = 0 };
	bool longer = m->t.n > KEYWORD_SENTENCE_MAX_WORDS;

	*stop = false;
	if (m->t.n > KEYWORD_CONFIRM_MAX_WORDS || keyword_mentions_builtin(m))
		return false;
	keyword_pick_sense(m, KEYWORD_SENSE_FORM, &forms);
	keyword_pick_sense(m, KEYWORD_SENSE_HINT, &hints);
	if ((!forms.n || keyword_pick_broad(&forms)) && hints.n && !keyword_pick_broad(&hints) &&
	    keyword_decide_pick(m, &hints, KEYWORD_MATCH_CONFIRM, KEYWORD_RULE_HINT, out))
		return true;
	if (forms.n) {
		*stop = !keyword_decide_pick(m, &forms, longer ? KEYWORD_MATCH_CONFIRM
							       : KEYWORD_MATCH_EXACT,
					     longer ? KEYWORD_RULE_LONG_MESSAGE : KEYWORD_RULE_SENTENCE,
					     out);
		return !*stop;
	}
	return hints.n && keyword_decide_pick(m, &hints, KEYWORD_MATCH_CONFIRM, KEYWORD_RULE_HINT, out);
}

/* ---- typos ---- */

/* Decodes s into at most UTF8_DISTANCE_MAX_CHARS code points; the count, or SIZE_MAX. */
static size_t keyword_decode(const char *s, size_t len, uint32_t *out)
{
	size_t i = 0, n = 0;

	while (i < len) {
		if (n == UTF8_DISTANCE_MAX_CHARS)
			return SIZE_MAX;
		out[n++] = codec_utf8_next(s, len, &i);
	}
	return n;
}

/* True when b is a with two neighbouring characters swapped. */
static bool keyword_is_swap(const char *a, size_t alen, const char *b, size_t blen)
{
	uint32_t ca[UTF8_DISTANCE_MAX_CHARS], cb[UTF8_DISTANCE_MAX_CHARS];
	size_t na = keyword_decode(a, alen, ca), nb = keyword_decode(b, blen, cb), i = 0;

	if (na != nb || na == SIZE_MAX)
		return false;
	while (i < na && ca[i] == cb[i])
		i++;
	return i + 1 < na && ca[i] == cb[i + 1] && ca[i + 1] == cb[i] &&
	       memcmp(ca + i + 2, cb + i + 2, (na - i - 2) * sizeof(*ca)) == 0;
}

/* Whether word w is known: any phrase of one word from the base or the set. */
static bool keyword_word_known(const struct keyword_msg *m, size_t w)
{
	for (size_t i = 0; i < m->nhits; i++)
		if (m->hits[i].start == w && m->hits[i].n == 1)
			return true;
	return false;
}

struct keyword_typo {
	const struct keyword_typo_form *found;
	bool swap, ambiguous;
};

static void keyword_typo_try(struct keyword_typo *ty, const struct keyword_typo_form *f,
			     const char *word, size_t len, size_t chars)
{
	size_t longer = MAX(chars, f->chars), shorter = MIN(chars, f->chars);
	bool swap;

	if (longer - shorter > 1 || utf8_distance(word, len, f->form, f->len) != 1)
		return;
	swap = chars == f->chars && keyword_is_swap(word, len, f->form, f->len);
	if (!(longer >= KEYWORD_TYPO_LONGER && shorter >= KEYWORD_TYPO_SHORTER) &&
	    !(swap && shorter >= KEYWORD_SWAP_CHARS))
		return;
	if (ty->found && ty->found->keyword != f->keyword)
		ty->ambiguous = true;
	if (!ty->found)
		ty->swap = swap;
	ty->found = ty->found ? ty->found : f;
}

static bool keyword_rule_typo(const struct keyword_msg *m, struct keyword_match *out)
{
	struct keyword_typo ty = { 0 };
	const struct keyword_word *w;
	const char *word;

	if (m->ncore != 1 || keyword_word_known(m, m->core[0]))
		return false;
	w = &m->t.words[m->core[0]];
	word = keyword_text_fold(&m->t, m->core[0]);
	size_t chars = utf8_count(word, w->flen);
	for (size_t i = 0; i < m->set->ntypos; i++)
		keyword_typo_try(&ty, &m->set->typos[i], word, w->flen, chars);
	if (!ty.found || ty.ambiguous)
		return false;
	out->kind = KEYWORD_MATCH_TYPO;
	out->rule = ty.swap ? KEYWORD_RULE_SWAP : KEYWORD_RULE_TYPO;
	out->keyword = ty.found->keyword;
	out->form = ty.found->form;
	return true;
}

/* ---- the language ---- */

struct keyword_votes {
	const char *lang[16];
	int n[16];
	size_t count;
};

static void keyword_vote(struct keyword_votes *v, const char *lang)
{
	size_t i = 0;

	while (i < v->count && strcmp(v->lang[i], lang) != 0)
		i++;
	if (i == v->count) {
		if (v->count == ARRAY_LEN(v->lang))
			return;
		v->lang[v->count] = lang;
		v->n[v->count++] = 0;
	}
	v->n[i]++;
}

/* Votes for each language whose own letters word w has. */
static void keyword_vote_letters(const struct keyword_msg *m, size_t w, struct keyword_votes *v)
{
	const struct keyword_base *b = m->set->base;
	const char *s = keyword_text_fold(&m->t, w);
	size_t len = m->t.words[w].flen;

	for (size_t l = 0; l < b->nlangs; l++) {
		bool has = false;
		for (size_t i = 0; i < len && !has;) {
			uint32_t cp = codec_utf8_next(s, len, &i);
			for (size_t r = 0; r < b->langs[l].nranges && !has; r++)
				has = cp >= b->langs[l].ranges[r][0] && cp <= b->langs[l].ranges[r][1];
		}
		if (has)
			keyword_vote(v, b->langs[l].code);
	}
}

/* The language most of the text's words belong to, when one leads. */
static void keyword_guess_language(const struct keyword_msg *m, struct keyword_match *out)
{
	struct keyword_votes v = { .count = 0 };
	size_t best = 0;
	bool tie = false;

	for (size_t i = 0; i < m->nhits; i++)
		if (m->hits[i].e->lang[0])
			keyword_vote(&v, m->hits[i].e->lang);
	for (size_t w = 0; w < m->t.n; w++) {
		const char *s = keyword_text_fold(&m->t, w);
		bool other = false; /* past Latin, Greek and Cyrillic: Arabic starts at 0xd8 */
		for (size_t i = 0; i < m->t.words[w].flen && !other; i++)
			other = (unsigned char)s[i] >= 0xd8;
		if (other)
			keyword_vote_letters(m, w, &v);
	}
	for (size_t i = 1; i < v.count; i++) {
		if (v.n[i] > v.n[best]) {
			best = i;
			tie = false;
		} else if (v.n[i] == v.n[best]) {
			tie = true;
		}
	}
	if (v.count && !tie)
		snprintf(out->language, sizeof(out->language), "%s", v.lang[best]);
}

/* ---- reading a reply ---- */

static bool keyword_rules(struct keyword_msg *m, struct keyword_match *out)
{
	bool stop;

	if (keyword_rule_opt_whole(m, out) || keyword_rule_opt_clause(m, out) ||
	    keyword_rule_opt_phrase(m, out) || keyword_rule_whole_form(m, out))
		return true;
	if (keyword_rule_sentence(m, out, &stop) || stop)
		return !stop;
	return keyword_rule_typo(m, out);
}

void keyword_match(const struct keyword_set *set, const char *text, struct keyword_match *out)
{
	struct keyword_msg m;

	memset(out, 0, sizeof(*out));
	if (!set || !set->base)
		return;
	keyword_msg_init(&m, set, text);
	if (!keyword_rules(&m, out))
		memset(out, 0, sizeof(*out));
	if (!out->language[0])
		keyword_guess_language(&m, out);
	keyword_msg_free(&m);
}

void keyword_core(const struct keyword_set *set, const char *text, struct sbuf *out)
{
	struct keyword_msg m;

	if (!set || !set->base)
		return;
	keyword_msg_init(&m, set, text);
	for (size_t i = 0; i < m.ncore; i++) {
		const struct keyword_word *w = &m.t.words[m.core[i]];
		if (i)
			sbuf_addc(out, ' ');
		sbuf_add(out, m.t.norm.data + w->off, w->len);
	}
	keyword_msg_free(&m);
}

bool keyword_is_yes(const struct keyword_set *set, const char *text)
{
	struct keyword_msg m;
	bool yes = false, all = true;

	if (!set || !set->base)
		return false;
	keyword_msg_init(&m, set, text);
	for (size_t w = 0; w < m.t.n && all; w++) {
		bool covered = false;
		for (size_t i = 0; i < m.nhits; i++) {
			const struct keyword_hit *h = &m.hits[i];
			bool in = w >= h->start && w < h->start + h->n;
			if (in && h->e->sense == KEYWORD_SENSE_YES)
				yes = covered = true;
			else if (in && h->e->sense == KEYWORD_SENSE_COURTESY)
				covered = true;
		}
		all = covered;
	}
	keyword_msg_free(&m);
	return yes && all;
}

/* ---- explaining ---- */

void keyword_explain(const struct keyword_match *m, struct sbuf *out)
{
	const char *word = m->keyword ? m->keyword->word : "";
	const char *form = m->form ? m->form : "";

	switch (m->rule) {
	case KEYWORD_RULE_NONE:
		sbuf_adds(out, "No keyword, opt-out phrase, hint or likely typo is in the reply.");
		break;
	case KEYWORD_RULE_OPT_OUT_WORD:
		sbuf_printf(out, "The whole reply is \"%s\", a built-in way to opt out (%s).", form, word);
		break;
	case KEYWORD_RULE_OPT_OUT_CLAUSE:
		sbuf_printf(out, "A sentence of the reply is \"%s\", a built-in way to opt out.", form);
		break;
	case KEYWORD_RULE_OPT_OUT_PHRASE:
		sbuf_printf(out, "The reply has the opt-out phrase \"%s\", with no negation before it.",
			    form);
		break;
	case KEYWORD_RULE_OPT_IN_WORD:
		sbuf_printf(out, "The whole reply is \"%s\", a built-in way to opt back in (%s).", form,
			    word);
		break;
	case KEYWORD_RULE_KEYWORD:
		sbuf_printf(out, "The whole reply is \"%s\", %s %s.", form,
			    strcmp(form, word) == 0 ? "the keyword" : "a word for the keyword", word);
		break;
	case KEYWORD_RULE_SENTENCE:
		sbuf_printf(out, "The reply is short and names \"%s\" (keyword %s), and no other "
			    "keyword in its place.", form, word);
		break;
	case KEYWORD_RULE_SEVERAL_BRANCHES:
		sbuf_printf(out, "The reply names several kinds of help (\"%s\" among them), so %s "
			    "asks which.", form, word);
		break;
	case KEYWORD_RULE_HINT:
		sbuf_printf(out, "\"%s\" in the reply suggests %s: the tenant is asked before "
			    "anything is done.", form, word);
		break;
	case KEYWORD_RULE_LONG_MESSAGE:
		sbuf_printf(out, "The reply names \"%s\" (keyword %s) in a long message: the tenant "
			    "is asked before anything is done.", form, word);
		break;
	case KEYWORD_RULE_TYPO:
		sbuf_printf(out, "The reply is one letter away from \"%s\" (%s): the tenant is asked "
			    "before anything is done.", form, word);
		break;
	case KEYWORD_RULE_SWAP:
		sbuf_printf(out, "The reply is \"%s\" (%s) with two letters swapped: the tenant is "
			    "asked before anything is done.", form, word);
		break;
	}
}

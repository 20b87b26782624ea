#include "sms/gsm.h"

#include "common/codec.h"

#define GSM_SINGLE_SEPTETS 160
#define GSM_PART_SEPTETS 153
#define GSM_SINGLE_UCS2 70
#define GSM_PART_UCS2 67

/* The non-ASCII characters of the GSM 03.38 basic table. */
static const uint16_t gsm_basic_extra[] = {
	0x00a1, /* ¡ */ 0x00a3, /* £ */ 0x00a4, /* ¤ */ 0x00a5, /* ¥ */ 0x00a7, /* § */
	0x00bf, /* ¿ */ 0x00c4, /* Ä */ 0x00c5, /* Å */ 0x00c6, /* Æ */ 0x00c7, /* Ç */
	0x00c9, /* É */ 0x00d1, /* Ñ */ 0x00d6, /* Ö */ 0x00d8, /* Ø */ 0x00dc, /* Ü */
	0x00df, /* ß */ 0x00e0, /* à */ 0x00e4, /* ä */ 0x00e5, /* å */ 0x00e6, /* æ */
	0x00e8, /* è */ 0x00e9, /* é */ 0x00ec, /* ì */ 0x00f1, /* ñ */ 0x00f2, /* ò */
	0x00f6, /* ö */ 0x00f8, /* ø */ 0x00f9, /* ù */ 0x00fc, /* ü */ 0x0393, /* Γ */
	0x0394, /* Δ */ 0x0398, /* Θ */ 0x039b, /* Λ */ 0x039e, /* Ξ */ 0x03a0, /* Π */
	0x03a3, /* Σ */ 0x03a6, /* Φ */ 0x03a8, /* Ψ */ 0x03a9, /* Ω */
};

/* Septets a code point costs in GSM-7: 1 basic, 2 extension (ESC + code), 0 not encodable. */
static int gsm_septets(uint32_t cp)
{
	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == 0x20ac)
		return 2;
	if (cp >= 0x20 && cp < 0x7f) {
		if (cp == '[' || cp == '\\' || cp == ']' || cp == '^' || cp == '{' || cp == '|' ||
		    cp == '}' || cp == '~')
			return 2;
		return cp == '`' ? 0 : 1;
	}
	for (size_t i = 0; i < ARRAY_LEN(gsm_basic_extra); i++)
		if (gsm_basic_extra[i] == cp)
			return 1;
	return 0;
}

const char *gsm_encoding_str(enum gsm_encoding e)
{
	switch (e) {
	case GSM_ENC_GSM7: return "gsm7";
	case GSM_ENC_UCS2: return "ucs2";
	}
	return "unknown";
}

/* Cost of a code point in the chosen encoding: septets, or UTF-16 code units. */
static int gsm_cost(enum gsm_encoding enc, uint32_t cp)
{
	if (enc == GSM_ENC_GSM7)
		return gsm_septets(cp);
	return cp > 0xffff ? 2 : 1;
}

/* Parts needed when characters never straddle a part boundary. */
static int gsm_count_parts(const char *s, size_t len, enum gsm_encoding enc, size_t part)
{
	size_t i = 0, used = 0;
	int parts = 1;

	while (i < len) {
		size_t c = (size_t)gsm_cost(enc, codec_utf8_next(s, len, &i));
		if (used + c > part) {
			parts++;
			used = 0;
		}
		used += c;
	}
	return parts;
}

void gsm_analyze(const char *utf8, size_t len, struct gsm_info *out)
{
	size_t i = 0, septets = 0, ucs2 = 0, chars = 0;
	bool gsm = true;

	while (i < len) {
		uint32_t cp = codec_utf8_next(utf8, len, &i);
		int s = gsm_septets(cp);
		gsm = gsm && s > 0;
		septets += (size_t)s;
		ucs2 += cp > 0xffff ? 2 : 1;
		chars++;
	}
	out->encoding = gsm ? GSM_ENC_GSM7 : GSM_ENC_UCS2;
	out->units = gsm ? septets : ucs2;
	out->chars = chars;
	if (out->units == 0)
		out->segments = 0;
	else if (out->units <= (gsm ? GSM_SINGLE_SEPTETS : GSM_SINGLE_UCS2))
		out->segments = 1;
	else
		out->segments = gsm_count_parts(utf8, len, out->encoding,
						gsm ? GSM_PART_SEPTETS : GSM_PART_UCS2);
}

static bool gsm_listed(const uint32_t *cps, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n; i++)
		if (cps[i] == cp)
			return true;
	return false;
}

size_t gsm_ucs2_chars(const char *utf8, size_t len, uint32_t *out)
{
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t cp = codec_utf8_next(utf8, len, &i);
		if (gsm_septets(cp) == 0 && !gsm_listed(out, n, cp))
			out[n++] = cp;
	}
	return n;
}

struct gsm_lookalike {
	uint32_t from;
	const char *to;
};

/*
 * Sorted by code point. Letters are never changed: ŵ, ŷ, ą, ł ... stay as written.
 * gsm_smart_replace copies other ASCII without a lookup: an ASCII entry goes there too.
 */
static const struct gsm_lookalike gsm_lookalikes[] = {
	{0x0009, " "},   /* tab */
	{0x0060, "'"},   /* ` grave accent used as an apostrophe */
	{0x00a0, " "},   /* no-break space */
	{0x00ab, "\""},  /* « */
	{0x00ad, ""},    /* soft hyphen (invisible) */
	{0x00b4, "'"},   /* ´ acute accent used as an apostrophe */
	{0x00bb, "\""},  /* » */
	{0x02bc, "'"},   /* ʼ modifier letter apostrophe */
	{0x2000, " "}, {0x2001, " "}, {0x2002, " "}, {0x2003, " "}, {0x2004, " "},
	{0x2005, " "}, {0x2006, " "}, {0x2007, " "}, {0x2008, " "}, {0x2009, " "},
	{0x200a, " "},   /* en quad ... hair space */
	{0x200b, ""},    /* zero-width space */
	{0x2010, "-"},   /* hyphen */
	{0x2011, "-"},   /* non-breaking hyphen */
	{0x2012, "-"},   /* figure dash */
	{0x2013, "-"},   /* en dash */
	{0x2014, "-"},   /* em dash */
	{0x2015, "-"},   /* horizontal bar */
	{0x2018, "'"},   /* ‘ */
	{0x2019, "'"},   /* ’ */
	{0x201a, "'"},   /* ‚ */
	{0x201b, "'"},   /* ‛ */
	{0x201c, "\""},  /* “ */
	{0x201d, "\""},  /* ” */
	{0x201e, "\""},  /* „ */
	{0x201f, "\""},  /* ‟ */
	{0x2022, "-"},   /* • bullet */
	{0x2023, "-"},   /* ‣ triangular bullet */
	{0x2024, "."},   /* one dot leader */
	{0x2026, "..."}, /* … */
	{0x2028, "\n"},  /* line separator */
	{0x2029, "\n"},  /* paragraph separator */
	{0x202f, " "},   /* narrow no-break space */
	{0x2032, "'"},   /* ′ prime */
	{0x2033, "\""},  /* ″ double prime */
	{0x2039, "'"},   /* ‹ */
	{0x203a, "'"},   /* › */
	{0x2043, "-"},   /* ⁃ hyphen bullet */
	{0x205f, " "},   /* medium mathematical space */
	{0x2060, ""},    /* word joiner */
	{0x2212, "-"},   /* − minus sign */
	{0x3000, " "},   /* ideographic space */
	{0xfeff, ""},    /* zero-width no-break space, byte-order mark */
};

static const char *gsm_lookalike(uint32_t cp)
{
	size_t lo = 0, hi = ARRAY_LEN(gsm_lookalikes);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gsm_lookalikes[mid].from == cp)
			return gsm_lookalikes[mid].to;
		if (gsm_lookalikes[mid].from < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void gsm_smart_replace(struct sbuf *out, const char *utf8, size_t len)
{
	size_t i = 0;

	sbuf_reserve(out, len);
	while (i < len) {
		size_t start = i;
		/* ASCII other than tab and ` has no lookalike: copy it a run at a time */
		while (i < len && (unsigned char)utf8[i] < 0x80 && utf8[i] != '\t' && utf8[i] != '`')
			i++;
		if (i > start) {
			sbuf_add(out, utf8 + start, i - start);
			continue;
		}
		uint32_t cp = codec_utf8_next(utf8, len, &i);
		const char *to = gsm_lookalike(cp);
		if (to)
			sbuf_adds(out, to);
		else
			sbuf_add(out, utf8 + start, i - start);
	}
}

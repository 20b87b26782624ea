#include "sms/phone.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Longest run of digits we look at; anything longer is the wrong length anyway. */
#define PHONE_DIGITS_MAX 20

/* A number written by a person, reduced to its digits. */
struct phone_digits {
	char d[PHONE_DIGITS_MAX + 1];
	size_t n;
	bool plus;     /* written with a leading '+' */
	bool too_long; /* more than PHONE_DIGITS_MAX digits */
};

const char *phone_status_str(enum phone_status s)
{
	switch (s) {
	case PHONE_OK: return "ok";
	case PHONE_EMPTY: return "empty";
	case PHONE_BAD_CHARACTER: return "bad_character";
	case PHONE_WRONG_LENGTH: return "wrong_length";
	case PHONE_NOT_UK: return "not_uk";
	case PHONE_LANDLINE: return "landline";
	case PHONE_PERSONAL: return "personal";
	case PHONE_PAGER: return "pager";
	case PHONE_NON_GEOGRAPHIC: return "non_geographic";
	}
	return "unknown";
}

const char *phone_status_message(enum phone_status s)
{
	switch (s) {
	case PHONE_OK:
		return "this is a UK mobile number that can receive texts";
	case PHONE_EMPTY:
		return "the phone number is empty; enter a UK mobile number such as 07700 900123";
	case PHONE_BAD_CHARACTER:
		return "the phone number contains letters or symbols; use only digits, spaces and "
		       "a leading + (for example 07700 900123)";
	case PHONE_WRONG_LENGTH:
		return "the phone number has the wrong number of digits; UK mobile numbers have 11 "
		       "digits starting 07 (for example 07700 900123)";
	case PHONE_NOT_UK:
		return "this is not a UK number; texts can only go to UK mobile numbers (07... or "
		       "+447...)";
	case PHONE_LANDLINE:
		return "this is a landline number; texts can only go to UK mobile numbers (07...)";
	case PHONE_PERSONAL:
		return "this is a 070 personal number, not a mobile; texts can only go to UK mobile "
		       "numbers (07... but not 070)";
	case PHONE_PAGER:
		return "this is a 076 pager number, not a mobile; texts can only go to UK mobile "
		       "numbers (07... but not 076)";
	case PHONE_NON_GEOGRAPHIC:
		return "this is a non-geographic number (such as 05, 08 or 09), not a mobile; texts "
		       "can only go to UK mobile numbers (07...)";
	}
	return "the phone number is not valid";
}

static bool phone_is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '.' || c == '-' || c == '(' || c == ')' || c == '/';
}

/* A UTF-8 no-break space (U+00A0), as spreadsheets paste it. */
static size_t phone_nbsp_len(const char *p)
{
	return (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0 ? 2 : 0;
}

static void phone_digits_add(struct phone_digits *pd, char c)
{
	if (pd->n == PHONE_DIGITS_MAX) {
		pd->too_long = true;
		return;
	}
	pd->d[pd->n++] = c;
	pd->d[pd->n] = '\0';
}

/*
 * Collects the digits of in. A '+' is allowed only before the first digit. "(0)" right
 * after an international prefix ("+44 (0)7700 ...") is the written-out trunk prefix and is
 * dropped later, together with a plain "+44 07700 ..." zero.
 */
static enum phone_status phone_scan(const char *in, struct phone_digits *pd)
{
	memset(pd, 0, sizeof(*pd));
	for (const char *p = in; *p; p++) {
		size_t nb = phone_nbsp_len(p);
		if (nb) {
			p += nb - 1;
		} else if (*p >= '0' && *p <= '9') {
			phone_digits_add(pd, *p);
		} else if (*p == '+' && pd->n == 0 && !pd->plus) {
			pd->plus = true;
		} else if (!phone_is_separator(*p)) {
			return PHONE_BAD_CHARACTER;
		}
	}
	return pd->n == 0 ? PHONE_EMPTY : PHONE_OK;
}

/*
 * Splits an international number (digits after + or 00) into the UK national significant
 * number when it is +44. Returns PHONE_NOT_UK for other plausible international numbers.
 */
static enum phone_status phone_international(const char *digits, const char **nsn)
{
	size_t n = strlen(digits);

	if (strncmp(digits, "44", 2) != 0)
		return n >= 7 && n <= 15 ? PHONE_NOT_UK : PHONE_WRONG_LENGTH;
	*nsn = digits + 2;
	if ((*nsn)[0] == '0') /* "+44 (0)7700 ..." or "+44 07700 ..." */
		(*nsn)++;
	return PHONE_OK;
}

/* Finds the UK national significant number (no trunk 0) in what a person wrote. */
static enum phone_status phone_uk_nsn(const struct phone_digits *pd, const char **nsn)
{
	const char *d = pd->d;

	if (pd->too_long)
		return PHONE_WRONG_LENGTH;
	if (pd->plus)
		return phone_international(d, nsn);
	if (strncmp(d, "00", 2) == 0)
		return phone_international(d + 2, nsn);
	if (strncmp(d, "44", 2) == 0 && pd->n >= 11)
		return phone_international(d, nsn);
	if (d[0] == '0') {
		*nsn = d + 1;
		return PHONE_OK;
	}
	if (d[0] == '7' && pd->n == 10) {
		*nsn = d;
		return PHONE_OK;
	}
	return PHONE_WRONG_LENGTH;
}

/*
 * Classifies a UK national significant number. Mobiles are 7 + 9 digits, except 70
 * (personal numbering) and 76 (pagers; 7624 is the Isle of Man's mobile range and is a
 * mobile). Other ranges have 9 or 10 digits.
 */
static enum phone_status phone_uk_classify(const char *nsn)
{
	size_t n = strlen(nsn);

	if (nsn[0] == '7') {
		if (n != 10)
			return PHONE_WRONG_LENGTH;
		if (nsn[1] == '0')
			return PHONE_PERSONAL;
		if (nsn[1] == '6' && strncmp(nsn, "7624", 4) != 0)
			return PHONE_PAGER;
		return PHONE_OK;
	}
	if (n < 9 || n > 10 || nsn[0] == '0')
		return PHONE_WRONG_LENGTH;
	if (nsn[0] >= '1' && nsn[0] <= '3')
		return PHONE_LANDLINE;
	return PHONE_NON_GEOGRAPHIC;
}

enum phone_status phone_uk_mobile(const char *in, char out[PHONE_E164_MAX])
{
	struct phone_digits pd;
	const char *nsn = NULL;
	enum phone_status st;

	out[0] = '\0';
	st = phone_scan(in ? in : "", &pd);
	if (st != PHONE_OK)
		goto out;
	st = phone_uk_nsn(&pd, &nsn);
	if (st != PHONE_OK)
		goto out;
	st = phone_uk_classify(nsn);
	if (st == PHONE_OK)
		snprintf(out, PHONE_E164_MAX, "+44%s", nsn);
out:
	return st;
}

/*
 * Writes in E.164 form a number a provider reported: international
 * with + or 00, UK national with a leading 0, or international digits without a prefix.
 */
static enum phone_status phone_e164_digits(const struct phone_digits *pd,
					   char out[PHONE_E164_MAX])
{
	const char *d = pd->d;
	bool national = false;

	if (pd->too_long)
		return PHONE_WRONG_LENGTH;
	if (pd->plus) {
		/* digits as written */
	} else if (strncmp(d, "00", 2) == 0) {
		d += 2;
	} else if (d[0] == '0') {
		d += 1, national = true;
	}
	if (!national && strncmp(d, "440", 3) == 0) /* "+44 (0)7700 ..." */
		d += 3, national = true;
	else if (!national && strncmp(d, "44", 2) == 0)
		d += 2, national = true;
	size_t n = strlen(d);
	if (national && (n < 9 || n > 10 || d[0] == '0'))
		return PHONE_WRONG_LENGTH;
	if (!national && (n < 7 || n > 15 || d[0] == '0'))
		return PHONE_WRONG_LENGTH;
	out[0] = '+';
	memcpy(out + 1, national ? "44" : "", national ? 2 : 0);
	memcpy(out + 1 + (national ? 2 : 0), d, n + 1); /* at most 1 + 15 digits + NUL */
	return PHONE_OK;
}

enum phone_status phone_e164(const char *in, char out[PHONE_E164_MAX])
{
	struct phone_digits pd;
	enum phone_status st;

	out[0] = '\0';
	st = phone_scan(in ? in : "", &pd);
	if (st != PHONE_OK)
		goto out;
	st = phone_e164_digits(&pd, out);
out:
	return st;
}

void phone_mask(const char *e164, char *out, size_t size)
{
	size_t len, ndigits = 0, seen = 0, j = 0;

	if (!size)
		return;
	if (!e164)
		e164 = "";
	len = strlen(e164);
	for (size_t i = 0; i < len; i++)
		ndigits += e164[i] >= '0' && e164[i] <= '9';
	for (size_t i = 0; i < len && j + 1 < size; i++) {
		bool digit = e164[i] >= '0' && e164[i] <= '9';
		if (digit)
			seen++;
		out[j++] = digit && seen + 4 > ndigits ? '*' : e164[i];
	}
	out[j] = '\0';
}

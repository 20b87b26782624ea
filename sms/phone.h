/*
 * phone.h: UK phone-number normalisation.
 */
#ifndef SIGNPOST_PHONE_H
#define SIGNPOST_PHONE_H

#include <stddef.h>

#define PHONE_E164_MAX 17 /* "+" + up to 15 digits + NUL */

enum phone_status {
	PHONE_OK,
	PHONE_EMPTY,
	PHONE_BAD_CHARACTER,  /* letters or symbols other than spaces . - ( ) + */
	PHONE_WRONG_LENGTH,   /* too few or too many digits for a UK number */
	PHONE_NOT_UK,         /* a valid-looking international number outside +44 */
	PHONE_LANDLINE,       /* 01, 02, 03 numbers cannot receive texts */
	PHONE_PERSONAL,       /* 070 personal numbering */
	PHONE_PAGER,          /* 076 pagers */
	PHONE_NON_GEOGRAPHIC, /* 05, 08, 09 and other non-mobile ranges */
};

const char *phone_status_str(enum phone_status s);
/* A sentence for officers saying what is wrong and what to do, e.g. "... is a landline ...". */
const char *phone_status_message(enum phone_status s);

/*
 * Normalises a UK mobile number written any common way (07..., 7... (10 digits), 447...,
 * +447..., 00447..., with spaces, dots, dashes and brackets) to E.164 "+447xxxxxxxxx".
 *
 * Separators are spaces, tabs, no-break spaces, . - / ( ); '+' only before the first
 * digit. The trunk 0 written after the country code ("+44 (0)7700 900123", "+44 07700
 * 900123") is dropped. Digits starting 00 or '+' are international: +44 goes on, any other
 * country of 7 to 15 digits is PHONE_NOT_UK. Digits starting 44 with 11 or more digits are
 * read as +44. A mobile is +44 7 and nine more digits, except 70 (personal numbering)
 * and 76 (pagers); 7624, the Isle of Man's mobiles, is a mobile, and so are the Guernsey
 * and Jersey ranges: they are +44 7 numbers UK providers text. Which 07 blocks Ofcom has
 * allocated is not checked (allocations change; a provider reports unknown numbers).
 * Other ranges: 01, 02, 03 PHONE_LANDLINE; 04, 05, 06, 08, 09 PHONE_NON_GEOGRAPHIC (when
 * 9 or 10 digits long). out is "" unless the result is PHONE_OK.
 */
enum phone_status phone_uk_mobile(const char *in, char out[PHONE_E164_MAX]);

/*
 * Normalises a sender number as a provider reports it ("447700900123", "+447700900123",
 * "07700900123", "0033612345678") to E.164. Any country is accepted. Returns PHONE_OK,
 * PHONE_EMPTY, PHONE_BAD_CHARACTER or PHONE_WRONG_LENGTH.
 */
enum phone_status phone_e164(const char *in, char out[PHONE_E164_MAX]);

/* Writes "+44770090****" style masking for logs: all but the last four digits kept. */
void phone_mask(const char *e164, char *out, size_t size);

#endif

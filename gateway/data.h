/*
 * data.h: data files from data/, built into the binary (see scripts/embed-data.sh).
 */
#ifndef SIGNPOST_DATA_H
#define SIGNPOST_DATA_H

/* The default keyword set. */
extern const char data_keywords_json[];
/* The built-in words: opt-outs, courtesy words, negations, languages (triage/keyword.h). */
extern const char data_builtin_words_json[];
/* Bank holidays in England and Wales as published by GOV.UK. */
extern const char data_bank_holidays_england_and_wales_json[];
/* The shipped triage flows (data/flows/). */
extern const char data_digital_skills_json[];
extern const char data_followup_json[];
/* Common passwords that console accounts may not use. */
extern const char data_common_passwords_txt[];

#endif

#!/usr/bin/env bash
# phone_phonenumbers.sh: phone_uk_mobile against Google's libphonenumber (Debian's
# python3-phonenumbers) over a few thousand UK-shaped and foreign numbers written the ways
# people write them. Numbers are made up at run time and never stored.
#
#   BUILD=build/san tests/diff/phone_phonenumbers.sh     (from the repository root)
#   N=20000 SEED=7 ... to try more or other inputs (SEED defaults to $SIGNPOST_TEST_SEED,
#   else a fixed one; see oracle_lib.sh).
#
# What must agree:
#   - libphonenumber says valid and MOBILE with country code 44 (regions GB, GG, JE, IM):
#     we say ok with the same E.164.
#   - libphonenumber says valid and another type with country code 44: we refuse, and when
#     we name a range it is the same kind (FIXED_LINE -> landline, PAGER -> pager,
#     PERSONAL_NUMBER -> personal, UAN (03, 055) -> landline or non_geographic,
#     TOLL_FREE / PREMIUM_RATE / SHARED_COST / VOIP -> non_geographic).
#   - libphonenumber says valid with another country code: we say not_uk.
#   - libphonenumber says the length is impossible (too short or too long): we refuse.
#
# Deliberate differences, counted but not failures:
#   - Ofcom's drama range 07700 900000-900999 is invalid in libphonenumber; we accept it
#     (it is what every fixture and demo uses, and it is shaped like any mobile).
#   - libphonenumber knows which 07 blocks Ofcom has allocated; we accept any 07 number
#     outside 070 and 076 and let the provider report an unallocated one. Allocation
#     changes every month and a stale table would refuse real tenants.
#   - Crown dependencies: libphonenumber files 07624 (Isle of Man) and 07781, 07839,
#     07911, 07509, 07797, 07829, 07937 ... (Guernsey, Jersey) under regions IM, GG and JE.
#     They are +44 7 mobiles that UK SMS providers deliver to, so we accept them: the
#     comparison treats MOBILE in GB, GG, JE and IM alike. 07624 is a mobile even though
#     other 076 numbers are pagers.
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"

BUILD=${BUILD:-build/san}
BIN="$BUILD/tests/test_phone"
N=${N:-4000}
SEED=$(oracle_seed 20261125 "${SEED:-}") || exit 2

oracle_need phone_phonenumbers "$BIN" || exit

exec /usr/bin/python3 - "$BIN" "$N" "$SEED" "$ORACLE_SANITIZER_MARKS" <<'PY'
import random
import re
import subprocess
import sys

import phonenumbers
from phonenumbers import PhoneNumberType as T

binary, n, seed, sanitizer_marks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rnd = random.Random(seed)


def digits(k):
    return "".join(rnd.choice("0123456789") for _ in range(k))


CROWN = ["7624", "7781", "7839", "7911", "7509", "7797", "7829", "7937", "7700"]
FOREIGN = [("33", "6", 8), ("1", "", 10), ("353", "8", 8), ("49", "15", 9), ("48", "5", 8),
           ("91", "9", 9), ("7", "9", 9), ("34", "6", 8), ("61", "4", 8), ("31", "6", 8)]


def uk_nsn():
    """A UK national significant number (no trunk 0) of some kind."""
    r = rnd.random()
    if r < 0.45:
        return "7" + rnd.choice("123456789") + digits(8)
    if r < 0.52:
        return rnd.choice(CROWN) + digits(6)
    if r < 0.55:
        return "7700900" + digits(3)          # drama range
    if r < 0.60:
        return "70" + digits(8)
    if r < 0.65:
        return "76" + digits(8)
    if r < 0.75:
        return rnd.choice("12") + digits(rnd.choice([8, 9]))
    if r < 0.85:
        p = rnd.choice(["3", "55", "56", "800", "808", "84", "87", "9"])
        return p + digits(rnd.choice([9, 10]) - len(p))
    return "7" + digits(rnd.choice([6, 7, 8, 10, 11]))  # wrong lengths


def grouped(s):
    """s split into groups with a separator people use."""
    sep = rnd.choice([" ", "", "-", ".", " ", " - "])
    out, i = [], 0
    while i < len(s):
        k = rnd.choice([2, 3, 3, 4, 5, 6])
        out.append(s[i:i + k])
        i += k
    return sep.join(out)


def write_uk(nsn):
    style = rnd.randrange(9)
    if style == 0:
        return grouped("0" + nsn)
    if style == 1:
        return "(0" + nsn[:4] + ") " + grouped(nsn[4:])
    if style == 2:
        return nsn if rnd.random() < 0.5 else grouped(nsn)
    if style == 3:
        return "44" + nsn
    if style == 4:
        return "+44 " + grouped(nsn)
    if style == 5:
        return "+44" + nsn
    if style == 6:
        return "0044 " + grouped(nsn)
    if style == 7:
        return "+44 (0)" + grouped(nsn)
    return "  " + grouped("0" + nsn) + " "


def write_foreign():
    cc, lead, k = rnd.choice(FOREIGN)
    body = lead + digits(k - len(lead) + 1)
    return (rnd.choice(["+", "00", "+ "]) + cc + " " + grouped(body))


def make_input():
    if rnd.random() < 0.12:
        return write_foreign()
    return write_uk(uk_nsn())


inputs = [make_input() for _ in range(n)]
proc = subprocess.run([binary, "--normalise"], input="".join(s.encode().hex() + "\n" for s in inputs),
                      capture_output=True, text=True)
if re.search(sanitizer_marks, proc.stderr):
    print("phone_phonenumbers: FAIL: a sanitizer reported in %s --normalise (seed %d):\n%s"
          % (binary, seed, proc.stderr[:6000]))
    sys.exit(1)
if proc.returncode != 0:
    sys.stderr.write(proc.stderr)
    # Its exit 2 means it could not read an input it was given: the test is not set up.
    print("phone_phonenumbers: FAIL: %s --normalise failed (exit %d, seed %d)"
          % (binary, proc.returncode, seed))
    sys.exit(2 if proc.returncode == 2 else 1)
ours = [line.split(" ", 1) for line in proc.stdout.splitlines()]
if len(ours) != len(inputs):
    print("phone_phonenumbers: %d answers for %d inputs" % (len(ours), len(inputs)))
    sys.exit(1)

KIND = {
    T.FIXED_LINE: {"landline"}, T.UAN: {"landline", "non_geographic"},
    T.PAGER: {"pager"}, T.PERSONAL_NUMBER: {"personal"},
    T.TOLL_FREE: {"non_geographic"}, T.PREMIUM_RATE: {"non_geographic"},
    T.SHARED_COST: {"non_geographic"}, T.VOIP: {"non_geographic"},
    T.VOICEMAIL: {"non_geographic"},
}
TYPE_NAME = {getattr(T, k): k for k in dir(T) if k.isupper()}
NAMED = {"landline", "pager", "personal", "non_geographic"}
IMPOSSIBLE = {phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.TOO_LONG,
              phonenumbers.ValidationResult.INVALID_LENGTH}

stats = dict(mobile=0, crown=0, refused=0, foreign=0, length=0, both_refuse=0, drama=0,
             unallocated=0, skipped=0)


def oracle(text):
    try:
        return phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None


def compare(text, status, e164):
    num = oracle(text)
    if num is None:
        stats["skipped"] += 1
        return None
    valid = phonenumbers.is_valid_number(num)
    kind = phonenumbers.number_type(num)
    want_e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if valid and num.country_code == 44 and kind == T.MOBILE:
        region = phonenumbers.region_code_for_number(num)
        stats["crown" if region != "GB" else "mobile"] += 1
        if status != "ok" or e164 != want_e164:
            return "libphonenumber: %s mobile (%s)" % (want_e164, region)
        return None
    if valid and num.country_code == 44:
        stats["refused"] += 1
        if status == "ok":
            return "libphonenumber: %s is %s, not a mobile" % (want_e164, TYPE_NAME.get(kind))
        if status in NAMED and status not in KIND.get(kind, NAMED):
            return "libphonenumber: type %s" % TYPE_NAME.get(kind)
        return None
    if valid:
        stats["foreign"] += 1
        return None if status == "not_uk" else "libphonenumber: valid for +%d" % num.country_code
    if phonenumbers.is_possible_number_with_reason(num) in IMPOSSIBLE and num.country_code == 44:
        stats["length"] += 1
        return "libphonenumber: impossible length" if status == "ok" else None
    if status == "ok" and e164.startswith("+447700900"):
        stats["drama"] += 1
    elif status == "ok":
        stats["unallocated"] += 1
    else:
        stats["both_refuse"] += 1
    return None


def mismatches(answers):
    found = []
    for text, (status, e164) in zip(inputs, answers):
        why = compare(text, status, e164)
        if why:
            found.append("%r: ours %s %s; %s" % (text, status, e164, why))
    return found


# The comparison must be able to fail: one wrong answer planted in a copy is caught.
canary = [list(a) for a in ours]
for a in canary:
    if a[0] == "ok" and not a[1].startswith("+447700900"):
        a[0], a[1] = "pager", "-"
        break
canary_caught = len(mismatches(canary)) > 0
for key in stats:
    stats[key] = 0
bad = mismatches(ours)
if not canary_caught:
    bad.append("a planted wrong answer was not caught: the comparison cannot fail")

for line in bad[:25]:
    print("  " + line)
compared = n - stats["skipped"] - stats["drama"] - stats["unallocated"]
print("phone_phonenumbers: %d inputs, %d compared (%d GB mobiles, %d Crown dependency "
      "mobiles, %d other UK ranges refused, %d foreign, %d impossible lengths, %d invalid "
      "and refused by both); accepted where libphonenumber says invalid: %d drama range, "
      "%d unallocated 07; %d unparsable; a planted error is caught; %d mismatches (seed %d)"
      % (n, compared, stats["mobile"], stats["crown"], stats["refused"], stats["foreign"],
         stats["length"], stats["both_refuse"], stats["drama"], stats["unallocated"],
         stats["skipped"], len(bad), seed))
if bad or compared < n // 2 or min(stats["mobile"], stats["refused"], stats["foreign"]) == 0:
    sys.exit(1)
PY

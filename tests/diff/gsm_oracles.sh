#!/usr/bin/env bash
# gsm_oracles.sh: gsm_analyze against two independent implementations over a few thousand
# random and hand-picked texts.
#
#   BUILD=build/san tests/diff/gsm_oracles.sh     (from the repository root)
#   N=20000 SEED=7 ... to try more or other texts (SEED defaults to $SIGNPOST_TEST_SEED,
#   else a fixed one; see oracle_lib.sh).
#
# Oracles:
#   - perl's Encode::GSM0338 (3GPP TS 23.038 tables): a text is GSM-7 exactly when it
#     encodes without a fallback, and its septet count is the length of the encoding (an
#     extension character is ESC + code, two septets).
#   - npm split-sms 0.1.7 (tests/oracles): encoding, units (septets, or UTF-16 code units
#     from its byte count / 2) and number of parts. Its GSM splitter moves an extension
#     character that would start at septet 153 to the next part and its Unicode splitter
#     does the same for a surrogate pair at unit 67, as the spec requires, so parts are
#     compared as they are. One difference is deliberate: for the empty text split-sms
#     reports one (empty) part; there is nothing to send, so gsm_analyze reports 0. For
#     that text we assert 0 instead of split-sms's answer.
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"

BUILD=${BUILD:-build/san}
BIN="$BUILD/tests/test_gsm"
N=${N:-3000}
SEED=$(oracle_seed 20261125 "${SEED:-}") || exit 2
ORACLES=tests/oracles

oracle_need gsm_oracles "$BIN" || exit
if [[ ! -d "$ORACLES/node_modules/split-sms" ]]; then
	npm ci --prefix "$ORACLES" >/dev/null || exit 2
fi

oracle_tmpdir
work=$ORACLE_TMP

# The corpus: one hex-encoded UTF-8 text per line.
/usr/bin/python3 - "$N" "$SEED" >"$work/corpus" <<'PY' || { echo "gsm_oracles: FAIL: no corpus (seed $SEED)"; exit 2; }
import random
import sys

n, seed = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)

BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
         "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
EXT = "\f^{}\\[~]|€"
WELSH = "ŵŷŴŶâêîôûŵŷáéíóúàèìòùäëïöüÿ"
POLISH = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"
OTHER = "`¢’‘“”–—…\u00a0\t\x1bç©®°±µ¶·¼½¾×÷ĀЖж中文한"
EMOJI = ["😀", "👍", "👍🏽", "🙏", "❤️", "🇬🇧", "🏴󠁧󠁢󠁷󠁬󠁳󠁿", "👨‍👩‍👧", "🛑", "✅", "😂", "🤷‍♀️", "𝐀"]

texts = ["", "a", "€", "{}", "Hello", BASIC, EXT, BASIC + EXT, WELSH, POLISH, OTHER,
         "".join(EMOJI), "Dŵr a thŷ. Croeso i'r gwasanaeth.", "Zażółć gęślą jaźń",
         "It’s “free” – honest…", "Reply STOP to stop 🛑"]
texts += list(BASIC) + list(EXT) + list(WELSH) + list(POLISH) + list(OTHER) + EMOJI
for k in (69, 70, 71, 72, 133, 134, 135, 136, 152, 153, 154, 159, 160, 161, 162, 305, 306,
          307, 308, 459, 460, 461):
    texts.append("a" * k)
    texts.append("ŵ" * k)
for total in (159, 160, 161, 162, 200, 305, 306, 307, 308, 320, 460, 461):
    for pos in (150, 151, 152, 153, 154, 155, 158, 159, 160):
        if pos < total:
            for ch in "€[\f":
                texts.append("a" * pos + ch + "a" * (total - pos - 1))
for total in (69, 70, 71, 72, 133, 134, 135, 136, 140):
    for pos in (64, 65, 66, 67, 68, 69, 70, 132, 133, 134):
        if pos < total:
            texts.append("ŵ" * pos + "😀" + "ŵ" * (total - pos - 1))
            texts.append("a" * pos + "😀" + "a" * (total - pos - 1))
texts.append("€" * 80)
texts.append("€" * 81)
texts.append("€" * 153)
texts.append("😀" * 35)
texts.append("😀" * 36)
texts.append("😀" * 67)


def random_text():
    length = rnd.choice([rnd.randrange(0, 40), rnd.randrange(100, 180), rnd.randrange(140, 320),
                         rnd.randrange(300, 700)])
    mode = rnd.random()
    if mode < 0.45:
        pool = [BASIC] * 8 + [EXT]
    elif mode < 0.6:
        pool = [EXT]
    elif mode < 0.75:
        pool = [BASIC] * 8 + [WELSH, POLISH]
    elif mode < 0.9:
        pool = [BASIC] * 6 + [EXT, EMOJI]
    else:
        pool = [BASIC, EXT, WELSH, POLISH, OTHER, EMOJI]
    if mode >= 0.45 and mode < 0.6:
        return "".join(rnd.choice(EXT + BASIC[:10]) for _ in range(length))
    return "".join(rnd.choice(rnd.choice(pool)) for _ in range(length))


while len(texts) < n:
    texts.append(random_text())
for t in texts:
    print(t.encode("utf-8").hex())
PY

status=0
oracle_run gsm_oracles "$work/ours.err" "$BIN" --analyze <"$work/corpus" >"$work/ours" || status=$?
if [[ $status != 0 ]]; then
	echo "gsm_oracles: FAIL (seed $SEED)"
	exit $status
fi

/usr/bin/perl -MEncode -e '
	while (my $hex = <STDIN>) {
		chomp $hex;
		my $s = Encode::decode("UTF-8", pack("H*", $hex), Encode::FB_CROAK);
		my $e = eval { Encode::encode("gsm0338", $s, Encode::FB_CROAK | Encode::LEAVE_SRC) };
		print defined $e ? "gsm7 " . length($e) . "\n" : "ucs2 -\n";
	}' <"$work/corpus" >"$work/perl" ||
	{ echo "gsm_oracles: FAIL: perl's Encode::GSM0338 could not read the corpus"; exit 2; }

node -e '
	const split = require(process.argv[1]);
	const lines = require("fs").readFileSync(0, "utf8").split("\n");
	const out = [];
	for (const hex of lines.slice(0, -1)) {
		const r = split.split(Buffer.from(hex, "hex").toString("utf8"), { summary: true });
		const gsm = r.characterSet === split.GSM;
		out.push((gsm ? "gsm7 " : "ucs2 ") + (gsm ? r.bytes : r.bytes / 2) + " " + r.parts.length);
	}
	process.stdout.write(out.join("\n") + "\n");
' "$PWD/$ORACLES/node_modules/split-sms" <"$work/corpus" >"$work/split" ||
	{ echo "gsm_oracles: FAIL: split-sms could not read the corpus"; exit 2; }

/usr/bin/python3 - "$work" "$SEED" <<'PY'
import sys

work, seed = sys.argv[1], sys.argv[2]
read = lambda name: open("%s/%s" % (work, name)).read().splitlines()
corpus, ours, perl, split = read("corpus"), read("ours"), read("perl"), read("split")
if not (len(corpus) == len(ours) == len(perl) == len(split)):
    print("gsm_oracles: line counts differ: corpus %d, ours %d, perl %d, split-sms %d"
          % (len(corpus), len(ours), len(perl), len(split)))
    sys.exit(1)



def check(answers):
    """Mismatches, and counts of GSM-7, UCS-2, multi-part and empty texts."""
    bad, gsm7, ucs2, multi, empty = [], 0, 0, 0, 0
    for hexline, o, p, s in zip(corpus, answers, perl, split):
        enc, units, segments, chars = o.split()
        text = bytes.fromhex(hexline).decode("utf-8")
        show = repr(text if len(text) < 60 else text[:28] + "..." + text[-28:])
        gsm7 += enc == "gsm7"
        ucs2 += enc == "ucs2"
        multi += int(segments) > 1
        if int(chars) != len(text):
            bad.append("%s: ours %d chars, python %d" % (show, int(chars), len(text)))
        want_perl = "gsm7 " + units if enc == "gsm7" else "ucs2 -"
        if p != want_perl:
            bad.append("%s (%d chars): ours %s, Encode::GSM0338 %s" % (show, len(text), o, p))
        if text == "":
            empty += 1
            if o != "gsm7 0 0 0":
                bad.append("empty text: ours %s, expected gsm7 0 0 0" % o)
            continue
        if s != "%s %s %s" % (enc, units, segments):
            bad.append("%s (%d chars): ours %s, split-sms %s" % (show, len(text), o, s))
    return bad, gsm7, ucs2, multi, empty


# The comparison must be able to fail: one segment count off by one in a copy is caught.
canary = list(ours)
for i, o in enumerate(canary):
    enc, units, segments, chars = o.split()
    if int(segments) > 1:
        canary[i] = "%s %s %d %s" % (enc, units, int(segments) - 1, chars)
        break
bad, gsm7, ucs2, multi, documented = check(ours)
if not check(canary)[0]:
    bad.append("a planted wrong answer was not caught: the comparison cannot fail")
for line in bad[:25]:
    print("  " + line)
print("gsm_oracles: %d texts (%d GSM-7, %d UCS-2, %d multi-part); Encode::GSM0338 and "
      "split-sms compared on each (%d empty texts checked against the documented answer); a planted error is caught; %d mismatches (seed %s)"
      % (len(corpus), gsm7, ucs2, multi, documented, len(bad), seed))
sys.exit(1 if bad or gsm7 < 100 or ucs2 < 100 or multi < 100 else 0)
PY

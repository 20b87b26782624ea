// twilio_sign.js: random X-Twilio-Signature cases signed by the twilio npm package.
//
// usage: node twilio_sign.js COUNT SEED CASES_FILE EXPECT_FILE
// Writes one JSON object per line to CASES_FILE, {"token","url","method","body",
// "signature"}, and 1 or 0 per line to EXPECT_FILE: whether a verifier must accept it.
// Each random request yields a case signed over the URL as received, one signed over the
// URL with the scheme's default port added or removed when that applies, and tampered
// cases (one character of the signature, a field name or value, the URL, or the token
// changed; a field dropped or added) that must be refused. A request with a repeated
// identical field also yields a case with one copy dropped, which must still be accepted.
"use strict";

const fs = require("fs");
const twilio = require("twilio");

const [count, seed, casesFile, expectFile] = process.argv.slice(2);
if (!expectFile) {
  console.error("usage: node twilio_sign.js COUNT SEED CASES_FILE EXPECT_FILE");
  process.exit(2);
}

// mulberry32: a small seeded generator, so a failing run can be repeated.
let state = Number(seed) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const pick = (list) => list[int(list.length)];

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PATH_CHARS = ALNUM + "-._~!$&()*+,;=:@";
const QUERY_CHARS = ALNUM + "-._~!$()*+,;:@/?";
const ESCAPES = ["%20", "%2B", "%26", "%3D", "%E2%9C%93", "%C3%A9", "%F0%9F%98%80"];
// Latin-1, BMP, private use and full-width (sort after surrogates in UTF-16), astral.
const UNICODE = ["é", "£", "ü", "✓", "中", "\uE000", "\uFF5E", "😀", "𝄞", "\u00A0"];
const PUNCT = " &=+%#?/:;,'\"<>\\\n\t";
const NAMES = ["To", "From", "Body", "MessageSid", "SmsSid", "AccountSid", "MessageStatus",
  "NumMedia", "ErrorCode", "ApiVersion", "FromCity", "ToCountry", "a", "A", "b", "Body2"];

function str(chars, min, max) {
  let s = "";
  for (let n = min + int(max - min + 1); n > 0; n--) s += chars[int(chars.length)];
  return s;
}

function value() {
  let s = "";
  for (let n = int(12); n > 0; n--) {
    const r = random();
    s += r < 0.6 ? pick(ALNUM) : r < 0.8 ? pick(PUNCT) : pick(UNICODE);
  }
  return s;
}

function name() {
  const r = random();
  return r < 0.7 ? pick(NAMES) : r < 0.9 ? str(ALNUM, 1, 8) : str(ALNUM, 1, 3) + pick(UNICODE);
}

function urlParts() {
  const https = random() < 0.7;
  const def = https ? "443" : "80";
  const port = pick(["", "", def, "8080"]);
  let path = "";
  for (let n = int(4); n > 0; n--) path += "/" + (random() < 0.2 ? pick(ESCAPES) : "") +
    str(PATH_CHARS, 0, 8);
  let query = "";
  for (let n = int(4); n > 0; n--) {
    query += (query ? "&" : "") + str(ALNUM, 1, 5) + "=" + str(QUERY_CHARS, 0, 6) +
      (random() < 0.3 ? pick(ESCAPES) : "");
  }
  return {
    scheme: https ? "https://" : "http://",
    host: pick(["example.com", "signpost.example", "127.0.0.1", "[::1]", "user@example.org"]),
    port, def, path: path || pick(["", "/"]), query,
  };
}

function buildUrl(p, port) {
  return p.scheme + p.host + (port ? ":" + port : "") + p.path + (p.query ? "?" + p.query : "");
}

// A request: a list of [name, value] pairs, some names repeated, some values identical.
function fields() {
  const pairs = [];
  for (let n = int(8); n > 0; n--) {
    const k = name();
    pairs.push([k, value()]);
    if (random() < 0.15) pairs.push([k, random() < 0.5 ? pairs[pairs.length - 1][1] : value()]);
  }
  return pairs;
}

function params(pairs) {
  const p = {};
  for (const [k, v] of pairs) {
    if (!Object.prototype.hasOwnProperty.call(p, k)) p[k] = v;
    else p[k] = [].concat(p[k], v);
  }
  return p;
}

const body = (pairs) => new URLSearchParams(pairs).toString();
const sign = (token, url, pairs) => twilio.getExpectedTwilioSignature(token, url, params(pairs));

// One character replaced by another of a different kind.
function alter(s) {
  if (!s.length) return "x";
  const chars = Array.from(s);
  const i = int(chars.length);
  let c;
  do c = pick(ALNUM + "-_"); while (c === chars[i] || c.toLowerCase() === chars[i].toLowerCase());
  chars[i] = c;
  return chars.join("");
}

const cases = [];
let skipped = 0;

// validateRequest throws on a URL it cannot normalise, after the as-received check failed.
function validates(token, signature, url, fieldsObject) {
  try {
    return twilio.validateRequest(token, signature, url, fieldsObject);
  } catch (e) {
    return false;
  }
}

function emit(token, url, method, pairs, signature, expect) {
  const validated = validates(token, signature, url, method === "GET" ? {} : params(pairs));
  if (expect && !validated) throw new Error("oracle refuses a case it signed: " + url);
  if (!expect && validated) {
    skipped++; // the tampering happened to produce another valid request
    return;
  }
  cases.push([{ token, url, method, body: method === "GET" ? "" : body(pairs), signature },
    expect ? 1 : 0]);
}

function tampered(token, url, method, pairs, signature) {
  emit(token, url, method, pairs, alter(signature), false);
  emit(alter(token), url, method, pairs, signature, false);
  emit(token, alter(url), method, pairs, signature, false);
  if (method === "GET" || !pairs.length) return;
  const i = int(pairs.length);
  const changed = pairs.map((p, j) => (j === i ? (random() < 0.5 ? [alter(p[0]), p[1]] :
    [p[0], alter(p[1])]) : p));
  emit(token, url, method, changed, signature, false);
  emit(token, url, method, pairs.concat([["Extra", value()]]), signature, false);
  // Dropping a field changes the signed text, unless an identical pair remains: identical
  // pairs count once.
  const same = (a, b) => a[0] === b[0] && a[1] === b[1];
  const dup = pairs.findIndex((p, j) => pairs.some((q, k) => k !== j && same(p, q)));
  const unique = pairs.findIndex((p, j) => !pairs.some((q, k) => k !== j && same(p, q)));
  if (unique >= 0) emit(token, url, method, pairs.filter((_, j) => j !== unique), signature, false);
  if (dup >= 0) emit(token, url, method, pairs.filter((_, j) => j !== dup), signature, true);
}

for (let n = 0; n < Number(count); n++) {
  const token = str(ALNUM, 5, 40);
  const p = urlParts();
  const method = random() < 0.15 ? "GET" : "POST";
  const pairs = method === "GET" ? [] : fields();
  const url = buildUrl(p, p.port);
  const signature = sign(token, url, pairs);
  emit(token, url, method, pairs, signature, true);
  if (p.port === "" || p.port === p.def) {
    const other = buildUrl(p, p.port === "" ? p.def : "");
    emit(token, url, method, pairs, sign(token, other, pairs), true);
  }
  tampered(token, url, method, pairs, signature);
}

fs.writeFileSync(casesFile, cases.map((c) => JSON.stringify(c[0]) + "\n").join(""));
fs.writeFileSync(expectFile, cases.map((c) => c[1] + "\n").join(""));
const accepted = cases.filter((c) => c[1]).length;
console.error(`twilio_sign: ${cases.length} cases, ${accepted} valid, ` +
  `${cases.length - accepted} tampered, ${skipped} ambiguous tamperings skipped`);

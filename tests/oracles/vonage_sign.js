// vonage_sign.js: random Vonage "sig" cases checked by the @vonage/sms npm package.
//
// usage: node vonage_sign.js COUNT SEED CASES_FILE EXPECT_FILE
// Writes one JSON object per line to CASES_FILE, {"method", "secret", "params", "via"}
// (params includes "sig"), and 1 or 0 per line to EXPECT_FILE: whether the package's
// verifySignature accepts it. Signatures are computed here with Node's crypto and each
// must be accepted by the package (else this script stops); each valid case also yields
// tampered ones (a character of the signature, the secret, a field name or value
// changed; a field added or dropped; another algorithm) with the package's verdict.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const { SMS } = require("@vonage/sms");
const { seeded, ALNUM, TEXT } = require("./seeded");

const [count, seed, casesFile, expectFile] = process.argv.slice(2);
if (!expectFile) {
  console.error("usage: node vonage_sign.js COUNT SEED CASES_FILE EXPECT_FILE");
  process.exit(2);
}
const { random, int, pick, str, alter } = seeded(seed);
const sms = new SMS({ apiKey: "k", apiSecret: "s" });
// Our config names and the package's algorithm names.
const METHODS = { md5hash: "MD5HASH", md5: "MD5HMAC", sha1: "SHA1HMAC", sha256: "SHA256HMAC",
  sha512: "SHA512HMAC" };
const NAMES = ["msisdn", "to", "messageId", "text", "type", "keyword", "message-timestamp",
  "timestamp", "nonce", "concat", "concat-ref", "concat-total", "concat-part", "status",
  "err-code", "client-ref", "network-code", "price", "scts", "a", "A", "_z", "api-key"];

function sign(method, secret, params) {
  let s = "";
  for (const k of Object.keys(params).sort()) s += "&" + k + "=" + params[k].replace(/[&=]/g, "_");
  if (method === "md5hash") return crypto.createHash("md5").update(s + secret).digest("hex");
  return crypto.createHmac(method, secret).update(s).digest("hex");
}

function fields() {
  const p = {};
  for (let n = 1 + int(8); n > 0; n--) p[random() < 0.8 ? pick(NAMES) : str(ALNUM, 1, 6)] =
    str(TEXT, 0, 14);
  return p;
}

const cases = [];
let skipped = 0;

function emit(method, secret, params, expect) {
  const { sig, ...rest } = params;
  const accepted = sms.verifySignature(sig, rest, secret, METHODS[method]);
  if (expect && !accepted) throw new Error("the package refuses a case signed here");
  if (!expect && accepted) {
    skipped++;
    return;
  }
  cases.push([{ method, secret, params, via: pick(["get", "form", "json"]) }, accepted ? 1 : 0]);
}

for (let n = 0; n < Number(count); n++) {
  const method = pick(Object.keys(METHODS));
  const secret = str(ALNUM + "!$-_", 8, 40);
  const p = fields();
  const sig = sign(method, secret, p);
  emit(method, secret, { ...p, sig }, true);
  emit(method, secret, { ...p, sig: sig.toUpperCase() }, true);
  emit(method, secret, { ...p, sig: alter(sig) }, false);
  emit(method, alter(secret), { ...p, sig }, false);
  emit(pick(Object.keys(METHODS).filter((m) => m !== method)), secret, { ...p, sig }, false);
  const keys = Object.keys(p);
  const k = pick(keys);
  emit(method, secret, { ...p, [k]: alter(p[k]), sig }, false);
  emit(method, secret, { ...p, ["x" + str(ALNUM, 1, 4)]: str(TEXT, 0, 5), sig }, false);
  if (keys.length > 1) {
    const { [k]: _dropped, ...less } = p;
    emit(method, secret, { ...less, sig }, false);
  }
}

fs.writeFileSync(casesFile, cases.map((c) => JSON.stringify(c[0]) + "\n").join(""));
fs.writeFileSync(expectFile, cases.map((c) => c[1] + "\n").join(""));
const accepted = cases.filter((c) => c[1]).length;
console.error(`vonage_sign: ${cases.length} cases, ${accepted} valid, ` +
  `${cases.length - accepted} tampered, ${skipped} ambiguous tamperings skipped`);

// messagebird_sign.js: random MessageBird-Signature-JWT cases signed with jose (the
// library the messagebird npm package uses) and judged by the package's own verifier.
//
// usage: node messagebird_sign.js COUNT SEED CASES_FILE EXPECT_FILE
// Writes one JSON object per line to CASES_FILE, {"key", "jwt", "url", "body", "now"},
// and 1 or 0 per line to EXPECT_FILE: whether messagebird's webhook-signature-jwt
// verify() accepts the request at "now". Each signed request (HS256/384/512, URLs with
// queries and ports, unicode bodies or none) also yields altered ones: another key,
// URL, body, a body added or removed, a character of the token changed, and times
// before nbf and after exp around the 5 s tolerance.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const { SignJWT } = require("jose");
const { verify, VerifyOptions } = require("messagebird/lib/webhook-signature-jwt");
const { seeded, ALNUM, TEXT } = require("./seeded");

const [count, seed, casesFile, expectFile] = process.argv.slice(2);
if (!expectFile) {
  console.error("usage: node messagebird_sign.js COUNT SEED CASES_FILE EXPECT_FILE");
  process.exit(2);
}
const { random, int, pick, str, alter } = seeded(seed);
const sha256 = (s) => crypto.createHash("sha256").update(s).digest("hex");
const NOW = 1700000000;

function url() {
  let q = "";
  for (let n = int(4); n > 0; n--) q += (q ? "&" : "?") + str(ALNUM, 1, 5) + "=" +
    str(ALNUM + "-._~%", 0, 6);
  return pick(["https://", "http://"]) + pick(["example.com", "signpost.example",
    "127.0.0.1:8080"]) + "/v1/providers/" + str(ALNUM, 1, 8) + pick(["/status", "/inbound"]) + q;
}

async function sign(key, alg, u, body, now) {
  const claims = { url_hash: sha256(u) };
  if (body.length) claims.payload_hash = sha256(body);
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).setIssuer("MessageBird")
    .setNotBefore(now).setExpirationTime(now + 60).setJti(crypto.randomUUID())
    .sign(Buffer.from(key, "utf8"));
}

async function judge(c) {
  const opts = new VerifyOptions(true, true, {
    issuer: "MessageBird", algorithms: ["HS256", "HS384", "HS512"], clockTolerance: 5,
    currentDate: new Date(c.now * 1000) });
  const sk = crypto.createSecretKey(Buffer.from(c.key, "utf8"));
  try {
    await verify(c.url, c.body.length ? Buffer.from(c.body) : null, c.jwt, sk, opts);
    return 1;
  } catch (e) {
    return 0;
  }
}

async function main() {
  const cases = [];
  let skipped = 0;
  const emit = async (c, expect) => {
    const verdict = await judge(c);
    if (expect && !verdict) throw new Error("the package refuses a token signed here");
    if (!expect && verdict) {
      skipped++;
      return;
    }
    cases.push([c, verdict]);
  };
  for (let n = 0; n < Number(count); n++) {
    const key = str(ALNUM, 8, 40);
    const u = url();
    const body = random() < 0.4 ? "" : str(TEXT, 1, 40);
    const now = NOW + int(1000);
    const jwt = await sign(key, pick(["HS256", "HS384", "HS512"]), u, body, now);
    const base = { key, jwt, url: u, body, now: String(now) };
    await emit(base, true);
    await emit({ ...base, now: String(now + 64) }, true);
    await emit({ ...base, now: String(now - 5) }, true);
    await emit({ ...base, now: String(now + 65 + int(5)) }, false);
    await emit({ ...base, now: String(now - 6 - int(5)) }, false);
    await emit({ ...base, key: alter(key) }, false);
    await emit({ ...base, url: alter(u) }, false);
    await emit({ ...base, body: body.length ? (random() < 0.5 ? "" : alter(body)) : "x" }, false);
    const parts = jwt.split(".");
    const i = int(3);
    parts[i] = alter(parts[i]);
    await emit({ ...base, jwt: parts.join(".") }, false);
  }
  fs.writeFileSync(casesFile, cases.map((c) => JSON.stringify(c[0]) + "\n").join(""));
  fs.writeFileSync(expectFile, cases.map((c) => c[1] + "\n").join(""));
  const accepted = cases.filter((c) => c[1]).length;
  console.error(`messagebird_sign: ${cases.length} cases, ${accepted} valid, ` +
    `${cases.length - accepted} tampered, ${skipped} ambiguous tamperings skipped`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

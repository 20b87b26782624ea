// stdwebhook_sign.js: random Standard Webhooks cases from the standardwebhooks npm package.
//
// usage: node stdwebhook_sign.js COUNT SEED DIR
// Writes, one JSON object or answer per line:
//   DIR/sign.cases    {"secret","id","timestamp","body"}
//   DIR/sign.expect   the signature the package computes
//   DIR/verify.cases  {"secret","id","timestamp","signature","body","now"}
//   DIR/verify.expect 1 when the package's verify accepts the message at "now", else 0
"use strict";

const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const [count, seed, dir] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node stdwebhook_sign.js COUNT SEED DIR");
  process.exit(2);
}

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
const B64 = ALNUM + "+/";
const BODY = [...ALNUM, ..." {}[]\":,.\\\n\t'<>&", "é", "£", "✓", "中", "😀", "\uFF5E"];
// The package reads the clock for its 5-minute window: pin it so runs repeat.
const NOW = 1700000000;
Date.now = () => NOW * 1000;

function str(chars, min, max) {
  let s = "";
  for (let n = min + int(max - min + 1); n > 0; n--) s += pick(chars);
  return s;
}

function secret() {
  const key = Buffer.alloc(16 + int(49));
  for (let i = 0; i < key.length; i++) key[i] = int(256);
  return "whsec_" + key.toString("base64");
}

function alter(s) {
  const chars = Array.from(s.length ? s : "x");
  const i = int(chars.length);
  let c;
  do c = pick(ALNUM); while (c === chars[i]);
  chars[i] = c;
  return chars.join("");
}

function accepts(sec, id, timestamp, signature, body) {
  try {
    new Webhook(sec).verify(body, { "webhook-id": id, "webhook-timestamp": String(timestamp),
      "webhook-signature": signature }, { jsonParse: false });
    return 1;
  } catch (e) {
    return 0;
  }
}

const sign = [], verify = [];

function verifyCase(sec, id, timestamp, signature, body) {
  verify.push([{ secret: sec, id, timestamp: String(timestamp), signature, body, now: NOW },
    accepts(sec, id, timestamp, signature, body)]);
}

for (let n = 0; n < Number(count); n++) {
  const sec = secret();
  const wh = new Webhook(sec);
  const id = "msg_" + str(ALNUM + "-_.", 1, 30);
  const body = random() < 0.05 ? "" : str(BODY, 0, 200);
  const anyTime = 1000000000 + int(1000000000);
  sign.push([{ secret: sec, id, timestamp: String(anyTime), body },
    wh.sign(id, new Date(anyTime * 1000), body)]);

  // Near "now", across both edges of the 300 s window, the edges themselves first.
  const edges = [-301, -300, 300, 301];
  const ts = NOW + (n < edges.length ? edges[n] : int(801) - 400);
  const sig = wh.sign(id, new Date(ts * 1000), body);
  verifyCase(sec, id, ts, sig, body);
  verifyCase(sec, id, NOW, wh.sign(id, new Date(NOW * 1000), body), body);
  verifyCase(sec, id, NOW, wh.sign(id, new Date(NOW * 1000), body), alter(body));
  verifyCase(sec, alter(id), ts, sig, body);
  verifyCase(sec, id, ts + 1, sig, body);
  verifyCase(secret(), id, ts, sig, body);
  verifyCase(sec, id, ts, "v1," + alter(sig.slice(3)), body);
  verifyCase(sec, id, ts, "v2," + sig.slice(3), body);
  verifyCase(sec, id, ts, "v1," + str(B64, 43, 43) + "= " + sig, body);
  verifyCase(sec, id, ts, sig + " v1," + str(B64, 43, 43) + "=", body);
}

const write = (name, rows, f) => fs.writeFileSync(`${dir}/${name}`,
  rows.map((r) => f(r) + "\n").join(""));
write("sign.cases", sign, (r) => JSON.stringify(r[0]));
write("sign.expect", sign, (r) => r[1]);
write("verify.cases", verify, (r) => JSON.stringify(r[0]));
write("verify.expect", verify, (r) => r[1]);
const accepted = verify.filter((r) => r[1]).length;
console.error(`stdwebhook_sign: ${sign.length} signatures, ${verify.length} verifications ` +
  `(${accepted} accepted)`);

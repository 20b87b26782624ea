// seeded.js: a small seeded random generator (mulberry32) and string tools for the oracle
// scripts, so a failing run can be repeated with its seed.
"use strict";

function seeded(seed) {
  let state = Number(seed) >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(random() * n);
  const pick = (list) => list[int(list.length)];
  const str = (chars, min, max) => {
    let s = "";
    for (let n = min + int(max - min + 1); n > 0; n--) s += pick(chars);
    return s;
  };
  // One character replaced by a different one (never just its case changed).
  const alter = (s) => {
    if (!s.length) return "x";
    const chars = Array.from(s);
    const i = int(chars.length);
    let c;
    do c = pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    while (c.toLowerCase() === chars[i].toLowerCase());
    chars[i] = c;
    return chars.join("");
  };
  return { random, int, pick, str, alter };
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const TEXT = [...ALNUM, ..." &=+%#?/:;,'\"<>\\\n\t", "é", "£", "✓", "中", "😀", "\uFF5E"];

module.exports = { seeded, ALNUM, TEXT };

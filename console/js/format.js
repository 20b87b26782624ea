// Dates, times and numbers as people in England read them: "4 December 2026 at 3:05pm",
// in UK time whatever the browser's own time zone.
const TZ = 'Europe/London';

const dateFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: TZ });
const timeFmt = new Intl.DateTimeFormat('en-GB', { hour: 'numeric', minute: '2-digit', hour12: true, timeZone: TZ });
const numberFmt = new Intl.NumberFormat('en-GB');

export function date(iso) {
  return iso ? dateFmt.format(new Date(iso)) : '';
}

export function time(iso) {
  return iso ? timeFmt.format(new Date(iso)).replace(' ', '').toLowerCase() : '';
}

export function dateTime(iso) {
  return iso ? `${date(iso)} at ${time(iso)}` : '';
}

export function number(n) {
  return n === null || n === undefined ? '' : numberFmt.format(n);
}

// "1 text", "3 texts"
export function plural(n, one, many = `${one}s`) {
  return `${number(n)} ${n === 1 ? one : many}`;
}

export function percent(part, whole) {
  if (!whole) return '';
  return `${Math.round((100 * part) / whole)}%`;
}

// "universal_credit" as "Universal credit"
export function words(code) {
  if (!code) return '';
  const s = String(code).replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// A UK number in E.164 as people write it: +447700900123 as 07700 900123.
export function phone(e164) {
  if (!e164) return '';
  const m = /^\+44(\d{4})(\d{6})$/.exec(e164);
  return m ? `0${m[1]} ${m[2]}` : e164;
}

// The date input's value (YYYY-MM-DD) for an instant, in UK time.
export function isoDay(d = new Date()) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  return parts;
}

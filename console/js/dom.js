// HTML from templates, escaped by default: html`<p>${name}</p>` escapes name; a value
// made by html`` or raw() goes in as it is; arrays are joined; null, undefined and false
// give nothing. Pages build their markup this way and never concatenate strings into
// innerHTML themselves.

class Html {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function piece(value) {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  return escape(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => { out += piece(v) + strings[i + 1]; });
  return new Html(out);
}

// Markup that is already safe (built by html``, or a constant).
export function raw(text) {
  return new Html(text);
}

export function render(element, content) {
  element.innerHTML = piece(content);
}

export function qs(selector, root = document) {
  return root.querySelector(selector);
}

export function qsa(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

// Runs fn at most once per wait milliseconds of quiet.
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

// Bar charts drawn as SVG, each with its figures in a table for anyone who cannot see
// the bars (and for screen readers, which are given the table rather than the picture).
import { table } from './components.js';
import { html } from './dom.js';
import { number } from './format.js';

const W = 640;
const H = 220;
const PAD = { top: 12, right: 8, bottom: 36, left: 44 };

function niceMax(n) {
  if (n <= 5) return 5;
  const p = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= n);
}

// series: [{key, name}] (at most 3, coloured in order); rows: [{label, <key>: n, ...}]
export function barChart({ title, series, rows, caption = title }) {
  const max = niceMax(Math.max(1, ...rows.flatMap((r) => series.map((s) => r[s.key] || 0))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(rows.length, 1);
  const bar = Math.min(40, Math.max(1, (slot * 0.8) / series.length));
  const every = Math.ceil(rows.length / 8);
  const y = (v) => PAD.top + plotH - (plotH * v) / max;
  const bars = rows.map((r, i) => series.map((s, j) => {
    const v = r[s.key] || 0;
    const x = PAD.left + (i + 0.5) * slot + (j - series.length / 2) * bar;
    return html`<rect class="sp-chart__bar sp-chart__bar--${j}" x="${x.toFixed(1)}" y="${y(v).toFixed(1)}"
      width="${bar.toFixed(1)}" height="${(PAD.top + plotH - y(v)).toFixed(1)}"></rect>`;
  }));
  const labels = rows.map((r, i) => (i % every ? '' : html`<text class="sp-chart__label" x="${(PAD.left + (i + 0.5) * slot).toFixed(1)}"
      y="${H - PAD.bottom + 16}" text-anchor="middle">${r.short || r.label}</text>`));
  return html`<figure class="sp-chart">
    <figcaption class="govuk-heading-s">${title}</figcaption>
    <ul class="sp-chart__key" aria-hidden="true">${series.map((s, j) => html`<li><span class="sp-chart__swatch sp-chart__bar--${j}"></span>${s.name}</li>`)}</ul>
    <svg viewBox="0 0 ${W} ${H}" class="sp-chart__svg" aria-hidden="true" focusable="false">
      <line class="sp-chart__axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}"></line>
      <text class="sp-chart__label" x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${number(max)}</text>
      <text class="sp-chart__label" x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end">0</text>
      ${bars}${labels}
    </svg>
    <details class="govuk-details">
      <summary class="govuk-details__summary"><span class="govuk-details__summary-text">${title}: the figures as a table</span></summary>
      <div class="govuk-details__text">
        ${table({ caption, captionSize: 's', head: ['', ...series.map((s) => ({ value: s.name, numeric: true }))],
          rows: rows.map((r) => [{ value: r.label, header: true }, ...series.map((s) => ({ value: number(r[s.key] || 0), numeric: true }))]) })}
      </div>
    </details>
  </figure>`;
}

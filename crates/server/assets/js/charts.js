// Small SVG charts drawn by hand (no chart library): stacked bars per
// interval and lines over the day. Each returns an `<svg>` with a text
// summary for screen readers and a tooltip per bar or point.

import { s } from './dom.js';

const W = 640;
const H = 220;
const PAD = { left: 40, right: 12, top: 12, bottom: 28 };

/** A round step for `max` split in about `n` parts: 1, 2, 5 × 10^k. */
export function niceStep(max, n = 4) {
  if (!(max > 0)) return 1;
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function frame(labels, yMax, step, format) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + plotH - (plotH * v) / yMax;
  const parts = [];
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    parts.push(s('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    parts.push(s('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, format(v)));
  }
  parts.push(s('line', { class: 'axis', x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0) }));
  // At most ~8 labels along the bottom, whatever the number of intervals.
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const slot = plotW / Math.max(1, labels.length);
  labels.forEach((l, i) => {
    if (i % every === 0) parts.push(s('text', { x: PAD.left + slot * (i + 0.5), y: H - 8, 'text-anchor': 'middle' }, l));
  });
  return { parts, y, slot, plotH };
}

function svg(summary, testid, children) {
  return s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, 'data-testid': testid, preserveAspectRatio: 'xMidYMid meet' }, s('title', null, summary), children);
}

/**
 * Stacked bars: `series` is `[{name, color, values}]`, one value per label.
 */
export function stackedBars({ labels, series, summary, testid }) {
  const totals = labels.map((_, i) => series.reduce((t, sr) => t + (sr.values[i] || 0), 0));
  // Counts are whole numbers: no step below 1.
  const step = Math.max(1, niceStep(Math.max(1, ...totals)));
  const yMax = Math.max(step, Math.ceil(Math.max(1, ...totals) / step) * step);
  const { parts, y, slot } = frame(labels, yMax, step, (v) => String(Math.round(v)));
  // A few intervals early in the day must not make slabs of the bars.
  const barW = Math.min(48, Math.max(2, slot * 0.7));
  labels.forEach((l, i) => {
    let base = 0;
    for (const sr of series) {
      const v = sr.values[i] || 0;
      if (!v) continue;
      const x = PAD.left + slot * i + (slot - barW) / 2;
      parts.push(s('rect', { x, y: y(base + v), width: barW, height: y(base) - y(base + v), fill: sr.color }, s('title', null, `${l} · ${sr.name}: ${v}`)));
      base += v;
    }
  });
  return svg(summary, testid, parts);
}

/**
 * Lines on a 0–100 scale: `series` is `[{name, color, values}]` with null
 * for "no data" (the line breaks there); `target` draws a dashed line.
 */
export function percentLines({ labels, series, target, summary, testid }) {
  const { parts, y, slot } = frame(labels, 100, 25, (v) => `${v}%`);
  if (target !== null && target !== undefined) {
    parts.push(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(target), y2: y(target), stroke: '#8a5a00', 'stroke-dasharray': '6 4', 'stroke-width': 1.5 }, s('title', null, `Target ${target}%`)));
  }
  drawLines(parts, { labels, series, y, slot, format: (v) => `${Math.round(v)}%` });
  return svg(summary, testid, parts);
}

/**
 * Lines of counts (agents, contacts) on a scale from 0 to the largest
 * value; `series` as for percentLines.
 */
export function countLines({ labels, series, summary, testid }) {
  const max = Math.max(1, ...series.flatMap((sr) => sr.values.filter((v) => v !== null && v !== undefined)));
  const step = Math.max(1, niceStep(max));
  const { parts, y, slot } = frame(labels, Math.ceil(max / step) * step, step, (v) => String(Math.round(v)));
  drawLines(parts, { labels, series, y, slot, format: (v) => String(Math.round(v * 10) / 10) });
  return svg(summary, testid, parts);
}

function drawLines(parts, { labels, series, y, slot, format }) {
  for (const sr of series) {
    let d = '';
    let pen = false;
    const dots = [];
    sr.values.forEach((v, i) => {
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      const x = PAD.left + slot * (i + 0.5);
      d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
      dots.push(s('circle', { cx: x, cy: y(v), r: 3.5, fill: sr.color, 'data-series': sr.name }, s('title', null, `${labels[i]} · ${sr.name}: ${format(v)}`)));
    });
    // The line under its points, so that each point's tooltip can be reached.
    if (d) parts.push(s('path', { d, fill: 'none', stroke: sr.color, 'stroke-width': 2.5, 'stroke-dasharray': sr.dashed ? '6 4' : null }));
    parts.push(...dots);
  }
}

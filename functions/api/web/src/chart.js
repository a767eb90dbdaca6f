// The risk score over time, as an SVG the page inlines: the scores the history recorded (at
// each change of stage or risk) and the score now, the dots coloured by the level then.

import { esc, fmtDay, fmtScore } from "./format.js";

const LEVELS = ["none", "caution", "warning", "danger"];

/** The scored moments, oldest first: the history's, then `current` ({score, risk}) at `now`. */
export function scorePoints(entries, current, now) {
  let level = "none";
  const points = (entries || [])
    .filter((h) => h && h.at && !isNaN(new Date(h.at)))
    .slice()
    .sort((a, b) => new Date(a.at) - new Date(b.at))
    .flatMap((h) => {
      if (h.kind === "risk" && LEVELS.includes(h.to)) level = h.to;
      const score = Number(h.score);
      return h.score == null || !isFinite(score) ? [] : [{ at: new Date(h.at), score, level }];
    });
  if (current && isFinite(Number(current.score))) {
    points.push({ at: new Date(now), score: Number(current.score), level: LEVELS.includes(current.risk) ? current.risk : level, now: true });
  }
  return points;
}

/** The SVG of `points` (`label` names it for screen readers), or null with fewer than one. */
export function riskChart(points, { label, timeZone, nowLabel = "now", width = 520, height = 170 } = {}) {
  if (!points.length) return null;
  const pad = { l: 34, r: 12, t: 10, b: 26 };
  const w = width - pad.l - pad.r, h = height - pad.t - pad.b;
  const t0 = +points[0].at, t1 = +points[points.length - 1].at;
  const span = Math.max(1, t1 - t0);
  const x = (d) => pad.l + (points.length === 1 ? w / 2 : ((+d - t0) / span) * w);
  const y = (s) => pad.t + h - (Math.max(0, Math.min(100, s)) / 100) * h;
  const grid = [0, 25, 50, 75, 100].map((v) => `<line x1="${pad.l}" x2="${pad.l + w}" y1="${y(v)}" y2="${y(v)}" stroke="#eef0f3"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10" fill="#6b7280">${v}</text>`).join("");
  // a step line: the score holds until the next one is recorded
  let d = "";
  points.forEach((p, i) => {
    d += i === 0 ? `M${x(p.at).toFixed(1)},${y(p.score).toFixed(1)}` : `H${x(p.at).toFixed(1)}V${y(p.score).toFixed(1)}`;
  });
  const dots = points.map((p) => `<circle cx="${x(p.at).toFixed(1)}" cy="${y(p.score).toFixed(1)}" r="4" style="fill:var(--${p.level})" stroke="#fff" stroke-width="1.5" data-test="score-point" data-score="${esc(fmtScore(p.score))}" data-level="${esc(p.level)}"><title>${esc(p.now ? nowLabel : fmtDay(p.at, timeZone))}: ${esc(fmtScore(p.score))}</title></circle>`).join("");
  const first = points[0], last = points[points.length - 1];
  const axis = `<text x="${pad.l}" y="${height - 6}" font-size="10" fill="#6b7280">${esc(fmtDay(first.at, timeZone))}</text>`
    + (points.length > 1 ? `<text x="${pad.l + w}" y="${height - 6}" font-size="10" fill="#6b7280" text-anchor="end">${esc(last.now ? nowLabel : fmtDay(last.at, timeZone))}</text>` : "");
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(label || "")}" data-test="risk-chart">${grid}<path d="${d}" fill="none" stroke="#9aa5b1" stroke-width="2"/>${dots}${axis}</svg>`;
}

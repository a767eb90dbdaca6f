import { RISKS, S } from "./state.js";
import { lbl, t } from "./i18n.js";

export function esc(v) {
  return String(v == null ? "" : v).replace(/[&<>"'`]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" }[c]));
}
export const known = (list, v) => (list.includes(v) ? v : "unknown");
export const nf = () => new Intl.NumberFormat(S.lang === "ko" ? "ko-KR" : "en-US");
export const fmtInt = (n) => (n == null || !isFinite(n) ? "—" : nf().format(Math.round(Number(n))));
export const fmtScore = (n) => (n == null || !isFinite(n) ? "—" : Number(n).toFixed(1));
export function fmtPoints(p) {
  const n = Math.round(Number(p) * 10) / 10;
  const body = Number.isInteger(n) ? String(Math.abs(n)) : Math.abs(n).toFixed(1);
  return (n < 0 ? "−" : "+") + body;
}
/** The page's locale: dates and numbers read as its language writes them. */
export const locale = () => (S.lang === "ko" ? "ko-KR" : "en-GB");

const TIME = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

/**
 * A moment in the page's locale, in `timeZone` (an IANA name: the customer's) with the zone's
 * name, or in the browser's own zone without one (or with one it does not know).
 */
export function fmtTime(iso, timeZone) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  if (timeZone) {
    try {
      return d.toLocaleString(locale(), Object.assign({ timeZone, timeZoneName: "short" }, TIME));
    } catch (_) { /* an unknown zone: the browser's */ }
  }
  return d.toLocaleString(locale(), TIME);
}

/** A day (the chart's axis) in the page's locale and `timeZone`. */
export function fmtDay(d, timeZone) {
  const opts = { month: "short", day: "numeric" };
  try {
    return d.toLocaleDateString(locale(), timeZone ? Object.assign({ timeZone }, opts) : opts);
  } catch (_) {
    return d.toLocaleDateString(locale(), opts);
  }
}
export const riskBadge = (r) => `<span class="badge r-${known(RISKS, r)}">${esc(lbl("risk", r))}</span>`;
export const loadingHtml = () => `<div class="loading">${esc(t("loading"))}</div>`;
export const errorHtml = (e) => `<div class="error" role="alert">${esc(t("failed", { msg: e && e.message ? e.message : String(e) }))}</div>`;


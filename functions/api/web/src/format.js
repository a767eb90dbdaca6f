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
export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString(undefined, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}
export const riskBadge = (r) => `<span class="badge r-${known(RISKS, r)}">${esc(lbl("risk", r))}</span>`;
export const loadingHtml = () => `<div class="loading">${esc(t("loading"))}</div>`;
export const errorHtml = (e) => `<div class="error" role="alert">${esc(t("failed", { msg: e && e.message ? e.message : String(e) }))}</div>`;


import { $, REASONS, RISKS, S, STAGES } from "./state.js";
import { lbl, t } from "./i18n.js";
import { errorHtml, esc, fmtInt, fmtTime, loadingHtml, locale } from "./format.js";
import { api } from "./api.js";

/* ---------- static labels ---------- */
export function renderStatic() {
  document.documentElement.lang = S.lang;
  document.title = t("title") + " · Journey";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  document.querySelectorAll("[data-i18n-label]").forEach((el) => {
    const [g, v] = el.dataset.i18nLabel.split(".");
    el.textContent = lbl(g, v);
  });
  document.querySelectorAll("#order-group button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.order === S.list.order)));
  document.querySelectorAll("#risk-group button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.risk === S.list.risk)));
  $("#list-hint").textContent = t(S.list.order === "value" ? "hintValue" : "hintScore");
  $("#updated").textContent = S.updatedAt ? t("updated", { time: S.updatedAt.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) }) : "";
}

/* ---------- stats sections ---------- */
export function renderTotal() {
  $("[data-test=total]").textContent = S.stats && S.stats.total != null ? String(S.stats.total) : "–";
  const r = S.stats && S.stats.rules;
  const pct = (x) => x == null ? "–" : (x * 100).toFixed(1) + " %";
  $("#rules").textContent = !S.stats ? "" : !r ? t("rulesFile") : t("rulesVersion", {
    n: r.version, origin: r.origin, recall: pct(r.recall_caution), fa: r.false_alarms_per_100_customer_months == null ? "–" : r.false_alarms_per_100_customer_months.toFixed(2),
  });
}
export function renderStages() {
  const el = $("#stages-body");
  if (S.statsErr) { el.innerHTML = errorHtml(S.statsErr); return; }
  if (!S.stats) { el.innerHTML = loadingHtml(); return; }
  const rows = (S.stats.stages || []).slice().sort((a, b) => rank(STAGES, a.stage) - rank(STAGES, b.stage));
  const max = Math.max(1, ...rows.map((s) => Number(s.total) || 0));
  const html = rows.map((s) => {
    const total = Number(s.total) || 0;
    const segs = RISKS.filter((r) => Number(s[r]) > 0).map((r) => {
      const n = Number(s[r]);
      return `<div class="seg seg-${r}" style="flex-grow:${n}" title="${esc(lbl("stage", s.stage) + " · " + lbl("risk", r) + ": " + fmtInt(n))}"><span data-test="cell" data-stage="${esc(s.stage)}" data-risk="${r}">${esc(String(n))}</span></div>`;
    }).join("");
    return `<div class="srow"><div class="slabel">${esc(lbl("stage", s.stage))}</div><div class="strack"><div class="sbar" style="width:${(total / max * 100).toFixed(2)}%">${segs}</div></div><div class="num">${esc(fmtInt(total))}</div></div>`;
  }).join("");
  const legend = `<div class="legend">${RISKS.map((r) => `<span><i class="sw c-${r}"></i>${esc(lbl("risk", r))}</span>`).join("")}</div>`;
  el.innerHTML = html + legend;
}
export function rank(list, v) { const i = list.indexOf(v); return i < 0 ? list.length : i; }

export function renderMessages() {
  const el = $("#messages-body");
  if (S.statsErr) { el.innerHTML = errorHtml(S.statsErr); return; }
  if (!S.stats) { el.innerHTML = loadingHtml(); return; }
  const rows = (S.stats.interventions || []).slice().sort((a, b) => {
    const ra = a.recovery_rate == null ? -1 : Number(a.recovery_rate), rb = b.recovery_rate == null ? -1 : Number(b.recovery_rate);
    return (rb - ra) || ((Number(b.sent) || 0) - (Number(a.sent) || 0)) || String(a.template).localeCompare(String(b.template)) || String(a.variant || "").localeCompare(String(b.variant || ""));
  });
  if (!rows.length) { el.innerHTML = `<p class="muted">${esc(t("msgEmpty"))}</p>`; return; }
  const body = rows.map((r) => {
    const rate = r.recovery_rate == null ? null : Number(r.recovery_rate);
    const m = r.mail || {};
    const small = (Number(r.sent) || 0) < 10 ? ` <span class="badge small s-skipped">${esc(t("smallSample"))}</span>` : "";
    const rateCell = rate == null ? "—" : `<span class="rate"><span class="rate-bar"><i style="width:${Math.max(0, Math.min(100, rate * 100)).toFixed(1)}%"></i></span>${esc((rate * 100).toFixed(1))}%</span>`;
    return `<tr data-test="intervention-row" data-template="${esc(r.template)}" data-variant="${esc(r.variant == null ? "" : r.variant)}">
      <td class="mono">${esc(r.template)}</td><td>${r.variant == null ? "—" : esc(r.variant)}</td>
      <td class="num"><span data-test="sent">${esc(String(r.sent))}</span>${small}</td><td class="num" data-test="recovered">${esc(String(r.recovered))}</td>
      <td class="num">${rateCell}</td><td class="num">${esc(fmtInt(r.failed))}</td><td class="num">${esc(fmtInt(r.skipped))}</td>
      <td class="num" data-test="delivery-rate">${percentOrDash(m.delivery_rate)}</td><td class="num" data-test="open-rate">${percentOrDash(m.open_rate)}</td><td class="num" data-test="click-rate">${percentOrDash(m.click_rate)}</td>
      <td class="num" data-test="bounced">${esc(fmtInt(m.bounced))}</td><td class="num" data-test="complained">${esc(fmtInt(m.complained))}</td></tr>`;
  }).join("");
  const total = (k) => rows.reduce((n, r) => n + (Number((r.mail || {})[k]) || 0), 0);
  const suppressed = `<p class="hint">${esc(t("suppressed"))}: <strong data-test="suppressed">${esc(fmtInt(total("suppressed")))}</strong></p>`;
  const heads = ["colTemplate", "colVariant", "colSent", "colRecovered", "colRate", "colFailed", "colSkipped", "colDelivered", "colOpened", "colClicked", "colBounced", "colComplained"]
    .map((k, i) => `<th${i > 1 ? ' class="num"' : ""}>${esc(t(k))}</th>`).join("");
  el.innerHTML = `<div class="table-wrap"><table><thead><tr>${heads}</tr></thead><tbody>${body}</tbody></table></div>${suppressed}`;
}
/** SES's feedback on one message, in the order it happens. */
export function mailBadges(mail) {
  const order = ["delivered", "delayed", "opened", "clicked", "soft_bounce", "hard_bounce", "complaint", "rejected"];
  return Object.keys(mail || {}).sort((a, b) => rank(order, a) - rank(order, b))
    .map((k) => ` <span class="badge small" data-test="mail-feedback" data-feedback="${esc(k)}" title="${esc(fmtTime(mail[k]))}">${esc(lbl("mailFb", k))}</span>`).join("");
}
export function percentOrDash(rate) { return rate == null ? "—" : esc((Number(rate) * 100).toFixed(1)) + "%"; }

export function niceStep(x) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(x, 1))));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
export function churnChart(churned, recovered) {
  const months = Array.from(new Set(Object.keys(churned).concat(Object.keys(recovered)))).sort();
  if (!months.length) return `<p class="muted">${esc(t("noData"))}</p>`;
  const val = (m, map) => Number(map[m]) || 0;
  const max = Math.max(1, ...months.map((m) => Math.max(val(m, churned), val(m, recovered))));
  const step = niceStep(max / 4), top = Math.ceil(max / step) * step;
  const bw = 22, gap = 4, slot = bw * 2 + gap + 24, padL = 34, padT = 18, plotH = 150, H = padT + plotH + 26;
  const W = padL + months.length * slot + 6;
  const y = (v) => padT + plotH - (v / top) * plotH;
  let s = "";
  for (let v = 0; v <= top; v += step) {
    s += `<line x1="${padL}" x2="${W}" y1="${y(v)}" y2="${y(v)}" stroke="#e9ecef"/><text x="${padL - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#8a94a0">${esc(fmtInt(v))}</text>`;
  }
  months.forEach((m, i) => {
    const x0 = padL + i * slot + 12;
    [[val(m, churned), "var(--danger)", t("churned")], [val(m, recovered), "var(--good)", t("recovered")]].forEach(([v, color, name], j) => {
      const x = x0 + j * (bw + gap);
      const h = Math.max(v > 0 ? 2 : 0, (v / top) * plotH);
      s += `<rect x="${x}" y="${padT + plotH - h}" width="${bw}" height="${h}" rx="3" fill="${color}"><title>${esc(m + " · " + name + ": " + fmtInt(v))}</title></rect>`;
      s += `<text x="${x + bw / 2}" y="${padT + plotH - h - 4}" text-anchor="middle" font-size="11" fill="#3e4a56">${esc(fmtInt(v))}</text>`;
    });
    s += `<text x="${x0 + bw + gap / 2}" y="${padT + plotH + 18}" text-anchor="middle" font-size="11.5" fill="#5b6472">${esc(m)}</text>`;
  });
  return `<div class="chart-wrap"><svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t("churnByMonth"))}">${s}</svg></div>
    <div class="legend"><span><i class="sw c-churned"></i>${esc(t("churned"))}</span><span><i class="sw c-recovered"></i>${esc(t("recovered"))}</span></div>`;
}
export function renderChurn() {
  const el = $("#churn-body");
  $("#churn-sum").textContent = "";
  if (S.statsErr) { el.innerHTML = errorHtml(S.statsErr); return; }
  if (!S.stats) { el.innerHTML = loadingHtml(); return; }
  const churned = S.stats.churned_by_month || {}, recovered = S.stats.recovered_by_month || {}, reasons = S.stats.churn_reasons || {};
  const sum = (m) => Object.values(m).reduce((a, b) => a + (Number(b) || 0), 0);
  $("#churn-sum").textContent = t("churnSum", { c: fmtInt(sum(churned)), r: fmtInt(sum(recovered)) });
  const keys = REASONS.filter((r) => r in reasons).concat(Object.keys(reasons).filter((r) => !REASONS.includes(r)));
  const rmax = Math.max(1, ...keys.map((k) => Number(reasons[k]) || 0));
  const rrows = keys.length ? keys.map((k) => {
    const n = Number(reasons[k]) || 0;
    return `<div class="rrow"><span>${esc(lbl("reason", k))}</span><span class="rbar"><i style="width:${(n / rmax * 100).toFixed(1)}%"></i></span><span class="num" data-test="churn-reason" data-reason="${esc(k)}">${esc(String(reasons[k]))}</span></div>`;
  }).join("") : `<p class="muted">${esc(t("noData"))}</p>`;
  el.innerHTML = `<div class="churn-grid"><div><h3 style="margin-top:0">${esc(t("churnByMonth"))}</h3>${churnChart(churned, recovered)}</div><div><h3 style="margin-top:0">${esc(t("churnReasons"))}</h3>${rrows}</div></div>`;
}
export function pct(x) { return (Number(x) * 100).toFixed(1); }
export function interval(e) {
  if (!e) return "—";
  const sign = (x) => (x > 0 ? "+" : "") + pct(x);
  return `${esc(sign(e.estimate))} pp <span class="muted">(${esc(sign(e.low))} … ${esc(sign(e.high))})</span>`;
}
export function awaiting(n) { return Number(n) > 0 ? `<br><span class="muted" data-test="awaiting">${esc(t("awaiting", { n: fmtInt(n) }))}</span>` : ""; }
export function rateOf(g) { return g.assigned ? `${esc(pct(g.recovered / g.assigned))}%` : "—"; }
// plain text: every caller escapes it
export function money(map) {
  const parts = Object.entries(map || {}).map(([cur, e]) => `${fmtInt(Math.round(e.estimate))} ${cur}`);
  return parts.length ? parts.join(", ") : "—";
}
export function renderExperiments() {
  const el = $("#experiments-body"), saved = $("#saved-body");
  if (S.statsErr) { el.innerHTML = errorHtml(S.statsErr); saved.innerHTML = ""; return; }
  if (!S.stats) { el.innerHTML = loadingHtml(); saved.innerHTML = ""; return; }
  const rows = S.stats.experiments || [];
  const totals = (S.stats.saved || []).filter((m) => m.month === "all" && m.churns_prevented);
  const months = (S.stats.saved || []).filter((m) => m.month !== "all");
  saved.innerHTML = totals.length
    ? totals.map((m) => { const p = m.churns_prevented; return `<p data-test="saved" data-template="${esc(m.template)}"><span class="mono">${esc(m.template)}</span> · <strong>${esc(t("savedAll", { n: p.estimate.toFixed(1), lo: p.low.toFixed(1), hi: p.high.toFixed(1), rev: money(m.revenue) }))}</strong></p>`; }).join("")
      + `<div class="table-wrap"><table><thead><tr><th>${esc(t("colTemplate"))}</th><th>${esc(t("colMonth"))}</th><th class="num">${esc(t("colTreated"))}</th><th class="num">${esc(t("colControl"))}</th><th class="num">${esc(t("colPrevented"))}</th><th class="num">${esc(t("colKept"))}</th></tr></thead><tbody>${months.map((m) => `<tr data-test="saved-month" data-template="${esc(m.template)}" data-month="${esc(m.month)}"><td class="mono">${esc(m.template)}</td><td>${esc(m.month)}</td><td class="num">${esc(fmtInt(m.treated))}</td><td class="num">${esc(fmtInt(m.held_out))}</td><td class="num">${m.churns_prevented ? esc(m.churns_prevented.estimate.toFixed(1)) : "—"}</td><td class="num">${esc(money(m.revenue))}</td></tr>`).join("")}</tbody></table></div>`
    : `<p class="muted" data-test="saved">${esc(t("savedNone"))}</p>`;
  if (!rows.length) { el.innerHTML = `<p class="muted">${esc(t("expEmpty"))}</p>`; return; }
  const body = rows.map((r) => `<tr data-test="experiment-row" data-template="${esc(r.template)}" data-variant="${esc(r.variant == null ? "" : r.variant)}" data-verdict="${esc(r.verdict)}">
      <td class="mono">${esc(r.template)}</td><td>${r.variant == null ? "—" : esc(r.variant)}</td>
      <td class="num">${esc(fmtInt(r.treated.assigned))} · ${rateOf(r.treated)}${awaiting(r.awaiting_treated)}</td><td class="num">${esc(fmtInt(r.control.assigned))} · ${rateOf(r.control)}${awaiting(r.awaiting_control)}</td>
      <td class="num">${interval(r.recovery_uplift)}</td><td class="num">${interval(r.churn_reduction)}</td>
      <td><span class="badge v-${esc(r.verdict)}">${esc(lbl("verdict", r.verdict))}</span></td></tr>`).join("");
  el.innerHTML = `<div class="table-wrap"><table><thead><tr><th>${esc(t("colTemplate"))}</th><th>${esc(t("colVariant"))}</th><th class="num">${esc(t("colTreated"))}</th><th class="num">${esc(t("colControl"))}</th><th class="num">${esc(t("colUplift"))}</th><th class="num">${esc(t("colChurnCut"))}</th><th>${esc(t("colVerdict"))}</th></tr></thead><tbody>${body}</tbody></table></div>`;
}
export function minutes(m) {
  if (m == null) return "—";
  return m < 90 ? `${Math.round(m)} min` : `${(m / 60).toFixed(1)} h`;
}
/** What staff said came of their contacts after the alerts: "saved 2 · lost 1". */
export function outcomes(r) {
  const said = ["reached", "no_answer", "saved", "lost"].filter((k) => Number(r[k]) > 0).map((k) => `${lbl("outcome", k)} ${fmtInt(r[k])}`);
  return said.length ? said.join(" · ") : "—";
}
export function renderAlerts() {
  const el = $("#alerts-body");
  if (S.statsErr) { el.innerHTML = errorHtml(S.statsErr); return; }
  if (!S.stats) { el.innerHTML = loadingHtml(); return; }
  const rows = S.stats.alerts || [];
  if (!rows.length) { el.innerHTML = `<p class="muted">${esc(t("alertEmpty"))}</p>`; return; }
  const body = rows.map((r) => `<tr data-test="alert-row" data-owner="${esc(r.owner)}" data-template="${esc(r.template)}">
      <td>${esc(r.owner)}</td><td class="mono">${esc(r.template)}</td><td class="num">${esc(fmtInt(r.alerted))}</td>
      <td class="num" data-test="contacted">${esc(fmtInt(r.contacted))} (${esc(pct(r.contacted / r.alerted))}%)<br><span class="muted">${esc(t("byOwner", { n: fmtInt(r.contacted_by_owner) }))}</span></td><td class="num">${esc(minutes(r.mean_minutes_to_contact))}</td>
      <td class="num">${esc(fmtInt(r.recovered))} (${esc(pct(r.recovered / r.alerted))}%)</td>
      <td class="wrap" data-test="outcomes">${esc(outcomes(r))}</td></tr>`).join("");
  el.innerHTML = `<div class="table-wrap"><table><thead><tr><th>${esc(t("owner"))}</th><th>${esc(t("colTemplate"))}</th><th class="num">${esc(t("colAlerted"))}</th><th class="num">${esc(t("colContacted"))}</th><th class="num">${esc(t("colToContact"))}</th><th class="num">${esc(t("colAlertRecovered"))}</th><th>${esc(t("colOutcomes"))}</th></tr></thead><tbody>${body}</tbody></table></div>`;
}
/** A text's final report on its send record: the channel that delivered it and its cost. */
export function textBadge(text) {
  if (!text) return "";
  const via = ["alimtalk", "sms", "lms", "failed", "expired"].includes(text.via) ? text.via : "failed";
  const fallback = text.fallback ? ` · ${t("textFallback")}` : "";
  const cost = Number(text.cost_krw) > 0 ? ` · ${t("won", { n: fmtInt(text.cost_krw) })}` : "";
  return ` <span class="badge small" data-test="text-via" data-via="${esc(via)}" title="${esc(text.code)} · ${esc(fmtTime(text.at))}">${esc(lbl("textVia", via) + fallback + cost)}</span>`;
}
export function renderTexts() {
  const el = $("#texts-body");
  if (S.statsErr) { el.innerHTML = errorHtml(S.statsErr); return; }
  if (!S.stats) { el.innerHTML = loadingHtml(); return; }
  const rows = S.stats.texts || [];
  if (!rows.length) { el.innerHTML = `<p class="muted">${esc(t("textsEmpty"))}</p>`; return; }
  const body = rows.map((r) => `<tr data-test="text-month" data-month="${esc(r.month)}">
      <td>${esc(r.month)}</td><td class="num">${esc(fmtInt(r.alimtalk))}</td><td class="num">${esc(fmtInt(r.sms))}</td><td class="num">${esc(fmtInt(r.lms))}</td>
      <td class="num">${esc(fmtInt(r.failed))}</td><td class="num">${esc(fmtInt(r.expired))}</td><td class="num" data-test="fell-back">${esc(fmtInt(r.fell_back))} (${percentOrDash(r.fallback_rate)})</td>
      <td class="num" data-test="cost">${esc(t("won", { n: fmtInt(r.cost_krw) }))}</td></tr>`).join("");
  el.innerHTML = `<div class="table-wrap"><table><thead><tr><th>${esc(t("colMonth"))}</th><th class="num">${esc(lbl("textVia", "alimtalk"))}</th><th class="num">SMS</th><th class="num">LMS</th><th class="num">${esc(lbl("textVia", "failed"))}</th><th class="num">${esc(lbl("textVia", "expired"))}</th><th class="num">${esc(t("colFellBack"))}</th><th class="num">${esc(t("colCost"))}</th></tr></thead><tbody>${body}</tbody></table></div>`;
}
export function renderStats() { renderTotal(); renderStages(); renderMessages(); renderExperiments(); renderAlerts(); renderTexts(); renderChurn(); }

export async function loadStats() {
  S.statsLoading = true;
  try {
    S.stats = await api("stats");
    S.statsErr = null;
    return true;
  } catch (e) {
    S.statsErr = e;
    return false;
  } finally {
    S.statsLoading = false;
    renderStats();
  }
}


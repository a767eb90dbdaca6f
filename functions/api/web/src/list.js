import { $, S } from "./state.js";
import { lbl, t } from "./i18n.js";
import { errorHtml, esc, fmtInt, fmtPoints, fmtScore, loadingHtml, riskBadge } from "./format.js";
import { api } from "./api.js";
import { format } from "./route.js";

/* ---------- at-risk list ---------- */

/** The owner and program filters as query parameters (`owner=me`: the signed-in staff member). */
export function filterParams(base = {}) {
  const p = new URLSearchParams(base);
  const F = S.filters;
  if (F.mine) p.set("owner", "me");
  else if (F.owner) p.set("owner", F.owner);
  if (F.program) p.set("program", F.program);
  return p;
}
export function reasonsText(signals) {
  return (signals || []).map((s) => `${lbl("signal", s.signal)} ${fmtPoints(s.points)}`).join(", ");
}
export function renderList() {
  const L = S.list;
  $("#list-status").innerHTML = L.err ? errorHtml(L.err) : (L.loading && !L.items.length ? loadingHtml() : "");
  $("#list-wrap").classList.toggle("busy", L.loading && L.items.length > 0);
  $("#list-wrap").hidden = !L.items.length && !(L.loaded && !L.err && !L.loading);
  const rows = L.items.map((c) => {
    const owner = c.owner ? `${esc(c.owner.name || c.owner.id)}${c.owner.name ? `<div class="sub">${esc(c.owner.id)}</div>` : ""}` : "—";
    return `<tr class="clickable${c.id === S.cust.id ? " sel" : ""}" data-test="at-risk-row" data-customer="${esc(c.id)}">
      <td><a class="cust-link strong" href="${esc(format({ view: "customer", id: c.id }))}">${esc(c.id)}</a>${c.email ? `<div class="sub">${esc(c.email)}</div>` : ""}</td>
      <td>${esc(lbl("stage", c.stage))}${c.program ? `<div class="sub">${esc(c.program)}</div>` : ""}</td>
      <td>${riskBadge(c.risk)}</td><td class="num">${esc(fmtScore(c.score))}</td>
      <td class="reasons">${esc(reasonsText(c.top_signals)) || "—"}</td>
      <td class="num">${esc(c.revenue && c.revenue.display ? c.revenue.display : "—")}</td>
      <td class="num strong">${esc(c.value_at_risk_display || "—")}</td>
      <td class="num">${esc(fmtInt(c.days_inactive))}</td><td>${owner}</td></tr>`;
  }).join("");
  $("#list-body").innerHTML = rows || (L.loaded && !L.loading ? `<tr><td colspan="9" class="muted">${esc(t("listEmpty"))}</td></tr>` : "");
  const more = $("#more");
  more.hidden = !L.next;
  more.disabled = L.loading;
  more.textContent = L.loading && L.items.length ? t("loading") : t("more");
  $("#list-count").textContent = L.items.length ? t("shown", { n: fmtInt(L.items.length) }) : "";
}
export async function loadList(reset) {
  const L = S.list, seq = ++L.seq;
  L.loading = true; L.err = null;
  renderList();
  const p = filterParams({ order: L.order, limit: "20" });
  if (L.risk) p.set("risk", L.risk);
  if (!reset && L.next) p.set("cursor", L.next);
  try {
    const data = await api("customers?" + p.toString());
    if (seq !== L.seq) return false;
    const got = Array.isArray(data.customers) ? data.customers : [];
    L.items = reset ? got : L.items.concat(got.filter((c) => !L.items.some((o) => o.id === c.id)));
    L.next = data.next || null;
    L.loaded = true;
    return true;
  } catch (e) {
    if (seq !== L.seq) return false;
    L.err = e;
    if (reset) { L.items = []; L.next = null; }
    return false;
  } finally {
    if (seq === L.seq) { L.loading = false; renderList(); }
  }
}


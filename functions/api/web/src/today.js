// Today's list and the search results: customers to open, in the same rows.

import { $, S } from "./state.js";
import { lbl, t } from "./i18n.js";
import { errorHtml, esc, fmtInt, loadingHtml, riskBadge } from "./format.js";
import { api } from "./api.js";
import { filterParams } from "./list.js";
import { format } from "./route.js";

/** Why the customer is at risk, in words: the signals adding the most points. */
export function reasonWords(signals) {
  return (signals || []).map((s) => lbl("signal", s.signal)).join(", ");
}

/** One row (`test` names it for the browser tests): the customer's link (to their page),
 * risk, reasons, value and owner. */
export function row(c, test = "today-row") {
  const owner = c.owner ? esc(c.owner.name || c.owner.id) : "—";
  return `<tr data-test="${test}" data-customer="${esc(c.id)}">
    <td><a class="cust-link strong" href="${esc(format({ view: "customer", id: c.id }))}">${esc(c.id)}</a>${c.email ? `<div class="sub">${esc(c.email)}</div>` : ""}</td>
    <td>${riskBadge(c.risk)}</td><td class="reasons">${esc(reasonWords(c.top_signals)) || "—"}</td>
    <td class="num strong">${esc(c.value_at_risk_display || "—")}</td><td class="num">${esc(fmtInt(c.days_inactive))}</td><td>${owner}</td></tr>`;
}

function table(rows, test) {
  const head = `<thead><tr><th>${esc(t("colCustomer"))}</th><th>${esc(t("colRisk"))}</th><th>${esc(t("colReasons"))}</th><th class="num">${esc(t("colValue"))}</th><th class="num">${esc(t("colDays"))}</th><th>${esc(t("colOwner"))}</th></tr></thead>`;
  return `<div class="table-wrap"><table>${head}<tbody>${rows.map((c) => row(c, test)).join("")}</tbody></table></div>`;
}

export function renderToday() {
  const T = S.today;
  $("#today-hint").textContent = t("todayHint");
  const body = $("#today-body");
  if (T.err) body.innerHTML = errorHtml(T.err);
  else if (!T.loaded) body.innerHTML = loadingHtml();
  else if (!T.items.length) body.innerHTML = `<p class="muted" data-test="today-empty">${esc(t("todayEmpty"))}</p>`;
  else body.innerHTML = table(T.items, "today-row");
  announce(T.loaded && !T.err ? t("todayCount", { n: fmtInt(T.items.length) }) : "");
  const more = $("#today-more");
  more.hidden = !T.next;
  more.disabled = T.loading;
}

export async function loadToday(reset) {
  const T = S.today, seq = ++T.seq;
  T.loading = true; T.err = null;
  const p = filterParams({ limit: "20" });
  if (!reset && T.next) p.set("cursor", T.next);
  try {
    const data = await api("today?" + p.toString());
    if (seq !== T.seq) return false;
    const got = Array.isArray(data.customers) ? data.customers : [];
    // a customer whose value moved between pages could come twice
    T.items = reset ? got : T.items.concat(got.filter((c) => !T.items.some((o) => o.id === c.id)));
    T.next = data.next || null;
    T.loaded = true;
    return true;
  } catch (e) {
    if (seq === T.seq) T.err = e;
    return false;
  } finally {
    if (seq === T.seq) { T.loading = false; renderToday(); }
  }
}

export function renderSearch() {
  const R = S.search;
  $("#search-results").hidden = !R.q;
  if (!R.q) return;
  const body = $("#search-body");
  if (R.err) body.innerHTML = errorHtml(R.err);
  else if (R.loading) body.innerHTML = loadingHtml();
  else if (!R.items.length) body.innerHTML = `<p class="muted" data-test="search-empty">${esc(t("searchEmpty", { q: R.q }))}</p>`;
  else body.innerHTML = table(R.items, "search-row");
  announce(!R.loading && !R.err ? t("searchCount", { n: fmtInt(R.items.length) }) : "");
}

/** A short message for screen readers (a live region), instead of reading tables aloud. */
export function announce(text) {
  const live = document.getElementById("announce");
  if (live && live.textContent !== text) live.textContent = text;
}

export async function search(q) {
  const R = S.search, seq = ++R.seq;
  R.q = q; R.err = null; R.loading = !!q; R.items = [];
  renderSearch();
  if (!q) return;
  try {
    const data = await api("search?" + new URLSearchParams({ q }).toString());
    if (seq === R.seq) R.items = Array.isArray(data.customers) ? data.customers : [];
  } catch (e) {
    if (seq === R.seq) R.err = e;
  } finally {
    if (seq === R.seq) { R.loading = false; renderSearch(); }
  }
}

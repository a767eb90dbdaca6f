import { $, S, STATUSES, store } from "./state.js";
import { lbl, t } from "./i18n.js";
import { errorHtml, esc, fmtInt, fmtPoints, fmtScore, fmtTime, known, loadingHtml, riskBadge } from "./format.js";
import { api, credentials } from "./api.js";
import { riskChart, scorePoints } from "./chart.js";
import { mailBadges, textBadge } from "./stats.js";
import { renderList } from "./list.js";

/* ---------- customer timeline ---------- */
export function factsRow(label, value, raw) {
  return `<dt>${esc(label)}</dt><dd>${raw ? value : esc(value == null || value === "" ? "—" : value)}</dd>`;
}
/** A consent as staff read it: given when and where, or not given. */
export function consentText(consent, when) {
  if (!consent) return esc(t("consentNone"));
  return `${esc(t("consentGiven", { at: when(consent.at) }))} <span class="sub">${esc(consent.via)}</span>`;
}
/** The text channels a provider reported the customer refuses or cannot receive. */
export function textBlocks(blocks, when) {
  if (!Array.isArray(blocks) || !blocks.length) return esc(t("textBlocksNone"));
  return blocks.map((b) => `${esc(lbl("textChannel", b.channel))}: ${esc(lbl("textBlock", b.block))} <span class="sub">${esc(when(b.at))}</span>`).join("<br>");
}
export function renderCustomer() {
  const C = S.cust;
  const panel = $("#customer");
  panel.hidden = !C.id;
  if (!C.id) return;
  $("#cust-status").innerHTML = C.err ? errorHtml(C.err) : (C.loading && !C.data ? loadingHtml() : "");
  const content = $("#cust-content");
  content.hidden = !C.data;
  content.classList.toggle("busy", C.loading && !!C.data);
  if (!C.data) return;
  const c = C.data.customer || {}, hist = C.data.history || { entries: [] }, ivs = C.data.interventions || [];
  // the customer's moments in the customer's own time zone (named), as they lived them
  const tz = c.time_zone || undefined;
  const when = (iso) => fmtTime(iso, tz);
  $("#cust-head").innerHTML = `<div class="cust-id">${esc(c.id)}</div>${riskBadge(c.risk)}
    <div class="fact"><b>${esc(lbl("stage", c.stage))}</b><span>${esc(t("colStage"))}</span></div>
    <div class="fact"><b>${esc(fmtScore(c.score))}</b><span>${esc(t("score"))}</span></div>
    <div class="fact"><b>${esc(c.value_at_risk_display || "—")}</b><span>${esc(t("valueAtRisk"))}</span></div>
    <div class="fact"><b>${esc(c.revenue && c.revenue.display ? c.revenue.display : "—")}</b><span>${esc(t("revenue"))}</span></div>
    <div class="fact"><b>${esc(c.days_inactive == null ? "—" : t("days", { n: fmtInt(c.days_inactive) }))}</b><span>${esc(t("daysInactive"))}</span></div>
    ${c.needs_contact ? `<span class="badge r-warning" data-test="needs-contact">${esc(t("needsContact"))}</span>` : ""}
    ${c.erased ? `<span class="badge s-failed">${esc(t("erased"))}</span>` : ""}`;
  const chart = riskChart(scorePoints(hist.entries, { score: c.score, risk: c.risk }, S.cust.loadedAt || new Date()), { label: t("riskOverTime"), timeZone: tz, nowLabel: t("chartNow") });
  $("#cust-chart").innerHTML = chart || `<p class="muted">${esc(t("chartEmpty"))}</p>`;
  const contrib = Array.isArray(c.contributions) ? c.contributions : [];
  const cmax = Math.max(1, ...contrib.map((x) => Math.abs(Number(x.points) || 0)));
  $("#cust-contrib").innerHTML = contrib.length ? contrib.map((x) => {
    const p = Number(x.points) || 0;
    return `<div class="crow" title="${esc("measure " + (Number(x.measure) || 0).toFixed(2))}"><span>${esc(lbl("signal", x.signal))}</span><span class="cbar"><i class="${p < 0 ? "neg" : ""}" style="width:${(Math.abs(p) / cmax * 100).toFixed(1)}%"></i></span><span class="num">${esc(fmtPoints(p))}</span></div>`;
  }).join("") : `<p class="muted">${esc(t("noContrib"))}</p>`;
  const churn = c.churn ? `${esc(lbl("reason", c.churn.reason))} <span class="sub">${esc(when(c.churn.at))}</span>${c.churn.detail ? `<div class="sub">${esc(c.churn.detail)}</div>` : ""}` : "—";
  $("#cust-profile").innerHTML = factsRow(t("program"), c.program)
    + factsRow(t("owner"), c.owner ? (c.owner.name ? `${c.owner.name} (${c.owner.id})` : c.owner.id) : null)
    + factsRow(t("email"), c.email) + factsRow(t("timeZone"), c.time_zone) + factsRow(t("locale"), c.locale)
    + factsRow(t("phone"), c.phone ? `<a href="tel:${esc(c.phone)}">${esc(c.phone)}</a>` : "—", true)
    + factsRow(t("unsubscribed"), c.unsubscribed ? t("yes") : t("no"))
    + factsRow(t("marketingConsent"), consentText(c.consents && c.consents.marketing, when), true)
    + factsRow(t("nightConsent"), consentText(c.consents && c.consents.night, when), true)
    + factsRow(t("textBlocks"), textBlocks(c.text_blocks, when), true)
    + factsRow(t("churnReason"), churn, true)
    + factsRow(t("lastContact"), lastContact(c.last_contact, when), true)
    + factsRow(t("createdAt"), when(c.created_at)) + factsRow(t("nextCheck"), when(c.next_check_at));
  const entries = Array.isArray(hist.entries) ? hist.entries : [];
  $("#cust-timeline").innerHTML = entries.length ? entries.map((h) => {
    const kind = ["stage", "risk", "note"].includes(h.kind) ? h.kind : "note";
    let change;
    if (kind === "note") change = `<span class="tl-note">${esc(h.note)}</span>`;
    else if (kind === "risk") change = `${h.from == null ? esc(t("start")) : riskBadge(h.from)} → ${riskBadge(h.to)}`;
    else change = `${esc(h.from == null ? t("start") : lbl("stage", h.from))} → <b>${esc(lbl("stage", h.to))}</b>`;
    const kindLabel = t(kind === "stage" ? "kindStage" : kind === "risk" ? "kindRisk" : "kindNote");
    const why = [h.cause && h.cause.reason, h.score != null ? t("scoreAt", { s: fmtScore(h.score) }) : null].filter(Boolean).join(" · ");
    return `<li class="k-${kind}"><div class="tl-time">${esc(when(h.at))}</div><div class="tl-change"><span class="tl-kind">${esc(kindLabel)}</span>${change}</div>${why ? `<div class="tl-why">${esc(why)}</div>` : ""}</li>`;
  }).join("") : `<li class="muted">${esc(t("historyEmpty"))}</li>`;
  $("#cust-history-more").innerHTML = (C.moreErr ? errorHtml(C.moreErr) : "")
    + (hist.next ? `<button class="btn" type="button" id="history-more"${C.moreLoading ? " disabled" : ""}>${esc(C.moreLoading ? t("loading") : t("moreHistory"))}</button>` : "");
  $("#cust-ivs").innerHTML = ivs.length ? `<div class="table-wrap"><table><thead><tr><th>${esc(t("colTemplate"))}</th><th>${esc(t("colChannel"))}</th><th>${esc(t("colStatus"))}</th><th>${esc(t("colDetail"))}</th><th>${esc(t("colUpdated"))}</th></tr></thead><tbody>${ivs.map((iv) => `<tr>
      <td class="mono">${esc(iv.template)}</td><td>${esc(lbl("channel", iv.channel))}</td>
      <td><span class="badge s-${known(STATUSES, iv.status)}">${esc(lbl("status", iv.status))}</span>${mailBadges(iv.mail)}${textBadge(iv.text)}</td>
      <td class="wrap">${esc(iv.detail || "—")}</td><td class="num">${esc(when(iv.updated_at))}</td></tr>`).join("")}</tbody></table></div>` : `<p class="muted">${esc(t("noInterventions"))}</p>`;
}
/** Who contacted the customer last, how, when and with what outcome. */
function lastContact(contact, when) {
  if (!contact) return esc("—");
  const outcome = contact.outcome ? ` · ${esc(lbl("outcome", contact.outcome))}` : "";
  return `<span data-test="last-contact">${esc(contact.by)} (${esc(lbl("channel", contact.channel))})${outcome}</span><div class="sub">${esc(when(contact.at))}</div>`;
}

export async function loadCustomer(id, opts = {}) {
  const C = S.cust, seq = ++C.seq;
  if (C.id !== id) { C.data = null; }
  C.id = id; C.loading = true; C.err = null; C.moreErr = null;
  renderCustomer();
  if (opts.scroll) $("#customer").scrollIntoView({ behavior: "smooth", block: "start" });
  try {
    const d = await api("customers/" + encodeURIComponent(id));
    if (seq === C.seq) { C.data = d; C.loadedAt = new Date(); }
  } catch (e) {
    if (seq === C.seq) C.err = e;
  } finally {
    if (seq === C.seq) { C.loading = false; renderCustomer(); }
  }
}
export async function loadMoreHistory() {
  const C = S.cust, seq = C.seq;
  if (!C.data || !C.data.history || !C.data.history.next) return;
  C.moreLoading = true; C.moreErr = null; renderCustomer();
  try {
    const d = await api("customers/" + encodeURIComponent(C.id) + "?history_cursor=" + encodeURIComponent(C.data.history.next));
    if (seq !== C.seq) return;
    C.data.history.entries = (C.data.history.entries || []).concat((d.history && d.history.entries) || []);
    C.data.history.next = d.history ? d.history.next : null;
  } catch (e) {
    if (seq === C.seq) C.moreErr = e;
  } finally {
    C.moreLoading = false;
    if (seq === C.seq) renderCustomer();
  }
}
export function openCustomer(id) {
  $("#contact-status").innerHTML = "";
  loadCustomer(id, { scroll: true });
  renderList();
}
export function newIdempotencyKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
}
export async function submitContact(ev) {
  ev.preventDefault();
  const id = S.cust.id, status = $("#contact-status"), btn = $("#contact-submit");
  const channel = $("#contact-channel").value;
  const picked = document.querySelector('#contact-form input[name="outcome"]:checked');
  const note = { channel, outcome: picked ? picked.value : undefined };
  // signed in, the API records the staff member; with the key, the form names them
  const signedIn = credentials() && credentials().prefix;
  if (!signedIn) {
    const author = $("#contact-author").value.trim();
    if (!author) { status.innerHTML = `<div class="error" role="alert">${esc(t("authorRequired"))}</div>`; $("#contact-author").focus(); return; }
    store.set("journey.author", author);
    note.author = author;
  }
  btn.disabled = true;
  status.innerHTML = loadingHtml().replace(esc(t("loading")), esc(t("sending")));
  try {
    await api("customers/" + encodeURIComponent(id) + "/notes", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": newIdempotencyKey() },
      body: JSON.stringify(note)
    });
    status.innerHTML = `<div class="ok">${esc(t("queued"))}</div>`;
    setTimeout(() => { if (S.cust.id === id) { loadCustomer(id).then(() => { if (S.cust.id === id) status.innerHTML = ""; }); } }, 1500);
  } catch (e) {
    status.innerHTML = errorHtml(e);
  } finally {
    btn.disabled = false;
  }
}


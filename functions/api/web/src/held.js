// Calibrations held back by the weekly step bound (security review M4): an admin sees why and
// approves one with a button; everyone else never sees the section (`/me` says who may).
import { $, S, can } from "./state.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { esc } from "./format.js";

/** The versions still waiting: held, not approved since, judged against the rules in force. */
export function waiting(page) {
  const versions = (page && page.versions) || [];
  const given = new Set(versions.filter((v) => v.approval && v.approval.status === "given").map((v) => v.approval.of));
  return versions.filter((v) => v.approval && v.approval.status === "awaiting" && !given.has(v.number)
    && (v.approval.judged_against == null ? page.active == null : v.approval.judged_against === page.active));
}

export async function loadHeld() {
  if (!can("approve_rules")) { S.held = []; renderHeld(); return true; }
  try {
    S.held = waiting(await api("rules"));
    S.heldErr = null;
  } catch (e) {
    S.heldErr = e.message;
  }
  renderHeld();
  return !S.heldErr;
}

export function renderHeld() {
  const card = $("#held");
  const held = S.held || [];
  card.hidden = !can("approve_rules") || (!held.length && !S.heldErr);
  if (card.hidden) return;
  const pct = (x) => (x == null ? "–" : (x * 100).toFixed(1) + " %");
  $("#held-body").innerHTML = S.heldErr
    ? `<div class="error" role="alert">${esc(t("failed", { msg: S.heldErr }))}</div>`
    : held.map((v) => {
      const m = v.metrics || {};
      return `<div class="held-row" data-test="held-version" data-version="${esc(v.number)}">
        <p><strong>${esc(t("heldVersion", { n: v.number }))}</strong> · ${esc(v.approval.reason)}</p>
        <p class="hint">${esc(t("heldMetrics", { recall: pct(((m.recall || []).find((r) => r.level === "caution") || {}).share), fa: m.false_alarms_per_100_customer_months == null ? "–" : Number(m.false_alarms_per_100_customer_months).toFixed(2) }))}</p>
        <button class="btn primary" type="button" data-approve="${esc(v.number)}">${esc(t("approve"))}</button></div>`;
    }).join("");
}

/** Approves the version a button names, then reloads the rules and the numbers. */
export async function approveClicked(ev, reload) {
  const b = ev.target.closest("button[data-approve]");
  if (!b) return;
  b.disabled = true;
  const status = $("#held-status");
  try {
    const v = await api("rules/" + encodeURIComponent(b.dataset.approve) + "/approve", { method: "POST" });
    status.innerHTML = `<div class="ok" data-test="approved">${esc(t("approved", { n: v.number }))}</div>`;
    reload();
  } catch (e) {
    status.innerHTML = `<div class="error" role="alert">${esc(t("failed", { msg: e.message }))}</div>`;
    b.disabled = false;
  }
}

import { $, S, store } from "./state.js";
import { t } from "./i18n.js";
import { hideKeyForm, needKey, readKeyFromHash } from "./api.js";
import { loadStats, renderStatic, renderStats } from "./stats.js";
import { loadList, renderList } from "./list.js";
import { loadCustomer, loadMoreHistory, openCustomer, renderCustomer, submitContact } from "./customer.js";

/* ---------- load everything ---------- */
let loadingAll = false, reloadAfter = false;
async function loadAll() {
  if (loadingAll) { reloadAfter = true; return; }
  if (!S.key) { needKey(); return; }
  loadingAll = true;
  delete document.body.dataset.ready;
  const btn = $("#refresh");
  btn.disabled = true;
  btn.textContent = t("loading");
  try {
    const [statsOk, listOk] = await Promise.all([loadStats(), loadList(true), S.cust.id ? loadCustomer(S.cust.id) : null]);
    if (statsOk && listOk) {
      S.updatedAt = new Date();
      document.body.dataset.ready = "true";
    }
  } finally {
    loadingAll = false;
    btn.disabled = false;
    renderStatic();
  }
  if (reloadAfter) { reloadAfter = false; loadAll(); }
}
function renderAll() { renderStatic(); renderStats(); renderList(); renderCustomer(); }

/* ---------- events ---------- */
$("#lang").addEventListener("click", () => {
  S.lang = S.lang === "ko" ? "en" : "ko";
  store.set("journey.lang", S.lang);
  renderAll();
});
$("#refresh").addEventListener("click", loadAll);
$("#change-key").addEventListener("click", () => needKey());
$("#key-cancel").addEventListener("click", hideKeyForm);
$("#key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const k = $("#key-input").value.trim();
  if (!k) return;
  S.key = k;
  store.set("journey.key", k);
  hideKeyForm();
  loadAll();
});
$("#order-group").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-order]");
  if (!b || b.dataset.order === S.list.order) return;
  S.list.order = b.dataset.order;
  renderStatic();
  loadList(true);
});
$("#risk-group").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-risk]");
  if (!b || b.dataset.risk === S.list.risk) return;
  S.list.risk = b.dataset.risk;
  renderStatic();
  loadList(true);
});
$("#more").addEventListener("click", () => loadList(false));
$("#list-body").addEventListener("click", (ev) => {
  const tr = ev.target.closest("tr[data-customer]");
  if (tr) openCustomer(tr.dataset.customer);
});
$("#list-body").addEventListener("keydown", (ev) => {
  const tr = ev.target.closest("tr[data-customer]");
  if (tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); openCustomer(tr.dataset.customer); }
});
$("#cust-close").addEventListener("click", () => {
  S.cust.id = null; S.cust.data = null; S.cust.seq++;
  renderCustomer(); renderList();
  $("#list").scrollIntoView({ behavior: "smooth", block: "start" });
});
$("#cust-history-more").addEventListener("click", (ev) => { if (ev.target.closest("#history-more")) loadMoreHistory(); });
$("#contact-form").addEventListener("submit", submitContact);
window.addEventListener("hashchange", () => { if (readKeyFromHash()) { hideKeyForm(); loadAll(); } });

$("#contact-author").value = store.get("journey.author") || "";
readKeyFromHash();
renderAll();
loadAll();

import { $, S, can, store } from "./state.js";
import { lbl, t } from "./i18n.js";
import { credentials, download, hideKeyForm, needKey, setKey, api } from "./api.js";
import { claims, completeSignIn, currentToken, settings, signIn, signOut } from "./auth.js";
import { loadStats, renderStatic, renderStats } from "./stats.js";
import { loadList, renderList, filterParams } from "./list.js";
import { loadCustomer, loadMoreHistory, renderCustomer, submitContact } from "./customer.js";
import { loadToday, renderToday, renderSearch, search } from "./today.js";
import { esc } from "./format.js";
import { approveClicked, loadHeld, renderHeld } from "./held.js";
import { format, isLocal, parse } from "./route.js";

/* ---------- who is here ---------- */
function renderWho() {
  const token = currentToken();
  const c = token ? claims(token) : null;
  // "my customers" means the signed-in staff member: gone with the sign-in
  if (!c && S.filters.mine) { S.filters.mine = false; $("#filter-owner").disabled = false; }
  const who = $("#who");
  const role = S.me && S.me.staff ? S.me.staff.role : S.me && S.me.scope;
  who.hidden = !c;
  who.textContent = c ? t("signedInAs", { name: c.name || c.email || c.sub }) + (role ? " · " + lbl("role", role) : "") : "";
  $("#sign-out").hidden = !c;
  $("#mine").hidden = !c;
  $("#author-field").hidden = !!c;
  $("#mine").setAttribute("aria-pressed", String(S.filters.mine));
  renderRole();
}

/** Only what the caller's role may do is on the page. */
function renderRole() {
  const show = (sel, route) => { $(sel).hidden = !can(route); };
  show("#today", "today");
  show("#list", "list");
  show("#search-form", "search");
  show("#export", "export");
  show("#contact-form", "note");
  show("#stages", "stats");
  show("#messages", "stats");
  show("#experiments", "stats");
  $("#no-role").hidden = !(S.me && S.me.can && S.me.can.length <= 1);
  document.body.dataset.role = (S.me && S.me.staff && S.me.staff.role) || (S.me && S.me.scope) || "";
}

/** Who the API says the caller is and what they may do. */
async function loadMe() {
  try { S.me = await api("me"); } catch (_) { S.me = null; /* the 401 path asks again */ }
}

/* ---------- load everything ---------- */
let loadingAll = false, reloadAfter = false;
async function loadAll() {
  if (loadingAll) { reloadAfter = true; return; }
  if (!credentials()) { needKey(); return; }
  loadingAll = true;
  delete document.body.dataset.ready;
  const btn = $("#refresh");
  btn.disabled = true;
  btn.textContent = t("loading");
  try {
    await loadMe();
    renderWho();
    // a part the role may not see is not asked for (and counts as loaded)
    const [statsOk, listOk, todayOk] = await Promise.all([
      can("stats") ? loadStats() : true, can("list") ? loadList(true) : true,
      can("today") ? loadToday(true) : true, S.cust.id && can("customer") ? loadCustomer(S.cust.id) : null,
      loadHeld(),
    ]);
    if (statsOk && listOk && todayOk) {
      S.updatedAt = new Date();
      document.body.dataset.ready = "true";
    }
  } finally {
    loadingAll = false;
    btn.disabled = false;
    renderStatic();
    renderWho();
  }
  if (reloadAfter) { reloadAfter = false; loadAll(); }
}
function renderAll() { renderStatic(); renderWho(); renderStats(); renderToday(); renderSearch(); renderList(); renderCustomer(); renderHeld(); }

/* ---------- where the page is ---------- */
function go(route) { location.hash = format(route); }
function follow() {
  const route = parse(location.hash);
  if (route.key) {
    history.replaceState(null, "", location.pathname + location.search);
    if (!isLocal(location.hostname)) { follow(); return; }
    setKey(route.key);
    hideKeyForm();
    loadAll();
    return;
  }
  if (route.view === "customer") {
    if (S.cust.id !== route.id || !S.cust.data) { $("#contact-status").innerHTML = ""; loadCustomer(route.id, { scroll: true }); }
    renderList();
  } else if (S.cust.id) {
    S.cust.id = null; S.cust.data = null; S.cust.seq++;
    renderCustomer(); renderList();
  }
  if (route.view === "search") {
    $("#search-input").value = route.q;
    if (route.q !== S.search.q) search(route.q);
  } else if (S.search.q && route.view !== "customer") {
    search("");
  }
  if (route.view === "today") $("#today").scrollIntoView({ block: "start" });
}

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
  setKey(k);
  hideKeyForm();
  loadAll();
});
$("#sign-in").addEventListener("click", () => {
  const s = settings();
  if (s) signIn(s, location.hash).catch((e) => needKey(t("signInFailed", { msg: e.message })));
});
$("#sign-out").addEventListener("click", () => {
  signOut();
  S.filters.mine = false;
  renderWho();
  if (!credentials()) needKey(); else loadAll();
});
$("#search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = $("#search-input").value.trim();
  if (q) go({ view: "search", q });
});
$("#search-close").addEventListener("click", () => go({ view: "home" }));
$("#filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  S.filters.owner = $("#filter-owner").value.trim();
  S.filters.program = $("#filter-program").value.trim();
  loadList(true);
  loadToday(true);
});
$("#mine").addEventListener("click", () => {
  S.filters.mine = !S.filters.mine;
  $("#filter-owner").disabled = S.filters.mine;
  renderWho();
  loadList(true);
  loadToday(true);
});
$("#export").addEventListener("click", async () => {
  const status = $("#list-status");
  const p = filterParams({ order: S.list.order });
  if (S.list.risk) p.set("risk", S.list.risk);
  try {
    const file = await download("customers.csv?" + p.toString(), "at-risk.csv");
    status.innerHTML = `<div class="ok" data-test="exported">${esc(t("exported", { file }))}</div>`;
  } catch (e) {
    status.innerHTML = `<div class="error" role="alert">${esc(t("failed", { msg: e.message }))}</div>`;
  }
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
$("#today-more").addEventListener("click", () => loadToday(false));
$("#list-body").addEventListener("click", (ev) => {
  const tr = ev.target.closest("tr[data-customer]");
  if (tr) go({ view: "customer", id: tr.dataset.customer });
});
$("#cust-close").addEventListener("click", () => {
  go({ view: "home" });
  $("#list").scrollIntoView({ behavior: "smooth", block: "start" });
});
$("#cust-history-more").addEventListener("click", (ev) => { if (ev.target.closest("#history-more")) loadMoreHistory(); });
$("#contact-form").addEventListener("submit", submitContact);
$("#held-body").addEventListener("click", (ev) => approveClicked(ev, loadAll));
window.addEventListener("hashchange", follow);

async function start() {
  $("#contact-author").value = store.get("journey.author") || "";
  renderAll();
  const s = settings();
  if (s) {
    try {
      const back = await completeSignIn(s);
      if (back) location.hash = back;
    } catch (e) {
      needKey(t("signInFailed", { msg: e.message }));
    }
  }
  renderWho();
  follow();
  loadAll();
}
start();

export const STAGES = ["trial", "paid", "onboarding", "active", "engaged", "completed", "churned"];
export const RISKS = ["none", "caution", "warning", "danger"];
export const REASONS = ["refund_requested", "subscription_cancelled", "inactivity"];
export const STATUSES = ["in_progress", "deferred", "retry", "sent", "skipped", "failed", "unknown"];

export const store = {
  get(k) { try { return localStorage.getItem(k); } catch (_) { return null; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch (_) { /* private mode */ } }
};
// The API key lives only as long as the tab (sessionStorage): a key left in localStorage would
// outlive the session on a shared computer and be readable by any script of the origin for good.
export const keyStore = {
  get(k) { try { return sessionStorage.getItem(k); } catch (_) { return null; } },
  set(k, v) { try { sessionStorage.setItem(k, v); } catch (_) { /* private mode */ } }
};
// a key an earlier version kept in localStorage is forgotten
try { localStorage.removeItem("journey.key"); } catch (_) { /* private mode */ }
export const S = {
  lang: store.get("journey.lang") === "en" ? "en" : "ko",
  key: keyStore.get("journey.key") || "",
  stats: null, statsErr: null, statsLoading: false,
  list: { order: "value", risk: "", items: [], next: null, loading: false, err: null, seq: 0, loaded: false },
  filters: { owner: "", program: "", mine: false },
  today: { items: [], next: null, loading: false, err: null, seq: 0, loaded: false },
  search: { q: "", items: [], loading: false, err: null, seq: 0 },
  me: null,
  held: [], heldErr: null,
  cust: { id: null, data: null, loading: false, err: null, seq: 0, moreLoading: false, moreErr: null },
  updatedAt: null
};

export const $ = (sel) => document.querySelector(sel);
/** Whether the caller may use a route (the API's `/me` lists them; the API refuses the rest
 * anyway). Until `/me` has answered, the page assumes it may. */
export const can = (route) => !S.me || (S.me.can || []).includes(route);

import { $, S, store } from "./state.js";
import { t } from "./i18n.js";

/* ---------- API ---------- */
export class ApiError extends Error {
  constructor(status, code, message, field) { super(message); this.status = status; this.code = code; this.field = field; }
}
export async function api(path, opts = {}) {
  if (!S.key) { needKey(); throw new ApiError(401, "missing_api_key", t("keyTitle")); }
  const headers = Object.assign({ "x-api-key": S.key, "accept": "application/json" }, opts.headers || {});
  let res;
  try {
    res = await fetch(path, Object.assign({ cache: "no-store" }, opts, { headers }));
  } catch (_) {
    throw new ApiError(0, "network", t("network"));
  }
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
  const err = body && body.error ? body.error : null;
  if (res.status === 401) {
    needKey(err && err.message);
    throw new ApiError(401, err ? err.code : "unauthorized", err && err.message ? err.message : "HTTP 401");
  }
  if (!res.ok) throw new ApiError(res.status, err ? err.code : "http_" + res.status, err && err.message ? err.message : "HTTP " + res.status, err && err.field);
  return body;
}

/* ---------- API key ---------- */
export function readKeyFromHash() {
  if (!location.hash || location.hash.length < 2) return false;
  const params = new URLSearchParams(location.hash.slice(1));
  const k = params.get("key");
  if (!k) return false;
  S.key = k.trim();
  store.set("journey.key", S.key);
  history.replaceState(null, "", location.pathname + location.search);
  return true;
}
export function needKey(message) {
  document.body.classList.add("needs-key");
  $("#keybox").hidden = false;
  const e = $("#key-error");
  e.hidden = !message;
  e.textContent = message || "";
  $("#key-cancel").hidden = !S.key;
  $("#key-input").value = "";
  setTimeout(() => $("#key-input").focus(), 0);
}
export function hideKeyForm() {
  document.body.classList.remove("needs-key");
  $("#keybox").hidden = true;
}


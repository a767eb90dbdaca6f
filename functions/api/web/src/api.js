import { $, S, keyStore } from "./state.js";
import { t } from "./i18n.js";
import { currentToken, settings, signOut } from "./auth.js";

/* ---------- API ---------- */
export class ApiError extends Error {
  constructor(status, code, message, field) { super(message); this.status = status; this.code = code; this.field = field; }
}

/** How the page calls the API: a signed-in staff member's token on `/staff/…`, else the key. */
export function credentials() {
  const token = currentToken();
  if (token) return { prefix: "staff/", headers: { authorization: "Bearer " + token } };
  if (S.key) return { prefix: "", headers: { "x-api-key": S.key } };
  return null;
}

/** The answer of `path` (relative: `customers?…`) as text, with its response. */
async function call(path, opts) {
  const auth = credentials();
  if (!auth) { needKey(); throw new ApiError(401, "missing_api_key", t("keyTitle")); }
  const headers = Object.assign({ accept: "application/json" }, auth.headers, opts.headers || {});
  let res;
  try {
    res = await fetch(auth.prefix + path, Object.assign({ cache: "no-store" }, opts, { headers }));
  } catch (_) {
    throw new ApiError(0, "network", t("network"));
  }
  // the bytes as sent (a CSV's byte-order mark included), and their text
  const bytes = await res.arrayBuffer();
  const text = new TextDecoder().decode(bytes);
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
  const err = body && body.error ? body.error : null;
  if (res.status === 401) {
    if (auth.prefix) signOut();
    needKey(err && err.message ? err.message : auth.prefix ? t("signedOut") : null);
    throw new ApiError(401, err ? err.code : "unauthorized", err && err.message ? err.message : "HTTP 401");
  }
  if (!res.ok) throw new ApiError(res.status, err ? err.code : "http_" + res.status, err && err.message ? err.message : "HTTP " + res.status, err && err.field);
  return { bytes, body, res };
}

export async function api(path, opts = {}) {
  return (await call(path, opts)).body;
}

/** A file from the API (the at-risk list's CSV), saved under the name the API gives it. */
export async function download(path, fallbackName) {
  const { bytes, res } = await call(path, { headers: { accept: "text/csv" } });
  const named = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") || "");
  const url = URL.createObjectURL(new Blob([bytes], { type: res.headers.get("content-type") || "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = named ? named[1] : fallbackName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return a.download;
}

/* ---------- API key or sign-in ---------- */
export function needKey(message) {
  document.body.classList.add("needs-key");
  $("#keybox").hidden = false;
  $("#sign-in").hidden = !settings();
  const e = $("#key-error");
  e.hidden = !message;
  e.textContent = message || "";
  $("#key-cancel").hidden = !S.key && !currentToken();
  $("#key-input").value = "";
  setTimeout(() => ($("#sign-in").hidden ? $("#key-input") : $("#sign-in")).focus(), 0);
}
export function hideKeyForm() {
  document.body.classList.remove("needs-key");
  $("#keybox").hidden = true;
}
export function setKey(k) {
  S.key = k;
  keyStore.set("journey.key", k);
}

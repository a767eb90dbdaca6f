// Staff sign-in: the OpenID Connect authorization code flow with PKCE, the page being a public
// client of the provider the API names in <meta name="journey-sign-in">. The ID token is kept
// in this browser until it expires (localStorage: an alert's link opens in a new tab, signed
// in) and sent to the `/staff/` routes, where the HTTP API's JWT authorizer checks it; without
// a provider (or a sign-in) the page asks for the API key.

const TOKEN = "journey.idToken";
const PENDING = "journey.signIn";

function storage(kind) {
  return {
    get(k) { try { return window[kind].getItem(k); } catch (_) { return null; } },
    set(k, v) { try { window[kind].setItem(k, v); } catch (_) { /* private mode */ } },
    remove(k) { try { window[kind].removeItem(k); } catch (_) { /* private mode */ } },
  };
}
// the sign-in under way belongs to its tab; the token to the browser
const session = storage("sessionStorage");
const kept = storage("localStorage");

/** The provider the page may sign in with: {issuer, client_id}, or null. */
export function settings(doc = document) {
  const meta = doc.querySelector('meta[name="journey-sign-in"]');
  try {
    const s = meta && meta.content ? JSON.parse(meta.content) : null;
    return s && s.issuer && s.client_id ? s : null;
  } catch (_) {
    return null;
  }
}

/** The claims of a JWT, unverified (the authorizer verifies; the page only reads them). */
export function claims(token) {
  try {
    const part = String(token).split(".")[1];
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  } catch (_) {
    return null;
  }
}

/** The ID token while it is good for another minute at `now` (ms), else null. */
export function currentToken(now = Date.now()) {
  const token = kept.get(TOKEN);
  const c = token && claims(token);
  if (!c || typeof c.exp !== "number" || c.exp * 1000 < now + 60000) return null;
  return token;
}

export function signOut() { kept.remove(TOKEN); }

function randomText(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return base64url(a);
}

export function base64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** S256 of a PKCE verifier. */
export async function challenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

async function discover(issuer) {
  const res = await fetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration");
  if (!res.ok) throw new Error("the identity provider's discovery answered " + res.status);
  return res.json();
}

/** The page's own address without hash or query: the redirect URI registered for it. */
export function redirectUri(loc = location) { return loc.origin + loc.pathname; }

/** Goes to the provider's sign-in; `back` is the hash to return to. */
export async function signIn(s, back) {
  const meta = await discover(s.issuer);
  const verifier = randomText(48), state = randomText(16), nonce = randomText(16);
  session.set(PENDING, JSON.stringify({ verifier, state, nonce, back, token_endpoint: meta.token_endpoint }));
  const q = new URLSearchParams({
    response_type: "code", client_id: s.client_id, redirect_uri: redirectUri(), scope: "openid email profile",
    state, nonce, code_challenge: await challenge(verifier), code_challenge_method: "S256",
  });
  location.assign(meta.authorization_endpoint + "?" + q.toString());
}

/**
 * Back from the provider (`?code=&state=` on the page's URL): the code exchanged for the ID
 * token, the URL cleaned. Returns the hash to go back to, or null when this is no return.
 */
export async function completeSignIn(s) {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return null;
  const pending = JSON.parse(session.get(PENDING) || "null");
  session.remove(PENDING);
  history.replaceState(null, "", location.pathname + (pending && pending.back ? pending.back : ""));
  if (q.has("error")) throw new Error(q.get("error_description") || q.get("error"));
  if (!pending || q.get("state") !== pending.state) throw new Error("the sign-in did not start here: try again");
  const res = await fetch(pending.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: q.get("code"), redirect_uri: redirectUri(),
      client_id: s.client_id, code_verifier: pending.verifier,
    }).toString(),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.id_token) throw new Error(body.error_description || body.error || "HTTP " + res.status);
  // the authorizer verifies the signature; the page checks the token is the one it asked for
  const c = claims(body.id_token);
  const audience = c && (Array.isArray(c.aud) ? c.aud : [c.aud]);
  if (!c || c.nonce !== pending.nonce || c.iss !== s.issuer || !audience.includes(s.client_id)) {
    throw new Error("the sign-in's answer was not for this page");
  }
  kept.set(TOKEN, body.id_token);
  return pending.back || "#/";
}

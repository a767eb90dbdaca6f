// Where the page is: the hash names the view, so a Slack or e-mail alert's link
// (`#/customers/<id>`, the id form-encoded: `+` is a space) opens the customer, and the back
// button works.
// `#key=<API key>` (the local stack's printed link) still hands the page a key, on the local
// stack only (`isLocal`): anywhere else a link carrying a key would plant it from outside.

/** Whether the page is served by the local stack (`make dev`), where `#key=` is accepted. */
export function isLocal(hostname) {
  return ["127.0.0.1", "localhost", "::1", "[::1]"].includes(String(hostname || ""));
}

/** The route of `hash` (`location.hash`). */
export function parse(hash) {
  const h = String(hash || "").replace(/^#/, "");
  if (h.startsWith("key=") || h.includes("&key=")) {
    const key = new URLSearchParams(h).get("key");
    return { view: "home", key: key ? key.trim() : null };
  }
  const [path, query = ""] = h.split("?");
  const parts = path.split("/").filter(Boolean);
  const params = new URLSearchParams(query);
  if (parts[0] === "customers" && parts.length >= 2) {
    const raw = parts.slice(1).join("/").replace(/\+/g, " ");
    let id;
    try {
      id = decodeURIComponent(raw);
    } catch (_) {
      id = raw;
    }
    return { view: "customer", id };
  }
  if (parts[0] === "search") return { view: "search", q: (params.get("q") || "").trim() };
  if (parts[0] === "today") return { view: "today" };
  return { view: "home" };
}

/** The hash of `route`. */
export function format(route) {
  switch (route && route.view) {
    case "customer": return "#/customers/" + encodeURIComponent(route.id);
    case "search": return "#/search?" + new URLSearchParams({ q: route.q || "" }).toString();
    case "today": return "#/today";
    default: return "#/";
  }
}

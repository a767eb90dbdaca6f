import { test } from "node:test";
import assert from "node:assert/strict";
import { row, reasonWords } from "../src/today.js";
import { S } from "../src/state.js";

test("a row links to the customer's page and says why in words, escaped", () => {
  S.lang = "en";
  const html = row({
    id: "a/b<c>", email: "<m>@x", risk: "danger", value_at_risk_display: "₩9,000", days_inactive: 14,
    top_signals: [{ signal: "inactivity", points: 40 }, { signal: "missed_assignments", points: 12 }],
    owner: { id: "t1", name: "<Kim>" },
  });
  assert.match(html, /href="#\/customers\/a%2Fb%3Cc%3E"/);
  assert.match(html, />a\/b&lt;c&gt;</);
  assert.match(html, /Inactivity, Missed assignments/);
  assert.match(html, /&lt;Kim&gt;/);
  assert.doesNotMatch(html, /<m>|<Kim>/);
  S.lang = "ko";
  assert.equal(reasonWords([{ signal: "inactivity" }]), "무활동");
});

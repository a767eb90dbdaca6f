import { test } from "node:test";
import assert from "node:assert/strict";
import { scorePoints, riskChart } from "../src/chart.js";

const history = [
  { at: "2026-11-15T09:00:00Z", kind: "risk", from: "warning", to: "danger", score: 81.5 },
  { at: "2026-11-01T09:00:00Z", kind: "stage", from: null, to: "paid" },
  { at: "2026-11-08T09:00:00Z", kind: "risk", from: "none", to: "caution", score: 31 },
  { at: "2026-11-11T09:00:00Z", kind: "risk", from: "caution", to: "warning", score: "bad" },
  { at: "2026-11-12T09:00:00Z", kind: "note", note: "contacted by x (phone)" },
];

test("the scored moments, oldest first, each with its level, then now", () => {
  const points = scorePoints(history, { score: 77, risk: "danger" }, "2026-11-20T09:00:00Z");
  assert.deepEqual(points.map((p) => [p.score, p.level]), [[31, "caution"], [81.5, "danger"], [77, "danger"]]);
  assert.equal(points[2].now, true);
  assert.deepEqual(scorePoints([], null, "2026-11-20T09:00:00Z"), []);
});

test("the chart names itself, plots every point and escapes its label", () => {
  const points = scorePoints(history, { score: 77, risk: "danger" }, "2026-11-20T09:00:00Z");
  const svg = riskChart(points, { label: `<risk> "chart"`, timeZone: "Asia/Seoul" });
  assert.match(svg, /role="img" aria-label="&lt;risk&gt; &quot;chart&quot;"/);
  assert.equal(svg.match(/data-test="score-point"/g).length, 3);
  assert.match(svg, /data-score="81.5" data-level="danger"/);
  assert.equal(riskChart([]), null);
  assert.ok(riskChart(points.slice(0, 1)).includes("<circle"), "one point is drawn too");
});

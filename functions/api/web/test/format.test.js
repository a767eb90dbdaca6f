import { test } from "node:test";
import assert from "node:assert/strict";
import { esc, fmtPoints, fmtScore, fmtInt } from "../src/format.js";
import { S } from "../src/state.js";
import { t, lbl } from "../src/i18n.js";

test("everything from outside is escaped for HTML", () => {
  assert.equal(esc(`<img src=x onerror="a('b')">` + "`"), "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&#96;");
  assert.equal(esc(null), "");
  assert.equal(esc(0), "0");
});

test("numbers read as the page's language writes them", () => {
  S.lang = "ko";
  assert.equal(fmtInt(1234567), "1,234,567");
  assert.equal(fmtInt(null), "—");
  assert.equal(fmtScore(42.25), "42.3");
  assert.equal(fmtPoints(3), "+3");
  assert.equal(fmtPoints(-2.26), "−2.3");
});

test("labels come in the page's language, Korean for what English lacks", () => {
  S.lang = "en";
  assert.equal(lbl("risk", "danger"), "Danger");
  assert.equal(t("shown", { n: 3 }), "3 shown");
  S.lang = "ko";
  assert.equal(lbl("risk", "danger"), "위험");
  assert.equal(lbl("risk", "unheard-of"), "unheard-of");
  assert.equal(lbl("risk", null), "—");
});

test("times read in the page's language and the customer's time zone, 24-hour", async () => {
  const { fmtTime } = await import("../src/format.js");
  S.lang = "ko";
  const seoul = fmtTime("2026-11-02T05:13:00Z", "Asia/Seoul");
  assert.match(seoul, /14:13/);
  assert.doesNotMatch(seoul, /PM|오후/);
  assert.match(seoul, /2026/);
  S.lang = "en";
  const ny = fmtTime("2026-11-02T05:13:00Z", "America/New_York");
  assert.match(ny, /00:13/);
  assert.match(ny, /EST|GMT-5/);
  assert.equal(fmtTime(null), "—");
  assert.match(fmtTime("2026-11-02T05:13:00Z", "Not/AZone"), /2026/, "an unknown zone falls back");
});

test("the alerts' outcomes as staff recorded them", async () => {
  const { outcomes } = await import("../src/stats.js");
  S.lang = "en";
  assert.equal(outcomes({ reached: 2, no_answer: 0, saved: 1, lost: 1 }), "Reached 2 · Resolved: saved 1 · Resolved: lost 1");
  assert.equal(outcomes({}), "—");
});

test("a text's final report and a month of texts, in both languages", async () => {
  const { textBadge } = await import("../src/stats.js");
  S.lang = "en";
  const badge = textBadge({ via: "sms", fallback: true, code: "4000", cost_krw: 12, at: "2026-11-02T05:13:00Z" });
  assert.match(badge, /data-via="sms"/);
  assert.match(badge, /SMS · fallback · ₩12/);
  S.lang = "ko";
  assert.match(textBadge({ via: "failed", fallback: false, code: "3107<b>", cost_krw: 0, at: null }), /전달 실패<\/span>/);
  assert.doesNotMatch(textBadge({ via: "x", code: "<b>", cost_krw: 0 }), /<b>/, "escaped");
  assert.equal(textBadge(undefined), "");
});

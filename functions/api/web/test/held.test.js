import { test } from "node:test";
import assert from "node:assert/strict";
import { waiting } from "../src/held.js";

const held = (number, judged_against) => ({ number, approval: { status: "awaiting", reason: "moves", judged_against } });

test("a held calibration waits until approved, and only against the rules it was judged on", () => {
  const page = { active: 1, versions: [{ number: 1 }, held(2, 1), held(3, 7)] };
  assert.deepEqual(waiting(page).map((v) => v.number), [2], "judged against another version: not offered");
  page.versions.push({ number: 4, approval: { status: "given", of: 2, by: "staff:mina" } });
  page.active = 4;
  assert.deepEqual(waiting(page), [], "approved once");
  assert.deepEqual(waiting({ active: null, versions: [held(1, null)] }).map((v) => v.number), [1]);
  assert.deepEqual(waiting(null), []);
});

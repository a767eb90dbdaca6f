// The CS workspace's flows in headless Chromium (Debian's), against a local stack that has run
// the demo: sign-in through the stand-in provider, today's list, a customer's page from a deep
// link, recording a contact and its outcome, search, "my customers", the CSV export, the
// language, keyboard use, a phone's width, and what each role sees. Screenshots go to SHOTS (docs/screenshots).
// Usage: node browser/flows.mjs <base URL> <API key>; exits non-zero on the first failure.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";

const [base, apiKey] = process.argv.slice(2);
const shots = process.env.SHOTS || "screenshots";
mkdirSync(shots, { recursive: true });
const step = (name) => console.log("flow:", name);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ko-KR", timezoneId: "Asia/Seoul", acceptDownloads: true });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
// a failed request is reported by its address (the console's message does not name it)
page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text()); });
page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
const ready = () => page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
const settle = () => fetch(`${base}/_local/settle`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });

try {
  step("sign in through the provider");
  await page.goto(`${base}/`);
  await page.getByRole("button", { name: "회사 계정으로 로그인" }).click();
  await page.waitForURL(/\/_local\/oidc\/authorize/);
  await page.fill('input[name="email"]', "tutor-7");
  await page.fill('input[name="name"]', "박서연");
  await page.click('button[type="submit"]');
  await page.waitForURL(`${base}/#/`);
  await ready();
  assert.match(await page.textContent("[data-test=who]"), /박서연/);
  assert.equal(await page.locator("#keybox").isHidden(), true);

  step("today's list, most valuable first");
  const today = page.locator("[data-test=today-row]");
  const before = await today.count();
  assert.ok(before > 0, "someone to call today after the demo");
  const first = await today.first().getAttribute("data-customer");
  await page.screenshot({ path: `${shots}/workspace-today.png`, fullPage: false });

  step("the customer's page from today's list");
  await today.first().locator("a.cust-link").click();
  await page.waitForURL(new RegExp(`#/customers/${encodeURIComponent(first)}$`));
  await page.waitForSelector("#cust-content:not([hidden]) [data-test=risk-chart]");
  assert.ok(await page.locator("[data-test=score-point]").count() >= 1, "the score over time");
  assert.ok(await page.locator("#cust-contrib .crow").count() >= 1, "the signals behind the score");
  assert.equal(await page.locator("#author-field").isHidden(), true, "signed in: the API names the author");
  await page.locator("#customer").screenshot({ path: `${shots}/workspace-customer.png` });

  step("resolved as saved: recorded under the staff member, off today's list");
  await page.check('input[name="outcome"][value="saved"]');
  await page.click("#contact-submit");
  await page.waitForSelector("#contact-status .ok");
  await settle();
  await page.click("#refresh");
  await ready();
  await page.waitForSelector("[data-test=last-contact]");
  assert.match(await page.textContent("[data-test=last-contact]"), /tutor-7.*해결: 유지/);
  const after = await page.locator("[data-test=today-row]").evaluateAll((rows) => rows.map((r) => r.dataset.customer));
  assert.ok(!after.includes(first), `${first} is off today's list: ${after}`);
  // and it counts toward what came of the staff alert about them
  assert.match(await page.textContent('[data-test=alert-row][data-owner="tutor-7"] [data-test=outcomes]'), /해결: 유지 1/);

  step("no answer: still on today's list");
  const next = after[0];
  await page.goto(`${base}/#/customers/${encodeURIComponent(next)}`);
  await page.waitForSelector("#cust-content:not([hidden])");
  await page.check('input[name="outcome"][value="no_answer"]');
  await page.click("#contact-submit");
  await page.waitForSelector("#contact-status .ok");
  await settle();
  await page.click("#refresh");
  await ready();
  await page.waitForFunction((id) => document.querySelector(`[data-test=last-contact]`)?.textContent.includes("연락 안 됨"), next);
  const still = await page.locator("[data-test=today-row]").evaluateAll((rows) => rows.map((r) => r.dataset.customer));
  assert.ok(still.includes(next), `${next} stays on today's list after no answer: ${still}`);

  step("a deep link opens the customer, as the Slack button does");
  const other = after[0] || first;
  const fresh = await context.newPage();
  await fresh.goto(`${base}/#/customers/${encodeURIComponent(other)}`);
  await fresh.waitForSelector("#cust-content:not([hidden])");
  assert.match(await fresh.textContent("#cust-head .cust-id"), new RegExp(other));
  await fresh.close();

  step("search by the start of an e-mail address");
  await page.fill("#search-input", "JUNG@");
  await page.press("#search-input", "Enter");
  await page.waitForSelector("[data-test=search-row]");
  assert.deepEqual(await page.locator("[data-test=search-row]").evaluateAll((r) => r.map((x) => x.dataset.customer)), ["jung"]);
  await page.fill("#search-input", "nobody-here");
  await page.press("#search-input", "Enter");
  await page.waitForSelector("[data-test=search-empty]");

  step("my customers");
  await page.click("#search-close");
  await Promise.all([
    page.waitForResponse((r) => r.url().includes("/staff/customers?") && r.url().includes("owner=me")),
    page.click("#mine"),
  ]);
  await page.waitForFunction(() => !document.querySelector("#list-wrap.busy"));
  const mine = await page.locator("[data-test=at-risk-row]").evaluateAll((r) => r.map((x) => x.dataset.customer));
  assert.ok(mine.length > 0 && !mine.includes("yoon"), `tutor-7's customers only: ${mine}`);
  await page.click("#mine");

  step("filtered by program");
  await page.fill("#filter-program", "english-12w");
  await Promise.all([
    page.waitForResponse((r) => r.url().includes("/staff/customers?") && r.url().includes("program=english-12w")),
    page.click('#filters button[type="submit"]'),
  ]);
  await page.waitForFunction(() => !document.querySelector("#list-wrap.busy"));
  const inProgram = await page.locator("[data-test=at-risk-row]").evaluateAll((r) => r.map((x) => x.dataset.customer));
  assert.ok(inProgram.length > 0 && !inProgram.includes("yoon"), `english-12w only: ${inProgram}`);
  await page.fill("#filter-program", "");
  await page.click('#filters button[type="submit"]');

  step("the at-risk list as CSV");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  assert.match(download.suggestedFilename(), /^at-risk-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv, /^\uFEFFid,email,stage,risk,score/);

  step("keyboard: a row's link opens with Enter");
  await page.goto(`${base}/#/`);
  await ready();
  await page.locator("[data-test=at-risk-row] a.cust-link").first().focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/customers\//);
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input:not([type=hidden]), select")]
    .filter((el) => !el.labels || el.labels.length === 0).map((el) => el.id || el.name));
  assert.deepEqual(unlabelled, [], "every field has a label");

  step("English, and times in 24 hours");
  await page.click("#lang");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.match(await page.textContent("#today-title"), /Today's list/);
  assert.doesNotMatch(await page.textContent("#cust-timeline"), /\b(AM|PM)\b|오전|오후/);
  await page.screenshot({ path: `${shots}/workspace-en.png`, fullPage: false });
  await page.click("#lang");

  step("a phone's width");
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: "ko-KR", timezoneId: "Asia/Seoul" });
  const small = await phone.newPage();
  await small.goto(`${base}/#key=${apiKey}`);
  await small.waitForSelector("body[data-ready=true]", { timeout: 20000 });
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scroll on a phone (${overflow}px)`);
  await small.screenshot({ path: `${shots}/workspace-phone.png` });
  await phone.close();

  step("signed out, the page asks again");
  await page.click("#sign-out");
  assert.equal(await page.locator("[data-test=who]").isHidden(), true);

  step("roles: an agent works today's list without the export, a viewer sees the numbers, a member without a group is told");
  const signInAs = async (who, role) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ko-KR", timezoneId: "Asia/Seoul" });
    const p = await ctx.newPage();
    p.on("pageerror", (e) => errors.push(e.message));
    await p.goto(`${base}/`);
    await p.getByRole("button", { name: "회사 계정으로 로그인" }).click();
    await p.waitForURL(/\/_local\/oidc\/authorize/);
    await p.fill('input[name="email"]', who);
    await p.selectOption('select[name="role"]', role);
    await p.click('button[type="submit"]');
    await p.waitForURL(`${base}/#/`);
    await p.waitForSelector("body[data-ready=true]", { timeout: 20000 });
    return { p, ctx };
  };
  const agent = await signInAs("tutor-7", "agent");
  assert.equal(await agent.p.getAttribute("body", "data-role"), "agent");
  assert.match(await agent.p.textContent("[data-test=who]"), /상담원/);
  assert.equal(await agent.p.locator("#today").isVisible(), true);
  assert.equal(await agent.p.locator("#export").isHidden(), true, "no export for an agent");
  const theirs = await agent.p.locator("[data-test=at-risk-row]").evaluateAll((r) => r.map((x) => x.dataset.customer));
  assert.ok(!theirs.includes("yoon"), `an agent's list is their own: ${theirs}`);
  await agent.ctx.close();
  const viewer = await signInAs("analyst", "viewer");
  assert.equal(await viewer.p.locator("#list").isHidden(), true, "no customer list for a viewer");
  assert.equal(await viewer.p.locator("#today").isHidden(), true);
  assert.equal(await viewer.p.locator("#search-form").isHidden(), true);
  assert.equal(await viewer.p.locator("#stages").isVisible(), true, "the numbers");
  await viewer.ctx.close();
  const nobody = await signInAs("new-hire", "");
  assert.equal(await nobody.p.locator("[data-test=no-role]").isVisible(), true);
  assert.equal(await nobody.p.locator("#stages").isHidden(), true);
  await nobody.ctx.close();

  assert.deepEqual(errors, [], "no script error on the page");
  console.log("flows: all passed");
} finally {
  await browser.close();
}

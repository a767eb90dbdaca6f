import { test } from "node:test";
import assert from "node:assert/strict";
import { isLocal, parse, format } from "../src/route.js";
import { claims, base64url } from "../src/auth.js";

test("an alert's link opens the customer, whatever their id holds", () => {
  assert.deepEqual(parse("#/customers/cust-1001"), { view: "customer", id: "cust-1001" });
  assert.deepEqual(parse("#/customers/x%3C%21channel%3E"), { view: "customer", id: "x<!channel>" });
  assert.deepEqual(parse("#/customers/a%2Fb"), { view: "customer", id: "a/b" });
  // the alerts form-encode the id (Rust's form_urlencoded): a space is `+`, a plus `%2B`
  assert.deepEqual(parse("#/customers/kim+min%2Bah"), { view: "customer", id: "kim min+ah" });
  assert.deepEqual(parse("#/customers/%E0%A4%A"), { view: "customer", id: "%E0%A4%A" });
  const id = "김민아 #1/ok?";
  assert.deepEqual(parse(format({ view: "customer", id })), { view: "customer", id });
});

test("search, today and home; the local stack's key link still works", () => {
  assert.deepEqual(parse("#/search?q=mina%40ex"), { view: "search", q: "mina@ex" });
  assert.deepEqual(parse(format({ view: "search", q: "a&b=c" })), { view: "search", q: "a&b=c" });
  assert.deepEqual(parse("#/today"), { view: "today" });
  assert.deepEqual(parse(""), { view: "home" });
  assert.deepEqual(parse("#/nonsense"), { view: "home" });
  assert.deepEqual(parse("#key=abc123"), { view: "home", key: "abc123" });
});

test("the page reads who signed in from the ID token", () => {
  const part = (o) => base64url(new TextEncoder().encode(JSON.stringify(o)));
  const token = `${part({ alg: "HS256" })}.${part({ email: "mina@example.com", name: "김민아", exp: 2 })}.sig`;
  assert.deepEqual(claims(token), { email: "mina@example.com", name: "김민아", exp: 2 });
  assert.equal(claims("not a token"), null);
});

test("a key in the link is taken on the local stack only", () => {
  for (const host of ["127.0.0.1", "localhost", "::1"]) assert.equal(isLocal(host), true, host);
  for (const host of ["abc123.execute-api.ap-northeast-2.amazonaws.com", "journey.example.com", "", "127.0.0.1.evil.example"]) {
    assert.equal(isLocal(host), false, host);
  }
});

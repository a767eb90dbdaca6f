#!/usr/bin/env python3
"""Regenerates events/ingest/*.json: API Gateway v2 requests signed with the public test-vector
keys of the Stripe docs and the Standard Webhooks spec (see events/README.md).

Usage: python3 infra/scripts/gen-ingest-fixtures.py [path/to/stripe-fixtures3.json]
"""
import base64, hashlib, hmac, json, datetime, copy, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "events", "ingest")
DEFAULT_FIXTURES = os.path.join(HERE, "..", "..", "..", "shared", "reference", "stripe-fixtures3.json")

STRIPE_KEY = "whsec_test_secret"                         # Stripe docs' public test vector
APP_KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"       # Standard Webhooks spec's public test vector
NOW = int(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.timezone.utc).timestamp())

fixtures = json.load(open(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIXTURES))["resources"]

def stripe_sig(body: bytes, t: int, key=STRIPE_KEY) -> str:
    mac = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"

def std_sig(msg_id: str, t: int, body: bytes, key=APP_KEY) -> str:
    secret = base64.b64decode(key.removeprefix("whsec_"))
    mac = hmac.new(secret, f"{msg_id}.{t}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()

def apigw(path: str, headers: dict, body: bytes, request_id: str, b64=False) -> dict:
    headers = {k.lower(): v for k, v in headers.items()}
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-length": str(len(body)), "host": "abc123.execute-api.ap-northeast-2.amazonaws.com",
                    "user-agent": headers.pop("user-agent", "Journey-fixture/1.0"), **headers},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.ap-northeast-2.amazonaws.com",
            "domainPrefix": "abc123", "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.10", "userAgent": "Journey-fixture/1.0"}, "requestId": request_id,
            "routeKey": f"POST {path}", "stage": "$default",
            "time": datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": NOW * 1000,
        },
        "body": base64.b64encode(body).decode() if b64 else body.decode(),
        "isBase64Encoded": b64,
    }

def stripe_event(kind: str, obj: dict, evt_id: str, created: int) -> bytes:
    e = copy.deepcopy(fixtures["event"])
    e.update({"id": evt_id, "type": kind, "created": created, "api_version": "2025-10-29.clover"})
    e["data"] = {"object": obj}
    return json.dumps(e, indent=2).encode()

invoice = copy.deepcopy(fixtures["invoice"])
invoice.update({"customer": "cus_QXg1o8vcGmoR32", "customer_email": "kim.minji@example.com", "amount_paid": 37400,
                "amount_due": 37400, "currency": "krw", "status": "paid", "metadata": {"customer_id": "cust-1001"}})
paid = stripe_event("invoice.paid", invoice, "evt_1Pgc76B7WZ01zgkWwyRHS12y", NOW - 20)
failed_inv = dict(invoice, status="open", amount_paid=0)
failed = stripe_event("invoice.payment_failed", failed_inv, "evt_1Pgc77B7WZ01zgkWa1b2c3d4", NOW - 20)
charge = copy.deepcopy(fixtures["charge"])
charge.update({"customer": "cus_QXg1o8vcGmoR32", "amount_refunded": 37400, "refunded": True, "currency": "krw",
               "metadata": {"customer_id": "cust-1001"}, "receipt_email": "kim.minji@example.com"})
refunded = stripe_event("charge.refunded", charge, "evt_1Pgc78B7WZ01zgkWe5f6g7h8", NOW - 20)

out = {}
def write(name, ev):
    out[name] = ev
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(ev, f, indent=2, ensure_ascii=False); f.write("\n")

ct = {"content-type": "application/json; charset=utf-8", "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
write("stripe-invoice-paid", apigw("/webhooks/stripe", {**ct, "stripe-signature": stripe_sig(paid, NOW - 5)}, paid, "req-stripe-paid"))
write("stripe-payment-failed", apigw("/webhooks/stripe", {**ct, "stripe-signature": stripe_sig(failed, NOW - 5)}, failed, "req-stripe-failed"))
write("stripe-charge-refunded-base64", apigw("/webhooks/stripe", {**ct, "stripe-signature": stripe_sig(refunded, NOW - 5)}, refunded, "req-stripe-refund", b64=True))
write("stripe-bad-signature", apigw("/webhooks/stripe", {**ct, "stripe-signature": stripe_sig(paid, NOW - 5, key="whsec_wrong")}, paid, "req-stripe-badsig"))
write("stripe-stale", apigw("/webhooks/stripe", {**ct, "stripe-signature": stripe_sig(paid, NOW - 600)}, paid, "req-stripe-stale"))

def app(name, body_obj, msg_id, t=NOW - 2, key=APP_KEY):
    body = json.dumps(body_obj, ensure_ascii=False).encode()
    h = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(t),
         "webhook-signature": std_sig(msg_id, t, body, key)}
    write(name, apigw("/events", h, body, f"req-{name}"))

login = {"type": "login", "customer_id": "cust-1001", "occurred_at": "2026-11-02T08:59:30Z"}
app("app-login", login, "msg_2Vq8xYkT4mQ9rLp3")
batch = [
    {"type": "signed_up", "customer_id": "cust-2002", "occurred_at": "2026-11-02T08:00:00Z", "plan": "trial",
     "email": "lee.jun@example.com", "locale": "ko", "time_zone": "Asia/Seoul", "program": "english-12w",
     "owner": {"id": "tutor-7", "name": "박서연", "email": "tutor7@example.com", "slack_id": "U0TUTOR7"}},
    {"type": "content_viewed", "customer_id": "cust-2002", "occurred_at": "2026-11-02T08:10:00Z", "seconds": 540},
    {"type": "assignment_submitted", "customer_id": "cust-1001", "occurred_at": "2026-11-02T08:20:00Z", "id": "sub-88121"},
    {"type": "nps_response", "customer_id": "cust-1001", "occurred_at": "2026-11-02T08:30:00Z", "score": 9},
    {"type": "support_ticket", "customer_id": "cust-3003", "occurred_at": "2026-11-02T08:40:00Z"},
]
app("app-batch", batch, "msg_2Vq8xYkT4mQ9rLp4")
bad_batch = copy.deepcopy(batch); bad_batch[3]["score"] = 11
app("app-batch-invalid", bad_batch, "msg_2Vq8xYkT4mQ9rLp5")
app("app-bad-signature", login, "msg_2Vq8xYkT4mQ9rLp6", key="whsec_" + base64.b64encode(b"not-the-key-at-all-000000").decode())
app("app-stale", login, "msg_2Vq8xYkT4mQ9rLp7", t=NOW - 900)

# ---- Korean PGs: the webhooks, and the payments their APIs return (events/providers/) ----------
PROVIDERS = os.path.join(HERE, "..", "..", "events", "providers")
toss_done = {
    "mId": "tvivarepublica", "version": "2022-11-16", "paymentKey": "tviva20261102180000AbCdE",
    "orderId": "order-20261102-0042", "orderName": "영어 회화 12주", "status": "DONE",
    "lastTransactionKey": "9C62B18EEF0DE3EB7F4422EB6D14BC6E", "method": "카드", "currency": "KRW",
    "totalAmount": 49000, "balanceAmount": 49000, "suppliedAmount": 44545, "vat": 4455,
    "requestedAt": "2026-11-02T17:59:40+09:00", "approvedAt": "2026-11-02T18:00:00+09:00",
    "secret": "ps_test_generated_deposit_secret", "cancels": None, "customerKey": None,
    "metadata": {"customer_id": "cust-4004", "email": "choi.yuna@example.com", "locale": "ko"},
}
toss_vbank = dict(toss_done, paymentKey="tviva20261102190000FgHiJ", orderId="order-20261102-0043",
                  method="가상계좌", lastTransactionKey="B7F4422EB6D14BC6E9C62B18EEF0DE3E",
                  approvedAt="2026-11-02T19:00:00+09:00",
                  metadata={"customer_id": "cust-4005", "email": "jung.hoon@example.com"})
portone_paid = {
    "status": "PAID", "id": "payment-20261102-0077", "transactionId": "01936f1c-7e8a-7a3b-9c1d-2e4f6a8b0c1d",
    "merchantId": "merchant-test", "storeId": "store-test", "version": "V2", "orderName": "수학 심화반",
    "requestedAt": "2026-11-02T08:59:30Z", "updatedAt": "2026-11-02T09:00:00Z",
    "statusChangedAt": "2026-11-02T09:00:00Z", "paidAt": "2026-11-02T09:00:00Z",
    "amount": {"total": 59000, "taxFree": 0, "vat": 5364, "supply": 53636, "discount": 0, "paid": 59000, "cancelled": 0, "cancelledTaxFree": 0},
    "currency": "KRW", "customer": {"id": "portone-cust-77", "name": "한지민", "email": "han.jimin@example.com"},
    "customData": json.dumps({"customer_id": "cust-5005"}),
}
os.makedirs(PROVIDERS, exist_ok=True)
with open(os.path.join(PROVIDERS, "payments.json"), "w") as f:
    json.dump({"toss": [toss_done, toss_vbank], "portone": [portone_paid]}, f, indent=2, ensure_ascii=False); f.write("\n")

toss_h = {"content-type": "application/json", "user-agent": "TossPayments-Webhook"}
def toss(name, body_obj):
    body = json.dumps(body_obj, ensure_ascii=False).encode()
    write(name, apigw("/webhooks/toss", toss_h, body, f"req-{name}"))

toss("toss-payment-done", {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-02T18:00:01.000000", "data": toss_done})
toss("toss-deposit-callback", {"createdAt": "2026-11-02T19:00:01.000000", "secret": toss_vbank["secret"], "status": "DONE",
                               "transactionKey": toss_vbank["lastTransactionKey"], "orderId": toss_vbank["orderId"]})
toss("toss-forged", {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-02T18:00:01.000000",
                     "data": dict(toss_done, status="DONE", paymentKey="tviva_not_a_real_payment")})

def portone(name, body_obj, msg_id, t=NOW - 3, key=APP_KEY):
    body = json.dumps(body_obj, ensure_ascii=False).encode()
    h = {"content-type": "application/json", "user-agent": "PortOne-Webhook", "webhook-id": msg_id,
         "webhook-timestamp": str(t), "webhook-signature": std_sig(msg_id, t, body, key)}
    write(name, apigw("/webhooks/portone", h, body, f"req-{name}"))

paid_hook = {"type": "Transaction.Paid", "timestamp": "2026-11-02T09:00:01Z",
             "data": {"paymentId": portone_paid["id"], "storeId": "store-test", "transactionId": portone_paid["transactionId"]}}
portone("portone-transaction-paid", paid_hook, "msg_01JC9T3XK2Z8Q4R6V0W7Y5N1P")
portone("portone-bad-signature", paid_hook, "msg_01JC9T3XK2Z8Q4R6V0W7Y5N1Q",
        key="whsec_" + base64.b64encode(b"not-the-key-at-all-000000").decode())

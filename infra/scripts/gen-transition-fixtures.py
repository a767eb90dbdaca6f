#!/usr/bin/env python3
"""Regenerates events/transition/: whole journeys of several customers as the events queue
carries them (EventMessage JSON), and one SQS batch as Lambda receives it.

Usage: python3 infra/scripts/gen-transition-fixtures.py
"""
import datetime, hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "events", "transition")
BASE = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.timezone.utc)

def at(days, hours=0):
    return (BASE + datetime.timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

messages = []
def event(customer, days, kind, hours=0, source="app", **fields):
    n = sum(1 for m in messages if m["event"]["customer_id"] == customer) + 1
    when = at(days, hours)
    if kind == "check_due":
        eid, source = f"check:{customer}:{when}", "sweep"
    else:
        eid = f"{source}:{customer}-{n}"
    e = {"id": eid, "customer_id": customer, "occurred_at": when, "source": source, "type": kind, **fields}
    messages.append({"received_at": when, "event": e})

pay = dict(amount={"amount": 99000, "currency": "KRW"})
profile = lambda email: {"email": email, "locale": "ko", "time_zone": "Asia/Seoul",
                         "owner": {"id": "tutor-7", "name": "박서연", "email": "tutor7@example.com", "slack_id": "U0TUTOR7"}}

# happy path: paid, first assignment, sustained activity, completed
event("happy-1", 0, "payment_succeeded", source="stripe", profile=profile("happy@example.com"), **pay)
event("happy-1", 1, "assignment_submitted")
for d in range(2, 8):
    event("happy-1", d, "login")
event("happy-1", 20, "program_completed")

# inactivity escalation driven by due checks
event("quiet-2", 0, "payment_succeeded", source="stripe", profile=profile("quiet@example.com"), **pay)
event("quiet-2", 1, "assignment_submitted")
for d in (8, 11, 15, 31):
    event("quiet-2", d, "check_due")

# refund churns, with the reason
event("refund-3", 0, "payment_succeeded", source="stripe", profile=profile("refund@example.com"), **pay)
event("refund-3", 3, "refund_requested", source="stripe", reason="requested_by_customer")

# a reminder, then recovery: the reminder is credited
event("recover-4", 0, "payment_succeeded", source="stripe", profile=profile("recover@example.com"), **pay)
event("recover-4", 0, "assignment_submitted", hours=1)
event("recover-4", 7, "check_due", hours=1)
event("recover-4", 8, "login")

# in the order the queue delivers them: by time
messages.sort(key=lambda m: (m["received_at"], m["event"]["customer_id"]))
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "journeys.json"), "w") as f:
    json.dump(messages, f, indent=2, ensure_ascii=False); f.write("\n")

def sqs_record(m):
    body = json.dumps(m, ensure_ascii=False, separators=(",", ":"))
    dedup = hashlib.sha256(m["event"]["id"].encode()).hexdigest()
    return {
        "messageId": f"msg-{dedup[:16]}",
        "receiptHandle": f"AQEB{dedup[:32]}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1793523600000",
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1793523600100",
                       "MessageGroupId": m["event"]["customer_id"], "MessageDeduplicationId": dedup,
                       "SequenceNumber": "18849496460467696128"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:ap-northeast-2:123456789012:journey-dev-events.fifo",
        "awsRegion": "ap-northeast-2",
    }

with open(os.path.join(OUT, "sqs-batch.json"), "w") as f:
    json.dump({"Records": [sqs_record(m) for m in messages[:6]]}, f, indent=2, ensure_ascii=False); f.write("\n")

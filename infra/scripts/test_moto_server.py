"""The emulator's workarounds change speed, not answers: one random workload of puts, updates,
deletes, batch writes, transactions (some cancelled) and reads, and one of queue sends,
receives, deletes and counts, run against moto as installed and against
infra/scripts/moto_server.py, and every answer must be the same (every query of the base table
and of both indexes: sparse, paged, both directions; what each receive got, each count).
Where the patched server answers differently on purpose — FIFO order when a batch comes back,
and a FIFO group handed to one receiver at a time — it is checked against SQS's own rule.

    .venv/bin/python3 infra/scripts/test_moto_server.py [operations] [seed]
"""

import os
import random
import socket
import subprocess
import sys
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(patched):
    port = free_port()
    if patched:
        command = [sys.executable, os.path.join(HERE, "moto_server.py")]
    else:
        command = [sys.executable, "-m", "moto.server"]
    server = subprocess.Popen(
        command + ["-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    return server, client


def create(client):
    s = {"AttributeType": "S"}
    client.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, **s} for n in ("PK", "SK", "shard", "due", "value")
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "due",
                "KeySchema": [
                    {"AttributeName": "shard", "KeyType": "HASH"},
                    {"AttributeName": "due", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": "value",
                "KeySchema": [{"AttributeName": "value", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    )


def workload(operations, seed):
    """(operation, arguments) pairs, the same for a seed."""
    rng = random.Random(seed)
    key = lambda: {"PK": {"S": f"P{rng.randrange(12)}"}, "SK": {"S": f"S{rng.randrange(8)}"}}

    def item():
        out = {**key(), "n": {"N": str(rng.randrange(100))}}
        if rng.random() < 0.5:  # the shapes answers are written in: maps, lists, sets, blobs
            out["doc"] = {"M": {
                "days": {"L": [{"M": {"d": {"S": f"2026-01-{d:02}"}, "x": {"N": str(d)}}} for d in range(rng.randrange(4))]},
                "flag": {"BOOL": rng.random() < 0.5}, "none": {"NULL": True},
                "tags": {"SS": ["a", "b"]}, "blob": {"B": bytes([rng.randrange(256)]) * 3},
            }}
        if rng.random() < 0.4:
            out["shard"] = {"S": f"D{rng.randrange(3)}"}
            out["due"] = {"S": f"{rng.randrange(1000):04}"}
        if rng.random() < 0.3:
            out["value"] = {"S": f"V{rng.randrange(4)}"}
        return out

    def condition():
        return {
            "ConditionExpression": "attribute_not_exists(PK) OR n < :n",
            "ExpressionAttributeValues": {":n": {"N": str(rng.randrange(100))}},
        }

    def update():
        values = {":d": {"S": f"{rng.randrange(1000):04}"}, ":s": {"S": f"D{rng.randrange(3)}"}}
        if rng.random() < 0.5:
            return {"Key": key(), "UpdateExpression": "SET due = :d, shard = :s", "ExpressionAttributeValues": values}
        return {"Key": key(), "UpdateExpression": "REMOVE due, shard ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}

    ops = []
    for _ in range(operations):
        r = rng.random()
        if r < 0.006:  # either side of the 400 KB limit
            big = {**key(), "big": {"S": "x" * rng.choice([404_900, 405_100])}}
            ops.append(("put_item", {"TableName": "t", "Item": big}))
        elif r < 0.25:
            returns = rng.choice([{}, {"ReturnValues": "ALL_OLD"}])
            ops.append(("put_item", {"TableName": "t", "Item": item(), **returns, **(condition() if rng.random() < 0.5 else {})}))
        elif r < 0.4:
            returns = rng.choice([{}, {"ReturnValues": "ALL_NEW"}, {"ReturnValues": "UPDATED_OLD"}])
            ops.append(("update_item", {"TableName": "t", **update(), **returns}))
        elif r < 0.45:
            capacity = rng.choice([{}, {"ReturnConsumedCapacity": "TOTAL"}])
            ops.append(("get_item", {"TableName": "t", "Key": key(), "ConsistentRead": True, **capacity}))
        elif r < 0.5:
            ops.append(("delete_item", {"TableName": "t", "Key": key()}))
        elif r < 0.55:
            writes = {}
            for _ in range(rng.randrange(1, 6)):
                i = item()
                writes[(i["PK"]["S"], i["SK"]["S"])] = {"PutRequest": {"Item": i}}
            ops.append(("batch_write_item", {"RequestItems": {"t": list(writes.values())}}))
        elif r < 0.8:
            actions, seen = [], set()
            for _ in range(rng.randrange(1, 7)):
                kind = rng.choice(["Put", "Update", "Delete", "ConditionCheck"])
                if kind == "Put":
                    a = {"TableName": "t", "Item": item(), **(condition() if rng.random() < 0.3 else {})}
                    k = (a["Item"]["PK"]["S"], a["Item"]["SK"]["S"])
                elif kind == "Update":
                    a = {"TableName": "t", **update()}
                    k = (a["Key"]["PK"]["S"], a["Key"]["SK"]["S"])
                elif kind == "Delete":
                    a = {"TableName": "t", "Key": key()}
                    k = (a["Key"]["PK"]["S"], a["Key"]["SK"]["S"])
                else:
                    a = {"TableName": "t", "Key": key(), **condition()}
                    k = (a["Key"]["PK"]["S"], a["Key"]["SK"]["S"])
                if k not in seen:
                    seen.add(k)
                    actions.append({kind: a})
            ops.append(("transact_write_items", {"TransactItems": actions}))
        else:
            forward = rng.random() < 0.5
            limit = rng.choice([None, 1, 3])
            which = rng.randrange(3)
            if which == 0:
                h = {":h": {"S": f"P{rng.randrange(13)}"}}
                q = rng.choice([
                    {"KeyConditionExpression": "PK = :h", "ExpressionAttributeValues": h},
                    {"KeyConditionExpression": "PK = :h AND begins_with(SK, :p)",
                     "ExpressionAttributeValues": {**h, ":p": {"S": f"S{rng.randrange(8)}"}}},
                    {"KeyConditionExpression": "PK = :h AND SK BETWEEN :a AND :b",
                     "ExpressionAttributeValues": {**h, ":a": {"S": "S2"}, ":b": {"S": "S5"}}},
                    {"KeyConditionExpression": "PK = :h AND SK > :a",
                     "ExpressionAttributeValues": {**h, ":a": {"S": f"S{rng.randrange(8)}"}}},
                ])
            elif which == 1:
                q = {"IndexName": "due", "KeyConditionExpression": "shard = :h AND due <= :d",
                     "ExpressionAttributeValues": {":h": {"S": f"D{rng.randrange(3)}"}, ":d": {"S": f"{rng.randrange(1000):04}"}}}
            else:
                q = {"IndexName": "value", "KeyConditionExpression": "#v = :h",
                     "ExpressionAttributeNames": {"#v": "value"}, "ExpressionAttributeValues": {":h": {"S": f"V{rng.randrange(4)}"}}}
            q.update({"TableName": "t", "ScanIndexForward": forward})
            if rng.random() < 0.3:
                q["ReturnConsumedCapacity"] = "TOTAL"
            if limit:
                q["Limit"] = limit
            ops.append(("query_all", q))
    return ops


def answer(client, operation, arguments):
    try:
        if operation == "query_all":
            pages, start = [], None
            while True:
                page = client.query(**arguments, **({"ExclusiveStartKey": start} if start else {}))
                pages.append((page["Items"], page.get("LastEvaluatedKey")))
                start = page.get("LastEvaluatedKey")
                if not start:
                    return pages
        out = getattr(client, operation)(**arguments)
        out.pop("ResponseMetadata", None)
        return out
    except ClientError as e:
        return ("error", e.response["Error"]["Code"], e.response.get("CancellationReasons"))


def sqs_client(client):
    return boto3.client(
        "sqs",
        endpoint_url=client.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def queues(operations, seed):
    """Sends, receives, deletes and attribute reads on a FIFO queue (with a DLQ) and a
    standard one; what is received and counted is compared, not the random ids."""
    rng = random.Random(seed)
    ops = []
    for n in range(operations):
        queue = rng.choice(["q.fifo", "q"])
        r = rng.random()
        if r < 0.4:
            entries = []
            for i in range(rng.randrange(1, 11)):
                entry = {"Id": str(i), "MessageBody": f"m{n}-{i}-" + "x" * rng.randrange(50)}
                if queue == "q.fifo":
                    entry["MessageGroupId"] = f"g{rng.randrange(4)}"
                    entry["MessageDeduplicationId"] = f"d{rng.randrange(operations * 5)}"
                entries.append(entry)
            ops.append(("send", queue, entries))
        elif r < 0.75:
            ops.append(("receive", queue, rng.randrange(1, 11)))
        else:
            ops.append(("attributes", queue, None))
    return ops


def queue_answers(sqs, ops):
    urls = {}
    dlq = sqs.create_queue(QueueName="dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    urls["q.fifo"] = sqs.create_queue(QueueName="q.fifo", Attributes={
        "FifoQueue": "true", "VisibilityTimeout": "300",
        "RedrivePolicy": f'{{"deadLetterTargetArn": "{arn}", "maxReceiveCount": "3"}}'})["QueueUrl"]
    urls["q"] = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    out = []
    for kind, queue, arg in ops:
        url = urls[queue]
        if kind == "send":
            answer = sqs.send_message_batch(QueueUrl=url, Entries=arg)
            out.append(sorted(e["Id"] for e in answer.get("Successful", [])))
        elif kind == "receive":
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=arg, WaitTimeSeconds=0,
                                      MessageSystemAttributeNames=["MessageGroupId"]).get("Messages", [])
            out.append(sorted((m["Body"], m.get("Attributes", {}).get("MessageGroupId")) for m in got))
            deleted = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got) if i % 2 == 0]
            if deleted:
                sqs.delete_message_batch(QueueUrl=url, Entries=deleted)
        else:
            names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "MessageRetentionPeriod"]
            out.append(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"])
    return out


def table(client):
    items = client.scan(TableName="t")["Items"]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def refuses_another_moto_version():
    """The launcher stops, naming both versions, rather than patch code it was not written for."""
    launcher = os.path.join(HERE, "moto_server.py")
    script = f"import moto, runpy; moto.__version__ = '0.0.1'; runpy.run_path({launcher!r}, run_name='__main__')"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    if run.returncode == 0 or "0.0.1" not in run.stderr or "5.2.5" not in run.stderr:
        sys.exit(f"moto_server.py started on another moto version: {run.returncode} {run.stderr!r}")


def fifo_order_survives_a_returned_batch(client):
    """One of two places the patched server answers differently on purpose: a FIFO batch handed back
    (its visibility ended, or set to 0, message by message) comes back in order. Plain moto
    delivers the later message first (see moto_workarounds/sqs.py)."""
    sqs = sqs_client(client)
    url = sqs.create_queue(QueueName="order.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", MessageGroupId="g", MessageDeduplicationId=f"d{n}")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in first] == ["m0", "m1", "m2"], first
    for m in first:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    if [m["Body"] for m in again] != ["m0"]:
        sys.exit(f"a returned FIFO batch came back out of order: {[m['Body'] for m in again]}")


def fifo_groups_go_to_one_receiver_at_a_time(client, messages=300, receivers=4):
    """Lambda's FIFO event source relies on it: while a group's message is in flight, no
    receiver gets the group's later ones. Several receivers poll at once (as the local stack's
    transition pollers do), each holds what it got for a moment, and no group may be held by two
    at once or come out of order. Plain moto scans without a lock, from a set of busy groups
    read when the receive began: two receives at once both take the same group."""
    sqs = sqs_client(client)
    url = sqs.create_queue(QueueName=f"race{receivers}x{messages}.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "60"})["QueueUrl"]
    for start_at in range(0, messages, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": f"g{n % 5}-{n:04}", "MessageGroupId": f"g{n % 5}",
             "MessageDeduplicationId": f"d{n}"} for n in range(start_at, min(start_at + 10, messages))])
    lock = threading.Lock()
    held, seen, clashes = {}, {}, []

    def receive(me):
        sqs = sqs_client(client)
        rng = random.Random(me)
        while True:
            with lock:
                if sum(len(v) for v in seen.values()) >= messages or clashes:
                    return
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=rng.randrange(1, 4), WaitTimeSeconds=1,
                                      MessageSystemAttributeNames=["MessageGroupId"]).get("Messages", [])
            groups = {m["Attributes"]["MessageGroupId"] for m in got}
            with lock:
                clashes.extend(f"{g} held by {held[g]} and {me}" for g in groups if g in held)
                for g in groups:
                    held[g] = me
                for m in got:
                    seen.setdefault(m["Attributes"]["MessageGroupId"], []).append(m["Body"])
            time.sleep(rng.random() * 0.01)
            with lock:
                for g in groups:
                    held.pop(g, None)
            if got:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])

    threads = [threading.Thread(target=receive, args=(n,)) for n in range(receivers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out_of_order = [g for g, bodies in seen.items() if bodies != sorted(bodies)]
    if clashes or out_of_order:
        sys.exit(f"FIFO groups received by two receivers at once: {clashes[:3]}; out of order: {out_of_order}")


def main():
    refuses_another_moto_version()
    operations = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    servers = [start(patched=False), start(patched=True)]
    try:
        for _, client in servers:
            create(client)
        ops = workload(operations, seed)
        cancelled = 0
        for n, (operation, arguments) in enumerate(ops):
            plain, patched = (answer(c, operation, arguments) for _, c in servers)
            if plain != patched:
                sys.exit(f"operation {n} ({operation}) differs:\n  moto:    {plain}\n  patched: {patched}")
            if isinstance(plain, tuple) and plain[1] == "TransactionCanceledException":
                cancelled += 1
        if table(servers[0][1]) != table(servers[1][1]):
            sys.exit("the tables differ at the end")
        queries = sum(1 for o, _ in ops if o == "query_all")
        sqs_ops = queues(operations // 5, seed)
        plain, patched = (queue_answers(sqs_client(c), sqs_ops) for _, c in servers)
        for n, (a, b) in enumerate(zip(plain, patched)):
            if a != b:
                sys.exit(f"queue operation {n} ({sqs_ops[n][0]}) differs:\n  moto:    {a}\n  patched: {b}")
        fifo_order_survives_a_returned_batch(servers[1][1])
        for receivers in (4, 6):
            fifo_groups_go_to_one_receiver_at_a_time(servers[1][1], receivers=receivers)
        print(f"moto_server: {len(ops)} DynamoDB operations ({queries} queries, {cancelled} cancelled transactions) and {len(sqs_ops)} SQS operations answered as moto answers them")
    finally:
        for server, _ in servers:
            server.terminate()


if __name__ == "__main__":
    main()

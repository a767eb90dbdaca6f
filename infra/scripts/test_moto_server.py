"""The emulator's workarounds change speed, not answers: one random workload of puts, updates,
deletes, batch writes and transactions (some cancelled) runs against moto as installed and
against infra/scripts/moto_server.py, and every answer and every query of the base table and of
both indexes (sparse, paged, both directions) must be the same.

    .venv/bin/python3 infra/scripts/test_moto_server.py [operations] [seed]
"""

import os
import random
import socket
import subprocess
import sys
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
        if r < 0.25:
            ops.append(("put_item", {"TableName": "t", "Item": item(), **(condition() if rng.random() < 0.5 else {})}))
        elif r < 0.4:
            ops.append(("update_item", {"TableName": "t", **update()}))
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
                q = {"KeyConditionExpression": "PK = :h", "ExpressionAttributeValues": {":h": {"S": f"P{rng.randrange(13)}"}}}
            elif which == 1:
                q = {"IndexName": "due", "KeyConditionExpression": "shard = :h AND due <= :d",
                     "ExpressionAttributeValues": {":h": {"S": f"D{rng.randrange(3)}"}, ":d": {"S": f"{rng.randrange(1000):04}"}}}
            else:
                q = {"IndexName": "value", "KeyConditionExpression": "#v = :h",
                     "ExpressionAttributeNames": {"#v": "value"}, "ExpressionAttributeValues": {":h": {"S": f"V{rng.randrange(4)}"}}}
            q.update({"TableName": "t", "ScanIndexForward": forward})
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
        print(f"moto_server: {len(ops)} operations ({queries} queries, {cancelled} cancelled transactions) answered as moto answers them")
    finally:
        for server, _ in servers:
            server.terminate()


if __name__ == "__main__":
    main()

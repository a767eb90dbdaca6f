"""moto_server for Journey: DynamoDB served one request at a time, and in time proportional to
what a request touches rather than to the table.

Every workaround here is written against moto 5.2.5 (pinned in infra/requirements.txt) and
refuses to start on any other version: they replace moto internals by name, and on another
version they could silently patch the wrong code.

1. One lock around DynamoDB requests. moto's models are not thread-safe, and a cancelled
   transaction restores what it wrote; with the server's threads, a write landing in between
   would be lost with it. Other services keep their threads: SQS long polls must not block.
2. Transactions roll back the items they touched. moto's `transact_write_items` deep-copies
   every table a transaction names, once per item of the transaction, to restore it on
   cancellation: O(table) per write. Here each write of a transaction first saves the item it
   is about to change (its key, and a copy of the item or "absent"); a cancelled transaction
   puts exactly those back. Conditions, cancellation reasons and error codes are moto's own:
   its function still runs, only the copies and the rollback are replaced.
3. Queries read only the partition or index bucket they name. moto's `Table.query` starts from
   `all_items()`, every item of the table sorted, for every query: O(N log N). For a base-table
   query the candidates are the items of the one partition; for an index query, the items the
   index holds under the queried hash key, from a membership map kept up to date by every write
   (put, update, delete, batch, transaction, rollback). moto's filtering, sorting, paging and
   projection then run on those candidates as before, so results and `LastEvaluatedKey` are the
   same.
4. No instance tracking for DynamoDB items and SQS messages. moto appends every model object it
   ever creates to a class list for its dashboard (`BaseModel.instances_tracked`), including
   every copy of every item a query returns or an update saves: memory grew without bound (past
   12 GB in a long replay). SES messages stay tracked: the local outbox reads them.
"""

import copy
import inspect
import sys
import threading
from collections import defaultdict

import moto

MOTO_VERSION = "5.2.5"
if moto.__version__ != MOTO_VERSION:
    sys.exit(
        f"infra/scripts/moto_server.py patches moto {MOTO_VERSION} internals, but moto "
        f"{moto.__version__} is installed: re-check each workaround against that version "
        "before changing the pin in infra/requirements.txt"
    )

from moto.dynamodb.models import DynamoDBBackend  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType, Item  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.dynamodb.responses import DynamoHandler  # noqa: E402
from moto.server import main  # noqa: E402
from moto.sqs.models import Message as SqsMessage  # noqa: E402

# 1. one DynamoDB request at a time

_dynamodb = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialised(self):
    with _dynamodb:
        return _call_action(self)


DynamoHandler.call_action = _serialised


# 3. which items each secondary index holds


class _IndexMembers:
    """For each secondary index of one table: the primary keys it holds, by the value of the
    index's (first) hash key attribute. An item is held when it has every key attribute of the
    index, as DynamoDB decides it."""

    def __init__(self, table):
        self.names = _index_names(table)
        self.schemas = {
            index.name: [k["AttributeName"] for k in index.schema]
            for index in table.all_indexes()
        }
        self.buckets = {name: defaultdict(dict) for name in self.names}
        self.placed = {name: {} for name in self.names}  # primary key -> bucket value
        for item in _every_item(table):
            self.place(item.hash_key, item.range_key, item)

    def place(self, hash_value, range_value, item):
        key = (hash_value, range_value)
        for name, attrs in self.schemas.items():
            old = self.placed[name].pop(key, None)
            if old is not None:
                self.buckets[name][old].pop(key, None)
            if item is not None and all(item.attrs.get(a) is not None for a in attrs):
                value = item.attrs[attrs[0]]
                self.placed[name][key] = value
                self.buckets[name][value][key] = item

    def held(self, index_name, value):
        return list(self.buckets[index_name].get(value, {}).values())


def _index_names(table):
    return tuple(index.name for index in table.all_indexes())


def _every_item(table):
    for partition in table.items.values():
        if table.range_key_attr:
            yield from partition.values()
        else:
            yield partition


def _members(table):
    """The table's membership map, built on first use (once, O(table)) and again when its
    indexes change."""
    members = table.__dict__.get("_journey_members")
    if members is None or members.names != _index_names(table):
        members = _IndexMembers(table)
        table._journey_members = members
    return members


def _refresh(table, hash_value, range_value):
    """After a write: the item at this key, wherever it now belongs."""
    members = table.__dict__.get("_journey_members")
    if members is not None:
        members.place(hash_value, range_value, table.get_item(hash_value, range_value))


def _set_item(table, hash_value, range_value, item):
    """Puts `item` back at its key, or removes the key when it was absent."""
    if item is None:
        table.delete_item(hash_value, range_value)
    elif range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item
    _refresh(table, hash_value, range_value)


# 2. transactions: a journal of the items touched instead of copies of the tables

_journal = None  # while a transaction runs (under the lock): key -> (table, item before)


def _keys(table, attrs):
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _journaled(write, argument):
    """Wraps a backend write: saves the item's state first while a transaction runs, and keeps
    the index membership current after it."""
    signature = inspect.signature(write)

    def wrapper(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        try:
            table = self.get_table(bound.arguments["table_name"])
            hash_value, range_value = _keys(table, bound.arguments[argument])
        except Exception:
            return write(self, *args, **kwargs)  # moto reports the bad request itself
        if _journal is not None:
            key = (table.name, hash_value, range_value)
            if key not in _journal:
                before = table.get_item(hash_value, range_value)
                _journal[key] = (table, copy.deepcopy(before))
        try:
            return write(self, *args, **kwargs)
        finally:
            _refresh(table, hash_value, range_value)

    return wrapper


DynamoDBBackend.put_item = _journaled(DynamoDBBackend.put_item, "item_attrs")
DynamoDBBackend.update_item = _journaled(DynamoDBBackend.update_item, "key")
DynamoDBBackend.delete_item = _journaled(DynamoDBBackend.delete_item, "key")

_transact_write_items = DynamoDBBackend.transact_write_items


def _transact(self, transact_items):
    global _journal
    _journal = {}
    streams = {t.name: len(t.stream_shard.items) for t in self.tables.values() if t.stream_shard}
    Table.__deepcopy__ = lambda table, memo: table  # moto's rollback copy: the journal instead
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for (_, hash_value, range_value), (table, before) in _journal.items():
            _set_item(table, hash_value, range_value, before)
        for table in self.tables.values():
            if table.stream_shard is not None:
                del table.stream_shard.items[streams.get(table.name, 0) :]
        raise
    finally:
        del Table.__deepcopy__
        _journal = None


DynamoDBBackend.transact_write_items = _transact

_query = Table.query


def _candidates(table, hash_key, index_name, hash_key_conditions):
    """The items a query can return, or None when this query is not one we narrow."""
    if index_name is None:
        partition = table.items.get(hash_key) if hash_key is not None else None
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]
    members = _members(table)
    if index_name not in members.schemas:
        return None  # moto raises its own validation error
    first = members.schemas[index_name][0]
    value = dict(hash_key_conditions or []).get(first)
    return None if value is None else members.held(index_name, value)


_query_signature = inspect.signature(_query)


def _narrow_query(self, *args, **kwargs):
    query = _query_signature.bind(self, *args, **kwargs).arguments
    candidates = _candidates(
        self, query["hash_key"], query.get("index_name"), query.get("hash_key_conditions")
    )
    if candidates is None:
        return _query(self, *args, **kwargs)
    candidates.sort(key=lambda i: (i.hash_key, i.range_key) if i.range_key else i.hash_key)
    self.all_items = lambda: candidates  # what moto's query starts from
    try:
        return _query(self, *args, **kwargs)
    finally:
        del self.all_items


Table.query = _narrow_query


def _forgetting_members(statement):
    """PartiQL writes items without the backend's write methods: rebuild the maps after it."""

    def wrapper(self, *args, **kwargs):
        try:
            return statement(self, *args, **kwargs)
        finally:
            for table in self.tables.values():
                table.__dict__.pop("_journey_members", None)

    return wrapper


for _name in ("execute_statement", "execute_transaction", "batch_execute_statement"):
    setattr(DynamoDBBackend, _name, _forgetting_members(getattr(DynamoDBBackend, _name)))


# 4. no instance tracking for the objects made per request


class _Untracked(list):
    def append(self, _instance):
        pass


Item.instances_tracked = _Untracked()
SqsMessage.instances_tracked = _Untracked()

if __name__ == "__main__":
    sys.exit(main())

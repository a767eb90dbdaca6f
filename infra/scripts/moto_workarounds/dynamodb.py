"""DynamoDB: one request at a time; transactions that roll back only the items they touched;
queries that start from the partition or index bucket they name; items built and answers
written in time linear in their size."""

import base64
import copy
import inspect
import json
import threading
from collections import defaultdict

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict, bytesize
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult

_call_action = DynamoHandler.call_action
_transact_write_items = DynamoDBBackend.transact_write_items
_query = Table.query
_query_signature = inspect.signature(_query)
_dynamo_result = DynamoResult.execute_result

# One lock around DynamoDB requests: moto's models are not thread-safe, and a transaction
# cancelled after some writes puts the items back; a write landing in between would be lost.
# Other services keep their threads (SQS long polls must not block).
_lock = threading.Lock()
_journal = None  # while a transaction runs (under the lock): key -> (table, item before)


def _serialised(self):
    with _lock:
        return _call_action(self)


# Transactions. moto's `transact_write_items` deep-copies every table a transaction names, once
# per item of the transaction, to restore it on cancellation: O(table) per write. Here each
# write of a transaction first saves the item it is about to change (or "absent"), and a
# cancelled transaction puts exactly those back. Conditions, cancellation reasons and error
# codes stay moto's own: its function still runs; only the copies and the rollback change.


def _keys(table, attrs):
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _journaled(write, argument):
    """A backend write that saves the item's state first while a transaction runs, and keeps
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
                _journal[key] = (table, copy.deepcopy(table.get_item(hash_value, range_value)))
        try:
            return write(self, *args, **kwargs)
        finally:
            _refresh(table, hash_value, range_value)

    return wrapper


def _transact(self, transact_items):
    global _journal
    _journal = {}
    streams = {t.name: len(t.stream_shard.items) for t in self.tables.values() if t.stream_shard}
    Table.__deepcopy__ = lambda table, memo: table  # moto's rollback copy: the journal instead
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        for (_, hash_value, range_value), (table, before) in _journal.items():
            _put_back(table, hash_value, range_value, before)
        for table in self.tables.values():
            if table.stream_shard is not None:
                del table.stream_shard.items[streams.get(table.name, 0) :]
        raise
    finally:
        del Table.__deepcopy__
        _journal = None


def _put_back(table, hash_value, range_value, item):
    """`item` back at its key, or the key removed when it was absent."""
    if item is None:
        table.delete_item(hash_value, range_value)
    elif range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item
    _refresh(table, hash_value, range_value)


# Queries. moto's `Table.query` starts from `all_items()`, every item of the table sorted, for
# every query: O(N log N). A base-table query starts from its one partition; an index query from
# the items the index holds under the queried hash key, kept in a membership map that every
# write updates (put, update, delete, batch, transaction, rollback). moto's filtering, sorting,
# paging and projection then run on those candidates as before: the same results, the same
# `LastEvaluatedKey`.


class _IndexMembers:
    """For each secondary index of one table: the primary keys it holds, by the value of the
    index's first hash key attribute. An item is held when it has every key attribute of the
    index, as DynamoDB decides it."""

    def __init__(self, table):
        self.names = _index_names(table)
        self.schemas = {
            index.name: [k["AttributeName"] for k in index.schema]
            for index in table.all_indexes()
        }
        self.buckets = {name: defaultdict(dict) for name in self.names}
        self.placed = {name: {} for name in self.names}  # primary key -> bucket value
        for partition in table.items.values():
            for item in partition.values() if table.range_key_attr else [partition]:
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


def _members(table):
    """The table's map, built on first use (once, O(table)) and again when its indexes change."""
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


def _candidates(table, query):
    """The items a query can return, or None when this query is not one we narrow."""
    index_name = query.get("index_name")
    if index_name is None:
        return _in_partition(table, query)
    members = _members(table)
    if index_name not in members.schemas:
        return None  # moto raises its own validation error
    value = dict(query.get("hash_key_conditions") or []).get(members.schemas[index_name][0])
    return None if value is None else members.held(index_name, value)


def _in_partition(table, query):
    """The partition's items whose sort key meets the key condition, and their two neighbours:
    moto would otherwise size every item of the partition (a customer's whole event log) before
    comparing its key. A key condition holds on one run of sort keys; the neighbours keep
    moto's paging as it is (it sets `LastEvaluatedKey` when any item follows a full page)."""
    hash_key = query["hash_key"]
    partition = table.items.get(hash_key) if hash_key is not None else None
    if partition is None:
        return []
    if not table.range_key_attr:
        return [partition]
    comparison, values = query.get("range_comparison"), query.get("range_objs")
    items = sorted(partition.values(), key=lambda item: item.range_key.cast_value)
    if not comparison:
        return items
    run = [n for n, item in enumerate(items) if item.range_key.compare(comparison, values)]
    if not run:
        return []
    return items[max(run[0] - 1, 0) : run[-1] + 2]


def _narrow_query(self, *args, **kwargs):
    query = _query_signature.bind(self, *args, **kwargs).arguments
    candidates = _candidates(self, query)
    if candidates is None:
        return _query(self, *args, **kwargs)
    candidates.sort(key=lambda i: (i.hash_key, i.range_key) if i.range_key else i.hash_key)
    self.all_items = lambda: candidates  # what moto's query starts from
    try:
        return _query(self, *args, **kwargs)
    finally:
        del self.all_items


def _forgetting_members(statement):
    """PartiQL writes items without the backend's write methods: the maps are rebuilt after."""

    def wrapper(self, *args, **kwargs):
        try:
            return statement(self, *args, **kwargs)
        finally:
            for table in self.tables.values():
                table.__dict__.pop("_journey_members", None)

    return wrapper


# Answers. moto serializes every answer by walking the service model's output shape; for an
# item that means trying every member of `AttributeValue` under every alias for every
# attribute: 95 % of a `GetItem` of a 4 KB customer item (15 ms). For these operations the
# result moto built is already the wire form (compared with the serializer's by the test), so
# `json.dumps` writes it, blobs in base64 as the serializer writes them.

_AS_JSON = {"GetItem", "Query", "Scan", "PutItem", "UpdateItem", "BatchGetItem"}


def _blob(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _as_json(self, context):
    if context.operation_model.name not in _AS_JSON:
        return _dynamo_result(self, context)
    body = json.dumps(self.result, default=_blob)
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body


# Items. moto builds an item attribute by attribute, and each insertion re-sizes every attribute
# already there to enforce the 400 KB limit: O(attributes²) per written item. The item is built
# whole and sized once, against the same limit.

_ITEM_LIMIT = 405000  # moto's own figure: DynamoDB refuses between 409 and 410 KB


def _item_init(self, hash_key, range_key, attrs):
    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = LimitedSizeDict()
    values = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in values.items()) > _ITEM_LIMIT:
        raise ItemSizeTooLarge
    dict.update(self.attrs, values)


def install():
    DynamoHandler.call_action = _serialised
    DynamoDBBackend.put_item = _journaled(DynamoDBBackend.put_item, "item_attrs")
    DynamoDBBackend.update_item = _journaled(DynamoDBBackend.update_item, "key")
    DynamoDBBackend.delete_item = _journaled(DynamoDBBackend.delete_item, "key")
    DynamoDBBackend.transact_write_items = _transact
    Table.query = _narrow_query
    for name in ("execute_statement", "execute_transaction", "batch_execute_statement"):
        setattr(DynamoDBBackend, name, _forgetting_members(getattr(DynamoDBBackend, name)))
    DynamoResult.execute_result = _as_json
    Item.__init__ = _item_init

"""moto's request plumbing, for every service."""

import functools

from moto.dynamodb.models.dynamo_type import Item
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sqs.models import Message


class _Untracked(list):
    def append(self, _instance):
        pass


def install():
    # moto appends every model object it ever creates to a class list for its dashboard
    # (`BaseModel.instances_tracked`), including every copy of every item a query returns or an
    # update saves: memory grew without bound (past 12 GB in a long replay). Items and queue
    # messages are made per request; SES messages stay tracked (the local outbox reads them).
    Item.instances_tracked = _Untracked()
    Message.instances_tracked = _Untracked()

    # The dispatcher matches each request's host against every service's URL patterns,
    # hundreds of regular expressions, under one lock: a quarter of the emulator's time. The
    # answer depends on the host alone.
    DomainDispatcherApplication.get_backend_for_host = functools.lru_cache(maxsize=1024)(
        DomainDispatcherApplication.get_backend_for_host
    )

"""moto_server, with DynamoDB requests served one at a time.

moto rolls a failed TransactWriteItems back by restoring a copy of the whole table taken
before it began. With the server's threads, a write that commits in between is lost with the
rollback: two transition workers racing on one customer (or on two customers in one table)
then lose an applied event, which real DynamoDB never does. Holding one lock around every
DynamoDB request makes the rollback atomic again. Other services keep their threads: SQS long
polls must not block the rest.
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_dynamodb = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialised(self):
    with _dynamodb:
        return _call_action(self)


DynamoHandler.call_action = _serialised

if __name__ == "__main__":
    sys.exit(main())

"""SQS: one clock reading per message, one attributes computation per request, FIFO long polls
that wait, FIFO groups blocked only by messages in flight (order kept when a batch returns), one receive's
scan at a time (a group goes to one receiver at a time)."""

import threading
import time

import moto.core.utils
import moto.sqs.models
from moto.sqs.models import Queue, SQSBackend

_moto_unix_time = moto.core.utils.unix_time
_queue_attributes = Queue.attributes.fget
_request = threading.local()  # the queue attributes computed in this request


def _unix_time(dt=None):
    """moto's clock builds two datetimes per call, and is called for every message of a queue
    on every scan; `time.time()` is the same instant."""
    return time.time() if dt is None else _moto_unix_time(dt)


def _attributes_once(self):
    """`Queue.attributes` counts the queue's messages three ways each time it is read, and a
    send reads it three times per message, a receive three times per message received (for the
    retention period): O(queue) per message. Within one request it is computed once."""
    computed = getattr(_request, "attributes", None)
    if computed is None:
        return _queue_attributes(self)
    if id(self) not in computed:
        computed[id(self)] = _queue_attributes(self)
    return computed[id(self)]


def _one_computation(action):
    def wrapper(*args, **kwargs):
        if getattr(_request, "attributes", None) is not None:
            return action(*args, **kwargs)  # a send inside a batch: the batch's computation
        _request.attributes = {}
        try:
            return action(*args, **kwargs)
        finally:
            _request.attributes = None

    return wrapper


def _wait_for_messages(self, timeout):
    """moto's receive waits for "a visible message", but a FIFO message whose group is in flight
    is visible and not deliverable: the poll then spun for its whole wait, taking the CPU from
    the requests doing work. It waits a little for the queue to change, and rescans."""
    with self._messages_lock:
        if self.messages:
            self._messages_lock.wait(timeout=0.02)
        else:
            self._messages_lock.wait_for(lambda: self.messages, timeout=timeout)


def _groups_in_flight(self):
    """moto blocks a FIFO group while any of its received, undeleted messages is "pending",
    even one whose visibility timeout has run out. When a batch's messages come back, the
    receive looks at the group's first message while a later one is still in that set, skips
    the first, then clears the later one and delivers it: out of order. SQS blocks a group only
    while a message of it is in flight (invisible); so does this."""
    return {
        message.group_id
        for message in self._pending_messages
        if message.group_id is not None and not message.visible
    }


def _one_scan_at_a_time(receive):
    """moto reads the FIFO groups in flight once, when a receive begins, then scans the queue
    without a lock, waiting and rescanning with what it read: two receives at once (or one that
    waited while another took a group's message) both take messages of one group, and the
    group's later message is applied beside, or before, its earlier one. SQS hands a group to
    one receiver at a time. Here each scan runs alone, with the groups in flight as they are
    then, and the long poll waits between scans."""

    def wrapper(self, queue_name, count, wait_seconds_timeout, visibility_timeout, *args, **kwargs):
        queue = self.get_queue(queue_name)
        scans = queue.__dict__.setdefault("_journey_scans", threading.Lock())
        deadline = time.time() + (wait_seconds_timeout or 0)
        while True:
            with scans:
                got = receive(self, queue_name, count, 0, visibility_timeout, *args, **kwargs)
            left = deadline - time.time()
            if got or left <= 0:
                return got
            queue.wait_for_messages(min(left, 1.0))

    return wrapper


def install():
    moto.core.utils.unix_time = _unix_time  # unix_time_millis reads it there
    moto.sqs.models.unix_time = _unix_time
    Queue.attributes = property(_attributes_once)
    SQSBackend.receive_message = _one_scan_at_a_time(SQSBackend.receive_message)
    for name in ("send_message", "send_message_batch", "receive_message", "get_queue_attributes"):
        setattr(SQSBackend, name, _one_computation(getattr(SQSBackend, name)))
    Queue.wait_for_messages = _wait_for_messages
    Queue.pending_message_groups = property(_groups_in_flight)

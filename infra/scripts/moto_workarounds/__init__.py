"""Journey's workarounds for moto, the local AWS emulator: the same answers as moto gives,
in time proportional to what a request touches rather than to the table or the queue.

Each is written against moto 5.2.5 (pinned in infra/requirements.txt) and `install` refuses
any other version: they replace moto internals by name, and on another version they could
silently patch the wrong code. infra/scripts/test_moto_server.py runs one random workload
against moto as installed and against the patched server and compares every answer.

- dynamodb: one request at a time; transactions that roll back only the items they touched;
  queries that start from their partition or index bucket; item answers written as JSON.
- sqs: one clock reading and one attributes computation per request; FIFO long polls that wait;
  and two places where moto breaks SQS's FIFO rules, mended: a group is blocked only while a
  message of it is in flight, and is handed to one receiver at a time.
- core: no instance tracking of per-request objects; one service lookup per host.
- stats: with JOURNEY_EMULATOR_STATS set, each action's requests and CPU time, to a file.
"""

import sys

import moto

MOTO_VERSION = "5.2.5"


def install():
    if moto.__version__ != MOTO_VERSION:
        sys.exit(
            f"infra/scripts/moto_workarounds patch moto {MOTO_VERSION} internals, but moto "
            f"{moto.__version__} is installed: re-check each workaround against that version "
            "before changing the pin in infra/requirements.txt"
        )
    from . import core, dynamodb, sqs, stats

    core.install()
    dynamodb.install()
    sqs.install()
    stats.install()

"""What the emulator spends its time on: with `JOURNEY_EMULATOR_STATS=<file>` set, the count and
CPU seconds of every service action are written to that file (JSON) every few seconds, so a
long run (`journey-local replay`) can show whether an action's cost grows with the data."""

import json
import os
import threading
import time
from collections import Counter

from moto.core.responses import BaseResponse

_call_action = BaseResponse.call_action
_counts = Counter()
_cpu = Counter()


def _measured(self):
    started = time.thread_time()
    try:
        return _call_action(self)
    finally:
        action = f"{self.service_name}.{self._get_action()}"
        _counts[action] += 1
        _cpu[action] += time.thread_time() - started


def _writer(path):
    while True:
        time.sleep(2)
        snapshot = {a: {"requests": _counts[a], "cpu_seconds": round(_cpu[a], 4)} for a in list(_counts)}
        with open(path + ".tmp", "w") as out:
            json.dump(snapshot, out)
        os.replace(path + ".tmp", path)


def install():
    path = os.environ.get("JOURNEY_EMULATOR_STATS")
    if path:
        BaseResponse.call_action = _measured
        threading.Thread(target=_writer, args=(path,), daemon=True).start()

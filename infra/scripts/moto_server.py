"""The local AWS emulator: `moto_server` with Journey's workarounds
(infra/scripts/moto_workarounds, which say what each one avoids).

    .venv/bin/python3 infra/scripts/moto_server.py -H 127.0.0.1 -p 5005

The server does not log every request line: a long replay would write millions of them; the
emulator's log keeps warnings and errors.
"""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_workarounds  # noqa: E402

moto_workarounds.install()

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sys.exit(main())

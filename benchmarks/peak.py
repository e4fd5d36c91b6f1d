"""Run one command and print its wall time, CPU time, peak memory and exit code as JSON.

The benchmark process holds a year of candles; Linux starts a forked child's peak-memory count
(ru_maxrss) at its parent's size, so commands are launched from this small process instead.
Standard library only, to stay small.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time


def main(argv: list[str]) -> int:
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=errors, check=False)
        seconds = time.perf_counter() - start
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_kb": usage.ru_maxrss,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "returncode": done.returncode,
                "stderr": stderr[-2000:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Seconds from starting a server command to the first 200 on / (scripts/run.sh's fast start).

    .venv/bin/python bench/first_page.py [--runs 5] [--port 8765] -- scripts/run.sh

Starts the command with PORT set (in its own process group), polls http://127.0.0.1:PORT/
every 20 ms until it answers 200, then stops the group. Prints JSON: each run's seconds, the
median. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


def once(command: list[str], port: int, timeout: float) -> float:
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                raise SystemExit(f"the command ended (status {proc.returncode}) before answering")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.02)
        raise SystemExit(f"no 200 on / within {timeout} s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("command", nargs="+")
    args = ap.parse_args(argv)
    seconds = [round(once(args.command, args.port, args.timeout), 2) for _ in range(args.runs)]
    json.dump({"command": " ".join(args.command), "seconds": seconds,
               "median": statistics.median(seconds)}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run pyHanko's blocking calls where they can run.

pyHanko's synchronous API (signing, validation) wraps its async code in ``asyncio.run``, which
refuses to start in a thread whose event loop is already running. App servers' request threads
have none; a caller that does (an async host, or a test driving a browser with Playwright's sync
API in the same thread) gets the call run on a short-lived thread of its own instead of a
failed seal."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def call(fn: Callable[[], T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop running here: the usual case, call it in place
        return fn()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(fn).result()

"""Who commits: one rule for the whole application (docs/architecture.md, «Transactions»).

Services *flush*: they add, change and audit rows in the request's session and never end the
transaction. What called them ends it, once, after the work has returned:

- a web request: :func:`finish_request`, from an ``after_request`` hook, commits whatever the
  view left when the response is not a server error; an exception (or a 5xx) rolls back when
  Flask-SQLAlchemy removes the session, so a step that failed half-way leaves nothing behind;
- a CLI command: :func:`commit` after the service returns.

The named exceptions commit early, on purpose, and say why where they do it:

- the claims and counters of :mod:`kiosk.services.claims` — the early commit *is* the guard
  that lets one request of many through (and keeps SQLite's write lock out of slow provider
  calls);
- slow work done before any write (vision, a provider call) needs no commit of its own: it
  runs before the step writes anything, and the request commits its result;
- :func:`end_read`: a transaction that has only read ends before the sign-in throttle counts a
  try on a connection of its own, so that a request never holds two connections.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from kiosk.core.extensions import db

_WROTE = "unit_of_work.wrote"  # session.info: the transaction has flushed something


# Every flush of every session is noted, from the moment this module is imported (so before
# end_read can ever be called): end_read must know whether the transaction holds writes, and a
# flushed row is no longer in ``session.new``. The note goes with the outermost transaction.
@event.listens_for(Session, "after_flush")
def _note_write(session, _context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def end_read() -> None:
    """End the request's transaction if it has only read: nothing flushed, nothing pending. Its
    connection goes back to the pool, and the rows it loaded stay usable (the session does not
    expire them on commit). A transaction that has written is left alone: its writes are
    committed with the request, once.

    Called where the request is about to take a second connection of its own (the sign-in
    throttle's count, committed at once): 30 parallel requests each holding one connection and
    waiting for a second exhausted PostgreSQL's pool for 30 s."""
    if not db.session.registry.has():
        return
    session = db.session()
    if (not session.in_transaction() or session.info.get(_WROTE)
            or session.new or session.dirty or session.deleted):
        return
    session.commit()


def commit() -> None:
    """End the caller's unit of work (CLI commands; the request's hook below)."""
    db.session.commit()


def rollback() -> None:
    db.session.rollback()


def finish_request(status_code: int) -> None:
    """The request's one commit. A request that never touched the database opens no session."""
    if not db.session.registry.has():
        return
    if status_code >= 500:
        db.session.rollback()
        return
    db.session.commit()


def discard() -> None:
    """The error path: roll back; if even that fails, throw the session away rather than touch it
    again (an error page once failed on a session left in a failed transaction)."""
    from flask import current_app

    try:
        db.session.rollback()
    except Exception:
        current_app.logger.exception("rollback failed on the error path; session discarded")
        try:
            db.session.remove()
        except Exception:
            current_app.logger.exception("discarding the session failed as well")

"""Re-encrypting the data under the key ring's primary key, in batches, while the app serves.

`flask --app kiosk rotate-key` (kiosk/cli/maintenance.py) makes a new primary key in
instance/secrets.py and keeps the old one in the ring as *retiring*; then it calls these
functions batch by batch, committing after each (a batch holds SQLite's write lock for
milliseconds, so the kiosks go on working). Running app servers notice the new file at their
next write and write under the new key; a row one of them wrote under the old key in between
is found by the next pass, which is why the old key is only dropped by ``rotate-key --retire``
once a pass finds no row left under it (docs/operations.md).

Raw SQL on purpose: the ORM's column types would re-encrypt with whatever the ring holds, and a
row is only replaced if nobody changed it since it was read (compare and set).
"""
from __future__ import annotations

from sqlalchemy import text

from kiosk.core import audit
from kiosk.core.crypto import KeyRing
from kiosk.core.extensions import db
from kiosk.services.retention import ENCRYPTED_COLUMNS

BATCH = 200


def stale_ids(ring: KeyRing, table: str, column: str) -> list[int]:
    """Ids of the rows whose value is not under the ring's primary key (only each value's first
    bytes are read: they name the key)."""
    prefix = b"\x02" + ring.primary.key_id
    rows = db.session.execute(text(
        f"SELECT id, substr({column}, 1, {len(prefix)}) FROM {table} "  # fixed names, no input
        f"WHERE {column} IS NOT NULL ORDER BY id")).all()
    return [row_id for row_id, head in rows if bytes(head) != prefix]


def reencrypt(ring: KeyRing, table: str, column: str, ids: list[int]) -> int:
    """Re-encrypt these rows' values under the primary key; how many were replaced."""
    done = 0
    for row_id in ids:
        blob = db.session.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"),
                                  {"id": row_id}).scalar()
        if blob is None or ring.under_primary(bytes(blob)):
            continue
        fresh = ring.encrypt(ring.decrypt(bytes(blob)))
        result = db.session.execute(
            text(f"UPDATE {table} SET {column} = :new WHERE id = :id AND {column} = :old"),
            {"new": fresh, "id": row_id, "old": bytes(blob)})
        done += result.rowcount or 0
    return done


def stale_count(ring: KeyRing) -> dict[str, int]:
    """Per column, how many values are not under the primary key."""
    return {f"{t}.{c}": len(stale_ids(ring, t, c)) for t, c in ENCRYPTED_COLUMNS}


def registration_ids() -> list[int]:
    return list(db.session.execute(text(
        "SELECT id FROM registration WHERE personal IS NOT NULL ORDER BY id")).scalars())


def refresh_digests(ring: KeyRing, ids: list[int]) -> int:
    """Recompute the keyed look-up digests (ID number) of these registrations under the primary
    key; how many changed. A server still on the old key may have written one meanwhile."""
    changed = 0
    for reg_id in ids:
        row = db.session.execute(text(
            "SELECT personal, number, id_digest FROM registration WHERE id = :id"),
            {"id": reg_id}).one_or_none()
        if row is None or row.personal is None:
            continue
        id_number = (ring.decrypt_json(bytes(row.personal)) or {}).get("id_number")
        digest = ring.lookup_digest(id_number) if id_number else None
        if digest == row.id_digest:
            continue
        db.session.execute(text("UPDATE registration SET id_digest = :d WHERE id = :id"),
                           {"d": digest, "id": reg_id})
        if digest:
            db.session.execute(text(
                "UPDATE sandbox_subscriber SET username_digest = :d WHERE ref = :ref"),
                {"d": digest, "ref": f"SBX-{row.number}"})
        changed += 1
    return changed


def record(event: str, **details) -> None:
    audit.record(event, None, actor="system", **details)

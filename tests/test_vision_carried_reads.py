"""A photo's card reads carried to the process that needs them (kiosk/vision/carried_reads.py):
a worker that never read the card takes the stored reads instead of reading it again, gets the
same answer, and takes nothing else from a packing."""
from __future__ import annotations

import logging
import pickle
import zlib

import pytest
from sqlalchemy import select

from kiosk.core.config import DEFAULTS
from kiosk.core.extensions import db
from kiosk.core.models import Evidence
from kiosk.services import vision_pool
from kiosk.vision import carried_reads, jobs, photo_cache
from kiosk.vision import read_card as read_card_module
from kiosk.vision.engine import EkycEngine
from kiosk.vision.pool import InlinePool
from kiosk.vision.qr_decode import WeChatUnavailable
from tests.faces_data import require_sface_models
from tests.test_vision_photo_cache import step6_photos


@pytest.fixture(scope="module")
def photos():
    return step6_photos()


@pytest.fixture
def engine():
    require_sface_models()
    return EkycEngine.from_config(DEFAULTS)


@pytest.fixture
def reads_made(monkeypatch):
    """How many photos were read afresh (not taken from what the process keeps)."""
    made = []
    real = read_card_module.read_side

    def spy(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(read_card_module, "read_side", spy)
    return made


def _step6(engine, photos):
    """Step 6's two card jobs as the kiosk runs them: (the front's, the back's) answers."""
    front = jobs.card_photo(engine, photos["front"], [], True, held_card=True)
    back = jobs.card_photo(engine, photos["back"], [photos["front"]], False, held_card=True,
                           carried=[front["reads"]])
    return front, back


def _another_process():
    """What a vision worker that never saw these photos keeps: nothing."""
    photo_cache.clear_all()


def test_a_comparison_where_the_card_was_never_read_takes_its_carried_reads(
        engine, photos, reads_made):
    front, back = _step6(engine, photos)
    assert front["reads"] and back["reads"]
    cards = [photos["front"], photos["back"]]
    expected = jobs.compare(engine, cards, photos["face"], True)
    _another_process()
    reads_made.clear()
    got = jobs.compare(engine, cards, photos["face"], True, [front["reads"], back["reads"]])
    assert reads_made == []  # neither side read again
    assert (got["decision"], got["distance"], got["card"]) == \
        (expected["decision"], expected["distance"], expected["card"])
    assert expected["decision"] == "match"


def test_without_carried_reads_that_worker_reads_both_sides_again(engine, photos,
                                                                 reads_made):
    _step6(engine, photos)
    _another_process()
    reads_made.clear()
    jobs.compare(engine, [photos["front"], photos["back"]], photos["face"], True)
    assert len(reads_made) == 2


def test_the_backs_job_elsewhere_reads_only_the_back(engine, photos, reads_made):
    front = jobs.card_photo(engine, photos["front"], [], True, held_card=True)
    _another_process()
    reads_made.clear()
    back = jobs.card_photo(engine, photos["back"], [photos["front"]], False, held_card=True,
                           carried=[front["reads"]])
    assert len(reads_made) == 1
    assert back["card"]["sides"][:2] == ["back", "front"]
    assert back["card"]["id_number"] == photos["fields"]["id_number"]


def test_reads_carried_for_another_photo_are_not_taken(engine, photos):
    front = jobs.card_photo(engine, photos["front"], [], True, held_card=True)
    _another_process()
    assert carried_reads.restore([front["reads"]], [photos["back"]], engine.max_pixels) == 0
    assert len(photo_cache.SIDE_READS) == 0
    assert carried_reads.restore([front["reads"]], [photos["front"]], engine.max_pixels) == 1
    assert carried_reads.restore([front["reads"]], [photos["front"]], engine.max_pixels) == 0


def test_a_photo_no_card_read_was_kept_for_carries_nothing():
    assert carried_reads.pack(("no such digest", 1)) is None


class _Runs:
    def __reduce__(self):
        import os

        return (os.system, ("true",))


@pytest.mark.parametrize("payload", [
    [(("k", 1), _Runs())],  # a function call
    [(("k", 1), read_card_module.read_side)],  # a function of the vision itself
    [(("k", 1), WeChatUnavailable("x"))],  # a class of the vision that is not plain data
])
def test_a_packing_that_holds_anything_but_data_is_refused(payload):
    blob = carried_reads.FORMAT + zlib.compress(pickle.dumps(payload))
    with pytest.raises(ValueError, match="do not unpack"):
        carried_reads.unpack(blob)


@pytest.mark.parametrize("blob", [b"", b"not a packing", carried_reads.FORMAT + b"\x00broken",
                                  carried_reads.FORMAT + zlib.compress(pickle.dumps({"a": 1}))])
def test_a_packing_that_does_not_unpack_is_dropped_and_the_photo_read_again(blob, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.vision.carried_reads")
    assert carried_reads.restore([blob], [b"photo"], 100) == 0
    assert len(photo_cache.SIDE_READS) == 0
    if blob:
        assert "read again" in caplog.text


# ---- the services: stored with the photo, taken along by the later jobs ---------------------

def test_step6_stores_each_card_photos_reads_and_the_comparison_takes_them(app, kiosk,
                                                                          fake_ekyc,
                                                                          monkeypatch):
    """With the scripted engine nothing is read for real: each photo's «reads» stand for its
    packing, to follow them from the job that made them to the jobs that take them."""
    monkeypatch.setattr(jobs, "_packed_reads", lambda engine, data: b"reads of " + data[-16:])
    seen = []

    class Recording(InlinePool):
        def run(self, kind, fn, *args, affinity=None):
            seen.append((kind, args))
            return super().run(kind, fn, *args)

    app.extensions[vision_pool.EXTENSION_KEY] = Recording(lambda: fake_ekyc)
    kiosk.walk_to(6)
    kiosk.capture_all()
    with app.app_context():
        rows = {row.kind: row for row in db.session.scalars(select(Evidence))}
        stored = {kind: (row.reads, row.content) for kind, row in rows.items()}
    front_reads, front = stored["card_front"]
    back_reads, back = stored["card_back"]
    assert front_reads == b"reads of " + front[-16:] and back_reads == b"reads of " + back[-16:]
    assert stored["face"][0] is None
    card_jobs = [args for kind, args in seen if kind == "card_photo"]
    # the back's job took the front with its reads
    assert card_jobs[-1][1] == [front] and card_jobs[-1][5] == [front_reads]
    compare_args = [args for kind, args in seen if kind == "compare"][-1]
    assert compare_args[0] == [front, back]
    assert sorted(compare_args[3]) == sorted([front_reads, back_reads])


def test_a_photo_stored_before_reads_were_kept_is_simply_read_again(app, kiosk, fake_ekyc):
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    with app.app_context():
        for row in db.session.scalars(select(Evidence)):
            row.reads = None
        db.session.commit()
    kiosk.capture("card_back")
    assert kiosk.capture("face").status_code == 200
    compares = [kwargs for method, kwargs in fake_ekyc.calls if method == "compare"]
    assert compares


def test_the_reads_column_is_encrypted_at_rest(app, kiosk, fake_ekyc, monkeypatch):
    monkeypatch.setattr(jobs, "_packed_reads", lambda engine, data: b"PORTRAIT-PIXELS" * 4)
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    with app.app_context():
        raw = db.session.execute(db.text("SELECT reads FROM evidence")).scalars().all()
    assert raw and all(value and b"PORTRAIT-PIXELS" not in bytes(value) for value in raw)


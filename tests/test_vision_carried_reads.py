"""A photo's card reads carried to the process that needs them (kiosk/vision/carried_reads.py):
a worker that never read the card takes the stored reads instead of reading it again, gets the
same answer, and takes nothing else from a packing."""
from __future__ import annotations

import logging
import pickle
import zlib
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from kiosk.core.config import DEFAULTS
from kiosk.core.extensions import db
from kiosk.core.models import Evidence
from kiosk.services import vision_pool
from kiosk.vision import carried_reads, jobs, photo_cache
from kiosk.vision import read_card as read_card_module
from kiosk.vision.engine import EkycEngine
from kiosk.vision.qr_decode import WeChatUnavailable
from kiosk.vision.read_card import SideRead
from tests.faces_data import require_sface_models
from tests.support.stand_in_pool import RecordingPool
from tests.test_vision_photo_cache import counted_calls, step6_photos


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
    return counted_calls(monkeypatch, read_card_module, "read_side")


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


class _Calls:
    """Pickles as a call of ``fn`` with ``args``."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def _packed(payload) -> bytes:
    return carried_reads.FORMAT + zlib.compress(pickle.dumps(payload))


@pytest.mark.parametrize("payload", [
    [(("k", 1), _Runs())],  # a function call
    [(("k", 1), read_card_module.read_side)],  # a function of the vision itself
    [(("k", 1), WeChatUnavailable("x"))],  # a class of the vision that is not plain data
    [(("k", 1), _Calls(np.interp, 1, [0, 2], [0, 4]))],  # a numpy function
    [(("k", 1), _Calls(np.float64, "1"))],  # a numpy type called
])
def test_a_packing_that_holds_anything_but_data_is_refused(payload):
    with pytest.raises(ValueError, match="do not unpack"):
        carried_reads.unpack(_packed(payload))


def _evil_build() -> bytes:
    """SideRead, then BUILD with the slot state {"qr_valid": True}: setattr on the class."""
    return (pickle.PROTO + bytes([5]) + pickle.GLOBAL + b"kiosk.vision.read_card\nSideRead\n"
            + pickle.NONE + pickle.EMPTY_DICT + pickle.SHORT_BINUNICODE + bytes([8])
            + b"qr_valid" + pickle.NEWTRUE + pickle.SETITEM + pickle.TUPLE2 + pickle.BUILD
            + pickle.STOP)


def test_the_class_changing_pickle_does_change_a_class_when_unpickled_plainly():
    """What the test below refuses is a real attack: a plain pickle.loads obeys it (in a
    child process, so that this one's SideRead stays as it is)."""
    import subprocess
    import sys

    code = ("import pickle, sys; from kiosk.vision.read_card import SideRead; "
            "pickle.loads(sys.stdin.buffer.read()); print(SideRead().qr_valid)")
    out = subprocess.run([sys.executable, "-c", code], input=_evil_build(), capture_output=True,
                         check=True).stdout
    assert out.strip() == b"True"


def test_a_packing_cannot_change_a_class_of_the_vision():
    """A pickle can set attributes on a class itself (BUILD on the class object): here,
    every later read's ``qr_valid`` would be True."""
    import pickletools

    blob = pickle.dumps([(("k",) * 6, SideRead())], protocol=5)
    # the same list, but the state is built onto the class SideRead, not onto an instance
    ops = [op for op in pickletools.genops(blob)]
    assert any(op[0].name == "BUILD" for op in ops)
    evil = _evil_build()
    before = SideRead.__dict__["qr_valid"]
    with pytest.raises(ValueError, match="do not unpack"):
        carried_reads.unpack(carried_reads.FORMAT + zlib.compress(evil))
    assert SideRead.__dict__["qr_valid"] is before and SideRead().qr_valid is False


def test_a_packing_made_by_code_whose_reads_had_other_fields_is_refused():
    assert carried_reads.FORMAT.startswith(b"KR2") and len(carried_reads.FORMAT) == 11
    other = b"KR2" + bytes(8) + carried_reads.FORMAT[11:]
    blob = other + zlib.compress(pickle.dumps([]))
    with pytest.raises(ValueError, match="by this code"):
        carried_reads.unpack(blob)


def test_reads_of_another_day_or_with_odd_keys_are_not_restored(engine, photos, caplog):
    front = jobs.card_photo(engine, photos["front"], [], True, held_card=True)
    pairs = carried_reads.unpack(front["reads"])
    key = carried_reads.photo_key(photos["front"], engine.max_pixels)
    yesterday = [((key, date.today() - timedelta(days=1), *k[2:]), read) for k, read in pairs]
    unhashable = [(([1], *k[1:]), read) for k, read in pairs]
    _another_process()
    caplog.set_level(logging.INFO, logger="kiosk.vision.carried_reads")
    assert carried_reads.restore([_packed(yesterday), _packed(unhashable)], [photos["front"]],
                                 engine.max_pixels) == 0
    assert len(photo_cache.SIDE_READS) == 0 and "read again" in caplog.text


@pytest.mark.parametrize("blob", [b"", b"not a packing", carried_reads.FORMAT + b"\x00broken",
                                  carried_reads.FORMAT + zlib.compress(pickle.dumps({"a": 1}))])
def test_a_packing_that_does_not_unpack_is_dropped_and_the_photo_read_again(blob, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.vision.carried_reads")
    assert carried_reads.restore([blob], [b"photo"], 100) == 0
    assert len(photo_cache.SIDE_READS) == 0
    if blob:
        assert "read again" in caplog.text


# ---- the services: stored with the photo, taken along by the later jobs ---------------------

@pytest.fixture
def jobs_seen(app, fake_ekyc, monkeypatch):
    """(kind, args, affinity) of each vision job the app runs; each card photo's «reads» are a marker
    (the scripted engine reads nothing for real) naming the photo they were made of."""
    monkeypatch.setattr(jobs, "_packed_reads", lambda engine, data: b"reads of " + data[-16:])
    seen = []
    app.extensions[vision_pool.EXTENSION_KEY] = RecordingPool(lambda: fake_ekyc, seen)
    return seen


def test_step6_stores_each_card_photos_reads_and_the_comparison_takes_them(app, kiosk,
                                                                          jobs_seen):
    """With the scripted engine nothing is read for real: each photo's «reads» stand for its
    packing, to follow them from the job that made them to the jobs that take them."""
    seen = jobs_seen
    kiosk.walk_to(6)
    kiosk.capture_all()
    with app.app_context():
        rows = {row.kind: row for row in db.session.scalars(select(Evidence))}
        stored = {kind: (row.reads, row.content) for kind, row in rows.items()}
    front_reads, front = stored["card_front"]
    back_reads, back = stored["card_back"]
    assert front_reads == b"reads of " + front[-16:] and back_reads == b"reads of " + back[-16:]
    assert stored["face"][0] is None
    card_jobs = [args for kind, args, _ in seen if kind == "card_photo"]
    # the back's job took the front with its reads
    assert card_jobs[-1][1] == [front] and card_jobs[-1][5] == [front_reads]
    compare_args = [args for kind, args, _ in seen if kind == "compare"][-1]
    assert compare_args[0] == [front, back]
    assert sorted(compare_args[3]) == sorted([front_reads, back_reads])


def test_a_photo_stored_before_reads_were_kept_goes_to_the_comparison_without_them(
        app, kiosk, fake_ekyc, jobs_seen):
    """Rows without reads (older photos) are passed on without any: the worker reads them."""
    seen = jobs_seen
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    with app.app_context():
        for row in db.session.scalars(select(Evidence)):
            row.reads = None
        db.session.commit()
    kiosk.capture("card_back")
    assert kiosk.capture("face").status_code == 200
    with app.app_context():
        back = db.session.scalars(select(Evidence).where(Evidence.kind == "card_back")).one()
        back_reads = back.reads
    assert back_reads
    card_jobs = [args for kind, args, _ in seen if kind == "card_photo"]
    assert card_jobs[-1][5] == []  # the front's reads are gone: the back's job reads it
    compare_args = [args for kind, args, _ in seen if kind == "compare"][-1]
    assert compare_args[3] == [back_reads]
    assert [kwargs for method, kwargs in fake_ekyc.calls if method == "compare"]


def test_the_reads_column_is_encrypted_at_rest(app, kiosk, fake_ekyc, monkeypatch):
    monkeypatch.setattr(jobs, "_packed_reads", lambda engine, data: b"PORTRAIT-PIXELS" * 4)
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    with app.app_context():
        raw = db.session.execute(db.text("SELECT reads FROM evidence")).scalars().all()
    assert raw and all(value and b"PORTRAIT-PIXELS" not in bytes(value) for value in raw)


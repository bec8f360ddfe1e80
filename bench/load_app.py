"""WSGI entry for bench/load.py: the kiosk as shipped, with a scripted face comparison.

The load benchmark measures the web and database path, so step 6's vision is scripted: the
card photos are read as "nothing found" and the comparison answers "review" at once (the machine is unsure) and the kiosk goes through the clerk's
confirmation, as in an office where the clerk confirms at the counter. Image checks stay
real (they are input validation); no face model is loaded. Works with any checkout that has
the ``app.extensions["kiosk_ekyc"]`` seam (the bench runs today's ``main`` through it too).

gunicorn: ``load_app:app``; waitress: ``--call load_app:create`` (bench/ on PYTHONPATH, the
checkout under test first).

``KIOSK_BENCH_VISION=real`` (``bench/load.py --vision real``): the real engine reads the cards,
cuts the portraits and compares the faces, as shipped; only its decision is held at «review»
(:func:`_review_always`), so that every walk goes through the clerk as the scripted one does —
a «match» would ask for a liveness recording, which a load client cannot act out.
"""
from __future__ import annotations

import os

from kiosk import create_app


def _scripted(engine):
    base = type(engine)

    class ScriptedComparison(base):
        def compare(self, card_bytes, face_bytes, *, with_mrz=True, held_card=False):
            return {"decision": "review", "distance": 0.5, "reference": "card_portrait",
                    "card": {"id_number": None}}

        def read_card(self, images, *, read_print=True, held_card=False, hint=None):
            # Reading the card is vision too (QR, zone, portrait search): scripted as "nothing
            # read", so each photo is kept as the side it was taken for.
            count = 1 if isinstance(images, bytes | bytearray) else len(images)
            return {"sides": [None] * count}

        def card_portrait_jpeg(self, data):
            return None

    return ScriptedComparison(engine.thresholds, engine.max_pixels, engine.mirrored)


def _review_always(engine):
    """The real engine with thresholds that make every found face «review» (accept at distance
    0, reject beyond any distance): the same vision work, the clerk's path afterwards."""
    from kiosk.domain.face_decision import FaceThresholds

    engine.thresholds = FaceThresholds(accept=0.0, reject=2.0)
    engine.shadow_model = None
    return engine


def review_always_engine(config):
    """VISION_ENGINE_FACTORY of --vision real: each vision worker process builds the real
    engine held at «review» (the workers cannot see the engine this process replaces below)."""
    from kiosk.vision.engine import EkycEngine

    return _review_always(EkycEngine.from_config(config))


def scripted_engine(config):
    """VISION_ENGINE_FACTORY of the scripted mode, for the same reason."""
    from kiosk.vision.engine import EkycEngine

    return _scripted(EkycEngine.from_config(config))


def create():
    app = create_app()
    engine = app.extensions["kiosk_ekyc"]
    real = os.environ.get("KIOSK_BENCH_VISION") == "real"
    app.extensions["kiosk_ekyc"] = _review_always(engine) if real else _scripted(engine)
    pool = app.extensions.get("kiosk_vision_pool")
    if real and (pool is None or type(pool).__name__ == "InlinePool"):
        # Vision in the request threads (older code, or VISION_WORKERS=0): load the models as
        # a production start does, outside the measured walks. The pool's processes load
        # their own; the web processes then never hold the models.
        app.extensions["kiosk_ekyc"].preload()
    return app


def __getattr__(name):
    # gunicorn's ``load_app:app``, built when asked for: a vision worker process imports this
    # module only for its engine factory and must not build a whole app.
    if name == "app":
        globals()["app"] = create()
        return globals()["app"]
    raise AttributeError(name)

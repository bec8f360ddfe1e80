"""Stand-ins for the eKYC engine (kiosk.vision.engine.EkycEngine), installed through the seam
``app.extensions["kiosk_ekyc"]`` so that wizard tests can script what the vision would say."""
from __future__ import annotations

from kiosk.vision.engine import EkycEngine, LivenessVerdict


class LivenessAlwaysPasses(EkycEngine):
    """The real engine, except that every liveness recording passes and its first frame is kept
    as the face photo: for tests about what happens *after* the challenge (face match, review)."""

    def judge_liveness(self, stamps, blobs, challenge):
        self.check_image(blobs[0])
        return LivenessVerdict(state="passed", reason=None, message="ok", still=False,
                               face_jpeg=blobs[0])

    @classmethod
    def like(cls, engine: EkycEngine) -> LivenessAlwaysPasses:
        return cls(engine.thresholds, engine.max_pixels, engine.mirrored, **engine.settings())

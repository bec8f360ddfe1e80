"""What every face identity model offers (dlib's encoder in faces.py, YuNet + SFace in
sface.py): an embedding tagged with its model, and a distance that refuses to compare two
models' embeddings. Its own module so that faces.py and sface.py need not import each other."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Embedding:
    """One face's identity vector, tagged with the model that computed it."""

    model: str  # "sface" | "dlib"
    vector: np.ndarray
    box: tuple[int, int, int, int]  # (left, top, right, bottom) in the input image
    score: float = 0.0


class FaceModel:
    """A face identity model: ``embed`` an image's largest face, ``distance`` of two embeddings."""

    name: str = ""
    identity_threshold: float = 0.0  # liveness: farther than this from the first frame = other person

    def load(self) -> None:
        """Load the networks now (else on first use); raise if they are unavailable."""

    def embed(self, image_bgr: np.ndarray, portrait: bool = False) -> Embedding | None:
        """The largest face's embedding, or None. ``portrait``: a tight crop of a card portrait."""
        raise NotImplementedError

    def distance(self, a: Embedding, b: Embedding) -> float:
        for e in (a, b):
            if not isinstance(e, Embedding) or e.model != self.name:
                got = getattr(e, "model", type(e).__name__)
                raise ValueError(f"{self.name} distance asked for a {got} embedding: "
                                 "embeddings of different models are never compared")
        return self._vector_distance(a.vector, b.vector)

    def _vector_distance(self, a: np.ndarray, b: np.ndarray) -> float:
        raise NotImplementedError

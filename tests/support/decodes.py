"""Counting the decodes of a picture's pixels, by either of kiosk.vision.images' decoders."""
from __future__ import annotations


def count_decodes(monkeypatch) -> list:
    """A list that gets, for every decode of pixels, the OpenCV flag it amounts to: OpenCV's own
    decode (its flags), or the strict one-pass decode of a camera JPEG (the flag of the same
    scale). The other path's integrity check at 1/8 scale is a check, not counted."""
    from kiosk.vision import images

    calls: list = []
    opencv = images.cv2.imdecode
    monkeypatch.setattr(images.cv2, "imdecode",
                        lambda buf, flags: calls.append(flags) or opencv(buf, flags))
    strict = images._checked_jpeg_decode

    def counted(data, header, flags, factor):
        image = strict(data, header, flags, factor)
        if image is not None:
            calls.append(images._REDUCED_COLOR[factor] if flags == images.cv2.IMREAD_COLOR
                         else flags)
        return image

    monkeypatch.setattr(images, "_checked_jpeg_decode", counted)
    return calls

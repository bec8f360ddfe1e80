"""Reading the objects of a PDF this package wrote, and appending an incremental update to it.

An incremental update (ISO 32000-1 §7.5.6) adds objects after a file's end, with a new xref
section and trailer that point back at the old ones: every byte of the original stays where it
was. The signed copy of a document is made that way (signing.py), so the text the customer read
on the screen is, byte for byte, the start of the signed file, and signing costs a small drawing
instead of laying out the whole document again.

Only ReportLab's output is read here (uncompressed object syntax, direct ``/Length``, no object
streams); anything else is refused with :class:`PdfUpdateError`, never guessed at.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_OBJECT = re.compile(rb"(\d+) 0 obj\n")
_REFERENCE = re.compile(rb"(\d+) 0 R\b")
_LENGTH = re.compile(rb"/Length (\d+)\b")


class PdfUpdateError(ValueError):
    """The bytes are not a PDF of the shape this module writes updates for."""


@dataclass(frozen=True)
class PdfObject:
    dictionary: bytes  # "<< ... >>", without the stream
    stream: bytes | None  # the raw (still encoded) stream data, or None

    def body(self) -> bytes:
        """What goes between ``N 0 obj`` and ``endobj``."""
        if self.stream is None:
            return self.dictionary
        return self.dictionary + b"\nstream\n" + self.stream + b"\nendstream"


def read_objects(pdf: bytes) -> dict[int, PdfObject]:
    """Every object of a ReportLab file, by number (streams cut by their ``/Length``)."""
    objects: dict[int, PdfObject] = {}
    position = 0
    while (found := _OBJECT.search(pdf, position)) is not None:
        number, start = int(found.group(1)), found.end()
        end = pdf.find(b"\nendobj", start)
        stream_at = pdf.find(b"stream\n", start, end if end >= 0 else None)
        if end < 0:
            raise PdfUpdateError(f"object {number} has no end")
        if stream_at >= 0:
            dictionary = pdf[start:stream_at].rstrip()
            length = _LENGTH.search(dictionary)
            if length is None:
                raise PdfUpdateError(f"stream {number} has no direct /Length")
            data_at = stream_at + len(b"stream\n")
            stream = pdf[data_at:data_at + int(length.group(1))]
            end = pdf.find(b"endobj", data_at + len(stream))
            objects[number] = PdfObject(dictionary, stream)
        else:
            objects[number] = PdfObject(pdf[start:end].strip(), None)
        position = end
    if not objects:
        raise PdfUpdateError("no objects found")
    return objects


def read_object(pdf: bytes, number: int) -> PdfObject:
    """One object that has no stream (its last definition: an update may have replaced it)."""
    start = pdf.rfind(b"\n%d 0 obj\n" % number)
    end = pdf.find(b"\nendobj", start)
    if start < 0 or end < 0:
        raise PdfUpdateError(f"object {number} not found")
    body = pdf[start + len(b"\n%d 0 obj\n" % number):end].strip()
    if b"\nstream\n" in body:
        raise PdfUpdateError(f"object {number} is a stream")
    return PdfObject(body, None)


def number(value: float) -> bytes:
    """A PDF real, four decimals at most, no trailing zeros (``12.5``, ``-3``)."""
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")


def literal_string(codes: bytes) -> bytes:
    """A PDF literal string ``( … )`` of these bytes: delimiters escaped, the rest octal."""
    out = bytearray(b"(")
    for byte in codes:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def references(dictionary: bytes) -> list[int]:
    return [int(n) for n in _REFERENCE.findall(dictionary)]


def renumber(dictionary: bytes, numbers: dict[int, int]) -> bytes:
    return _REFERENCE.sub(lambda m: b"%d 0 R" % numbers[int(m.group(1))], dictionary)


def closure(objects: dict[int, PdfObject], roots: list[int]) -> list[int]:
    """The objects ``roots`` reach through references, in a stable order."""
    seen: list[int] = []
    pending = list(roots)
    while pending:
        number = pending.pop(0)
        if number in seen:
            continue
        if number not in objects:
            raise PdfUpdateError(f"reference to missing object {number}")
        seen.append(number)
        pending.extend(references(objects[number].dictionary))
    return seen


def sub_dictionary(dictionary: bytes, key: bytes) -> bytes:
    """The value of ``key`` when it is a direct dictionary ``<< ... >>`` (nesting followed)."""
    at = dictionary.find(key + b" <<")
    if at < 0:
        raise PdfUpdateError(f"no direct {key.decode()} dictionary")
    start = at + len(key) + 1
    depth, i = 0, start
    while i < len(dictionary) - 1:
        pair = dictionary[i:i + 2]
        if pair == b"<<":
            depth, i = depth + 1, i + 2
            continue
        if pair == b">>":
            depth, i = depth - 1, i + 2
            if depth == 0:
                return dictionary[start:i]
            continue
        i += 1
    raise PdfUpdateError(f"{key.decode()} dictionary is not closed")


@dataclass(frozen=True)
class Trailer:
    size: int
    root: int
    info: int
    first_id: bytes  # the file's permanent identifier, kept by every update
    startxref: int


def read_trailer(pdf: bytes) -> Trailer:
    tail = pdf[pdf.rfind(b"trailer"):]
    fields = {key: re.search(pattern, tail) for key, pattern in (
        ("size", rb"/Size (\d+)"), ("root", rb"/Root (\d+) 0 R"), ("info", rb"/Info (\d+) 0 R"),
        ("id", rb"/ID\s*\[\s*<([0-9a-fA-F]+)>"), ("startxref", rb"startxref\s+(\d+)"))}
    missing = [key for key, found in fields.items() if found is None]
    if missing:
        raise PdfUpdateError("trailer without " + ", ".join(missing))
    return Trailer(size=int(fields["size"].group(1)), root=int(fields["root"].group(1)),
                   info=int(fields["info"].group(1)), first_id=fields["id"].group(1),
                   startxref=int(fields["startxref"].group(1)))


def append_update(pdf: bytes, changed: dict[int, bytes], added: list[bytes],
                  info: bytes | None = None) -> bytes:
    """``pdf`` followed by an update that replaces the objects in ``changed`` (number → their
    body, ``<< ... >>`` with any stream), adds ``added`` as new objects numbered from the old
    ``/Size`` on, and, with ``info``, replaces the document information dictionary.

    The result is deterministic: the same inputs give the same bytes (the second file
    identifier is derived from the update itself)."""
    trailer = read_trailer(pdf)
    bodies = dict(changed)
    for offset, body in enumerate(added):
        bodies[trailer.size + offset] = body
    if info is not None:
        bodies[trailer.info] = info
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets: dict[int, int] = {}
    for number in sorted(bodies):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + bodies[number] + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n"
    numbers = sorted(offsets)
    run_start = 0
    for i in range(1, len(numbers) + 1):  # one subsection per run of consecutive numbers
        if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
            run = numbers[run_start:i]
            out += b"%d %d\n" % (run[0], len(run))
            out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in run)
            run_start = i
    size = max(trailer.size, numbers[-1] + 1)
    second_id = hashlib.md5(bytes(out[len(pdf):])).hexdigest().encode()
    out += (b"trailer\n<<\n/ID [<%s><%s>]\n/Info %d 0 R\n/Prev %d\n/Root %d 0 R\n/Size %d\n>>\n"
            % (trailer.first_id, second_id, trailer.info, trailer.startxref, trailer.root, size))
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)

"""The seal's CMS container, built by pyHanko once per certificate and reused as a pattern.

pyHanko assembles every signature's CMS SignedData with asn1crypto: the signed attributes, the
signer's identifier, the certificates, each built as objects and encoded again. That costs about
20 ms of CPU per sealed document, more than the signature itself. Yet two seals by the same
certificate differ only in two places: the document's digest, inside the signed attributes, and
the signature over those attributes. Everything else — the signer's identifier, the algorithms,
the certificates, the ESS signing-certificate-v2 attribute that PAdES requires — is a function
of the certificate alone.

So the first seal of a process is built by pyHanko, as before, and cut into the parts that do
not change (:func:`learn`). A later seal puts the new digest into the signed attributes, has the
same signer sign them (its own ``async_sign_raw``: a key file or a token, exactly as pyHanko
calls it) and wraps the result in the same parts: the bytes pyHanko would have produced.

A container is learnt only when rebuilding it from its parts gives pyHanko's bytes exactly, and
its signed attributes are all of kinds whose value depends on the certificate alone (content
type, message digest, signing certificate, CMS algorithm protection). Anything else — a
timestamp (PAdES B-T: a token per signature), a signing time, a commitment type — is built by
pyHanko every time.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from asn1crypto import cms
from pyhanko.sign.signers.pdf_cms import Signer

# Signed attributes whose value is the same for every seal by one certificate (or, for the
# message digest, the one part this module replaces).
_FIXED_ATTRIBUTES = frozenset({
    "content_type", "signing_certificate", "signing_certificate_v2",
    "cms_algorithm_protection",
})
_MESSAGE_DIGEST = "message_digest"

_SEQUENCE, _SET, _OCTET_STRING, _CONTEXT_0 = 0x30, 0x31, 0x04, 0xA0


def _der(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


@dataclass(frozen=True)
class ContainerPattern:
    """The unchanging parts of one certificate's CMS container, in their DER bytes."""

    attributes_before: bytes  # the signed attributes' content up to the digest's bytes
    attributes_after: bytes  # and after them
    digest_size: int
    signer_info_head: bytes  # version, signer identifier, digest algorithm
    signature_algorithm: bytes
    signed_data_head: bytes  # version, digest algorithms, content info, certificates, CRLs
    content_type: bytes  # the outer ContentInfo's type (signed data)

    def signed_attributes(self, digest: bytes) -> bytes:
        """The DER SET the signer signs (RFC 5652 §5.4: the SET OF tag, not the [0] one)."""
        return _der(_SET, self._attributes(digest))

    def _attributes(self, digest: bytes) -> bytes:
        if len(digest) != self.digest_size:
            raise ValueError(f"a {len(digest)}-byte digest where the pattern has "
                             f"{self.digest_size}")
        return self.attributes_before + digest + self.attributes_after

    def container(self, digest: bytes, signature: bytes) -> bytes:
        """The ContentInfo DER for this digest and this signature over its attributes."""
        signer_info = _der(_SEQUENCE, self.signer_info_head
                           + _der(_CONTEXT_0, self._attributes(digest))
                           + self.signature_algorithm + _der(_OCTET_STRING, signature))
        signed_data = _der(_SEQUENCE, self.signed_data_head + _der(_SET, signer_info))
        return _der(_SEQUENCE, self.content_type + _der(_CONTEXT_0, signed_data))


def learn(container: cms.ContentInfo | bytes, digest: bytes) -> ContainerPattern | None:
    """The pattern of ``container``, a signature over ``digest`` built by pyHanko, or None when it
    holds anything that may differ from one seal to the next, or does not rebuild exactly."""
    der = container if isinstance(container, bytes) else container.dump()
    info = cms.ContentInfo.load(der)
    if info["content_type"].native != "signed_data":
        return None
    signed = info["content"]
    signer_infos = signed["signer_infos"]
    if len(signer_infos) != 1:
        return None
    signer = signer_infos[0]
    if signer["unsigned_attrs"].native is not None or signer["sid"].name != "issuer_and_serial_number":
        return None
    attributes = signer["signed_attrs"]
    kinds = [attribute["type"].native for attribute in attributes]
    if kinds.count(_MESSAGE_DIGEST) != 1 or not set(kinds) - {_MESSAGE_DIGEST} <= _FIXED_ATTRIBUTES:
        return None
    (found,) = [a for a in attributes if a["type"].native == _MESSAGE_DIGEST]
    if list(found["values"].native) != [digest]:
        return None
    content = attributes.contents
    # The digest's bytes appear once, inside its own attribute (a certificate hash of the same
    # bytes would be a collision); cut there.
    at = content.find(digest)
    if at < 0 or content.find(digest, at + 1) >= 0:
        return None
    pattern = ContainerPattern(
        attributes_before=content[:at], attributes_after=content[at + len(digest):],
        digest_size=len(digest),
        signer_info_head=b"".join(signer[name].dump() for name in
                                  ("version", "sid", "digest_algorithm")),
        signature_algorithm=signer["signature_algorithm"].dump(),
        signed_data_head=b"".join(signed[name].dump() for name in
                                  ("version", "digest_algorithms", "encap_content_info",
                                   "certificates", "crls")),
        content_type=info["content_type"].dump(),
    )
    if pattern.container(digest, signer["signature"].native) != der:
        return None  # some part was not where this module expects it: pyHanko every time
    return pattern


log = logging.getLogger(__name__)


class PatternSigner(Signer):
    """``inner`` (the office's pyHanko signer: key file or token) with its CMS containers
    built from a pattern learnt from its first one. Everything but the container's assembly
    is the inner signer's: its certificate, its algorithms, its raw signature. A container the
    pattern does not cover is built by pyHanko's own ``Signer.async_sign``, as for ``inner``."""

    def __init__(self, inner: Signer):
        super().__init__(prefer_pss=inner.prefer_pss, embed_roots=inner.embed_roots)
        self.inner = inner
        # per digest algorithm: its pattern, or None once its first container taught none
        self._patterns: dict[str, ContainerPattern | None] = {}
        self._lock = threading.Lock()

    # What pyHanko asks a signer about itself is the inner signer's answer.
    @property
    def signing_cert(self):
        return self.inner.signing_cert

    @property
    def cert_registry(self):
        return self.inner.cert_registry

    @property
    def signature_mechanism(self):
        return self.inner.signature_mechanism

    @property
    def attribute_certs(self):
        return self.inner.attribute_certs

    def get_signature_mechanism_for_digest(self, digest_algorithm):
        return self.inner.get_signature_mechanism_for_digest(digest_algorithm)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        return await self.inner.async_sign_raw(data, digest_algorithm, dry_run)

    def __getattr__(self, name):  # anything else a signer kind has (a token's loading, say)
        if name == "inner" or name.startswith("__"):  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.inner, name)

    def learnt(self, digest_algorithm: str) -> bool:
        """Whether PAdES seals with this digest algorithm are built from a pattern now."""
        return self._patterns.get(digest_algorithm.lower()) is not None

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run=False,
                         use_pades=False, timestamper=None, signed_attr_settings=None,
                         is_pdf_sig=True, encap_content_info=None):
        # Only what a pattern is learnt for: a PAdES signature of a PDF, no timestamp, no
        # attribute the settings or an attribute provider pyHanko installed would add (a
        # commitment type, revocation info, a PDF MAC).
        settings = signed_attr_settings
        patterned = (use_pades and is_pdf_sig and not dry_run and timestamper is None
                     and encap_content_info is None
                     and getattr(settings, "cades_signed_attrs", None) is None
                     and getattr(settings, "adobe_revinfo_attr", None) is None
                     and self.signed_attr_prov_spec is None
                     and self.unsigned_attr_prov_spec is None)
        algorithm = digest_algorithm.lower()
        if patterned and self._patterns.get(algorithm) is not None:
            pattern = self._patterns[algorithm]
            signature = await self.inner.async_sign_raw(pattern.signed_attributes(data_digest),
                                                        algorithm)
            return pattern.container(data_digest, signature)
        built = await super().async_sign(
            data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
            timestamper=timestamper, signed_attr_settings=signed_attr_settings,
            is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info)
        if patterned and algorithm not in self._patterns:  # the first of its kind
            with self._lock:
                self._patterns.setdefault(algorithm, _learn_quietly(built, data_digest))
        return built


def _learn_quietly(built, digest: bytes) -> ContainerPattern | None:
    """:func:`learn`, where a failure only means pyHanko builds every container (the one built
    is good either way: it must not cost the customer a seal)."""
    try:
        return learn(built, digest)
    except Exception:  # an unforeseen container: logged once, never a failed seal
        log.exception("the seal's CMS container could not be learnt; pyHanko builds each one")
        return None

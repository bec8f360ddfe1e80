"""A throw-away certificate authority and office certificate for the sandbox and the tests.

Made at set-up (``flask --app kiosk documents make-sandbox-cert``) so a fresh kiosk seals its
documents from the first signing. ECDSA P-256: generated in milliseconds, and every PAdES
validator reads it. The names say SANDBOX: nobody could take a document sealed with it for one
sealed by the office's real certificate (which is configured separately and then always wins).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

SANDBOX_ORGANIZATION = "VNPT Thanh Hóa (SANDBOX)"


@dataclass(frozen=True)
class IssuedCertificate:
    ca_pem: bytes  # the CA's certificate: the trust root to verify with
    p12: bytes  # the office's key, certificate and the CA's, encrypted with ``password``
    office_pem: bytes


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def issue(password: bytes, *, organization: str = SANDBOX_ORGANIZATION,
          common_name: str = "Quầy đăng ký SmartCA (SANDBOX — chỉ để thử)",
          ca_name: str = "VNPT Thanh Hóa SANDBOX Test CA (không dùng thật)",
          years: int = 5, now: dt.datetime | None = None) -> IssuedCertificate:
    """A CA (basicConstraints CA:TRUE, keyCertSign) and the office's certificate it issued
    (digitalSignature + nonRepudiation), the office's as a PKCS#12 under ``password``."""
    now = now or dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=365 * years)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_subject = _name(ca_name, organization)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_subject).issuer_name(ca_subject)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=False, content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
              encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    office = (x509.CertificateBuilder().subject_name(_name(common_name, organization))
              .issuer_name(ca_subject).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(start).not_valid_after(end)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(
                  digital_signature=True, content_commitment=True, key_encipherment=False,
                  data_encipherment=False, key_agreement=False, key_cert_sign=False,
                  crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                  ca_ski), critical=False)
              .sign(ca_key, hashes.SHA256()))
    p12 = pkcs12.serialize_key_and_certificates(
        name=b"office", key=key, cert=office, cas=[ca],
        encryption_algorithm=serialization.BestAvailableEncryption(password))
    return IssuedCertificate(ca_pem=ca.public_bytes(serialization.Encoding.PEM), p12=p12,
                             office_pem=office.public_bytes(serialization.Encoding.PEM))

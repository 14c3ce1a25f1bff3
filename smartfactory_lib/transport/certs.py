"""Certificates for the broker's TLS listener: a private CA and a server certificate.

A plant's broker proves who it is with a certificate that its devices trust.
:func:`make_certificates` plays the part of the plant's certificate authority:
it creates a CA key and a self-signed CA certificate, then a server key and a
certificate signed by that CA for the broker's host names and addresses.
Devices are given only the CA certificate; they check the broker against it
and refuse any other server.

The keys are ECDSA P-256 (fast to create, accepted by every TLS 1.2 client)
and the certificates are short-lived (one day by default), because each
broker run makes its own. A production CA would keep its key offline and
issue one client certificate per device as well; here devices authenticate
with a username and password (see :mod:`.credentials`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsFiles", "make_certificates"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files a TLS listener and its clients need.

    Attributes
    ----------
    ca_cert : Path
        The CA certificate; clients verify the broker against it.
    server_cert : Path
        The broker's certificate, signed by the CA.
    server_key : Path
        The broker's private key (unencrypted, mode 0600).
    """

    ca_cert: Path
    server_cert: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Virtual Smart Factory"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def make_certificates(
    directory: Path | str,
    *,
    hostnames: Sequence[str] = ("localhost",),
    addresses: Sequence[str] = ("127.0.0.1", "::1"),
    days: int = 1,
) -> TlsFiles:
    """Create a CA and a broker certificate signed by it, as PEM files.

    Parameters
    ----------
    directory : Path or str
        Where to write ``ca.crt``, ``ca.key``, ``server.crt`` and
        ``server.key``; created if missing.
    hostnames : sequence of str, default ("localhost",)
        DNS names the broker certificate is valid for.
    addresses : sequence of str, default ("127.0.0.1", "::1")
        IP addresses the broker certificate is valid for.
    days : int, default 1
        Validity of both certificates, from one minute ago.

    Returns
    -------
    TlsFiles
        Paths of the CA certificate, the server certificate and its key.

    Raises
    ------
    ValueError
        If ``days`` is not between 1 and 3650, no name or address is given,
        or an address does not parse.

    Examples
    --------
    >>> import tempfile
    >>> files = make_certificates(tempfile.mkdtemp())
    >>> files.ca_cert.name
    'ca.crt'
    """
    if not 1 <= days <= 3650:
        raise ValueError(f"days must be between 1 and 3650, got {days}")
    if not hostnames and not addresses:
        raise ValueError("the certificate needs at least one hostname or address")
    try:
        ips = [ipaddress.ip_address(text) for text in addresses]
    except ValueError as exc:
        raise ValueError(f"addresses must be IP addresses: {exc}") from None
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    until = now + dt.timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Virtual Smart Factory test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in hostnames]
    alt_names += [x509.IPAddress(ip) for ip in ips]
    common_name = hostnames[0] if hostnames else str(ips[0])
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    files = TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(folder / "ca.key", ca_key)
    _write_key(files.server_key, server_key)
    logger.info(
        "Created a CA and a broker certificate for %s in %s (valid %d day(s))",
        ", ".join([*hostnames, *addresses]),
        folder,
        days,
    )
    return files

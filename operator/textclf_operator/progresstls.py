"""The progress endpoint's TLS certificate: what it is, where it comes from, and the server's context.

A trainer sends its projected token with every report, so it must know it talks to the operator and
not to whoever answers on the Service's address. The operator serves its progress endpoint over TLS
and puts the CA that signed its certificate into each training Job (``TEXTCLF_PROGRESS_CA``); the
trainer verifies against that CA and the Service's DNS name.

The certificate lives in a Secret in the operator's namespace, with the keys cert-manager writes
(``tls.crt``, ``tls.key``, ``ca.crt``), so a cert-manager Certificate can provide it. When the
install lets it (``generate``), the operator makes that Secret itself the first time it finds none:
a self-signed CA and a serving certificate for the Service's names, both valid ``VALID_DAYS`` days.
A plain ``kubectl apply`` of deploy/ gets TLS that way with no private key in any manifest, and
replicas starting together create it once (the loser of the create reads the winner's). The Secret
is read again at each resync, so a renewed certificate is served without a restart.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import ipaddress
import os
import ssl
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT, KEY, CA = "tls.crt", "tls.key", "ca.crt"
VALID_DAYS = 3650
CLUSTER_DOMAIN = "cluster.local"


class Unusable(Exception):
    """The Secret is missing (and may not be made) or holds no usable certificate."""


@dataclasses.dataclass(frozen=True)
class Material:
    """PEM text of the serving certificate (chain), its key and the CA trainers trust."""

    cert: str
    key: str
    ca: str

    def to_secret_data(self) -> dict[str, str]:
        return {
            name: base64.b64encode(text.encode()).decode()
            for name, text in ((CERT, self.cert), (KEY, self.key), (CA, self.ca))
        }

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any], where: str) -> Material:
        data = secret.get("data") or {}
        missing = [name for name in (CERT, KEY, CA) if not data.get(name)]
        if missing:
            raise Unusable(f"Secret {where} has no {', '.join(missing)}")
        text = {name: base64.b64decode(data[name]).decode() for name in (CERT, KEY, CA)}
        return cls(cert=text[CERT], key=text[KEY], ca=text[CA])


def dns_names(url: str) -> list[str]:
    """The names a trainer may use for the endpoint at ``url``: its host, and for a Service's
    ``NAME.NAMESPACE.svc`` also the shorter and the fully qualified forms."""
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        raise ValueError(f"progress URL {url!r} has no host")
    parts = host.split(".")
    if len(parts) >= 3 and parts[2] == "svc":
        service, namespace = parts[0], parts[1]
        base = f"{service}.{namespace}.svc"
        return [service, f"{service}.{namespace}", base, f"{base}.{CLUSTER_DOMAIN}"]
    return [host]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def generate(names: list[str], now: datetime.datetime | None = None) -> Material:
    """A new self-signed CA and a serving certificate it signed for ``names`` (EC P-256)."""
    start = (now or datetime.datetime.now(datetime.UTC)) - datetime.timedelta(minutes=5)
    end = start + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("textclf progress CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Material(
        cert=cert.public_bytes(pem).decode(),
        key=_pem_key(key),
        ca=ca_cert.public_bytes(pem).decode(),
    )


ReadSecret = Callable[[str, str], dict[str, Any] | None]
CreateSecret = Callable[[str, str, dict[str, str]], dict[str, Any]]
"""(namespace, name, data) -> the Secret now stored under that name (ours, or a racing replica's)."""


def obtain(
    *,
    namespace: str,
    name: str,
    names: list[str],
    generate_missing: bool,
    read: ReadSecret,
    create: CreateSecret,
) -> Material:
    """The endpoint's material from Secret ``namespace/name``, made first if it is missing and
    ``generate_missing``; raises ``Unusable`` otherwise."""
    where = f"{namespace}/{name}"
    secret = read(namespace, name)
    if secret is None:
        if not generate_missing:
            raise Unusable(
                f"Secret {where} does not exist (progress TLS; its certificate comes from "
                "cert-manager or the installer)"
            )
        secret = create(namespace, name, generate(names).to_secret_data())
    return Material.from_secret(secret, where)


def load(context: ssl.SSLContext, material: Material) -> None:
    """Put ``material``'s certificate and key into ``context``; new handshakes use them. The ssl
    module reads only files: they live for the call, in a private folder."""
    with tempfile.TemporaryDirectory(prefix="textclf-tls-") as folder:
        cert, key = os.path.join(folder, CERT), os.path.join(folder, KEY)
        for path, text in ((cert, material.cert), (key, material.key)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w", encoding="ascii") as f:
                f.write(text)
        try:
            context.load_cert_chain(cert, key)
        except ssl.SSLError as exc:
            raise Unusable(f"the certificate and key do not load: {exc}") from exc


def server_context(material: Material) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    load(context, material)
    return context


@dataclasses.dataclass
class Served:
    """The endpoint's context and the material it serves now."""

    context: ssl.SSLContext
    material: Material

    @classmethod
    def of(cls, material: Material) -> Served:
        return cls(server_context(material), material)

    def refresh(self, material: Material) -> bool:
        """Serve ``material`` from the next handshake on; False if it is what is served."""
        if material == self.material:
            return False
        load(self.context, material)
        self.material = material
        return True

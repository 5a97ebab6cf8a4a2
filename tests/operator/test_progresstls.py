"""The progress endpoint's TLS: certificates the operator makes, served through its context, verified
by the trainer's real HTTPS client; a wrong CA or a wrong name gets no token."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from cryptography import x509

from textclf.api import channels
from textclf_operator import progresstls
from textclf_trainer import progress


class Recorder(http.server.BaseHTTPRequestHandler):
    tokens: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.tokens.append(self.headers.get("Authorization", ""))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class TlsServer:
    """A local HTTPS server whose handshakes use ``progresstls.Served``'s context."""

    def __init__(self, served: progresstls.Served) -> None:
        self.served = served
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
        self.httpd.socket = served.context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{channels.PROGRESS_PATH}"


@pytest.fixture
def material() -> progresstls.Material:
    return progresstls.generate(["localhost"])


@pytest.fixture
def server(material: progresstls.Material) -> Iterator[TlsServer]:
    Recorder.tokens = []
    tls = TlsServer(progresstls.Served.of(material))
    tls.thread.start()
    yield tls
    tls.httpd.shutdown()
    tls.httpd.server_close()


def send(url: str, ca: str | None, token_file: str) -> progress.Http:
    reporter = progress.Http(url, token_file, ca=ca, min_gap=0.0)
    reporter.report(channels.ProgressReport(percent=10, phase="train", step=1, total_steps=10))
    return reporter


@pytest.fixture
def token_file(tmp_path: Any) -> str:
    path = tmp_path / "token"
    path.write_text("secret-token\n")
    return str(path)


def test_the_trainer_reaches_the_endpoint_through_the_ca_it_was_given(
    server: TlsServer, material: progresstls.Material, token_file: str
) -> None:
    send(server.url(), material.ca, token_file)
    assert Recorder.tokens == ["Bearer secret-token"]


@pytest.mark.parametrize("case", ["another CA", "a name not in the certificate", "no CA"])
def test_no_token_goes_to_an_endpoint_the_ca_does_not_vouch_for(
    server: TlsServer, material: progresstls.Material, token_file: str, case: str
) -> None:
    if case == "another CA":
        reporter = send(server.url(), progresstls.generate(["localhost"]).ca, token_file)
    elif case == "a name not in the certificate":
        reporter = send(server.url("127.0.0.1"), material.ca, token_file)
    else:  # the system's CAs never signed a self-made certificate
        reporter = send(server.url(), None, token_file)
    assert Recorder.tokens == []
    assert reporter._failures == 1  # logged, and training goes on


def test_a_renewed_certificate_is_served_from_the_next_handshake(
    server: TlsServer, material: progresstls.Material, token_file: str
) -> None:
    assert not server.served.refresh(material)  # the same Secret read again: nothing to do
    renewed = progresstls.generate(["localhost"])
    assert server.served.refresh(renewed)
    send(server.url(), material.ca, token_file)
    assert Recorder.tokens == []
    send(server.url(), renewed.ca, token_file)
    assert Recorder.tokens == ["Bearer secret-token"]


def test_a_service_url_names_every_form_of_the_service() -> None:
    url = "https://textclf-operator.textclf-system.svc:8081/v1alpha1/progress"
    assert progresstls.dns_names(url) == [
        "textclf-operator",
        "textclf-operator.textclf-system",
        "textclf-operator.textclf-system.svc",
        "textclf-operator.textclf-system.svc.cluster.local",
    ]
    assert progresstls.dns_names("https://localhost:1/x") == ["localhost"]


def test_the_generated_certificate_is_for_serving_and_signed_by_its_ca() -> None:
    names = progresstls.dns_names("https://op.ns.svc:8081/p")
    made = progresstls.generate(names)
    cert = x509.load_pem_x509_certificate(made.cert.encode())
    ca = x509.load_pem_x509_certificate(made.ca.encode())
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == names
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    context = ssl.create_default_context(cadata=made.ca)  # loads as a trust anchor
    assert context.cert_store_stats()["x509_ca"] == 1


class Secrets:
    """Secrets by (namespace, name), as the API server would keep them."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}
        self.creates = 0

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.stored.get((namespace, name))

    def create(self, namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
        self.creates += 1
        return self.stored.setdefault((namespace, name), {"data": data})


def _obtain(secrets: Secrets, generate_missing: bool) -> progresstls.Material:
    return progresstls.obtain(
        namespace="ns",
        name="tls",
        names=["localhost"],
        generate_missing=generate_missing,
        read=secrets.read,
        create=secrets.create,
    )


def test_the_secret_is_made_once_and_then_reused() -> None:
    secrets = Secrets()
    first = _obtain(secrets, generate_missing=True)
    again = _obtain(secrets, generate_missing=True)
    assert first == again
    assert secrets.creates == 1


def test_a_missing_or_incomplete_secret_is_named_in_the_error() -> None:
    secrets = Secrets()
    with pytest.raises(progresstls.Unusable, match="Secret ns/tls does not exist"):
        _obtain(secrets, generate_missing=False)
    secrets.stored["ns", "tls"] = {"data": {"tls.crt": "eA=="}}
    with pytest.raises(progresstls.Unusable, match=r"Secret ns/tls has no tls.key, ca.crt"):
        _obtain(secrets, generate_missing=True)
    assert secrets.creates == 0

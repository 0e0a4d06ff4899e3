"""SMTP with STARTTLS and AUTH, and implicit TLS, against a real server with a test CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from mamori.app import Runtime
from mamori.store import db
from tests.helpers.runtime import open_test_runtime
from tests.helpers.smtp import SmtpServer, run_smtp_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA): (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mamori test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _send_one(runtime: Runtime) -> dict[str, object]:
    with db.write(runtime.engine) as conn:
        runtime.mail.queue(conn, to="hanako@example.jp", template="test", language="en", context={})
    runtime.mail.deliver_pending()
    with db.read(runtime.engine) as conn:
        row = conn.execute(sa.text("SELECT status, last_error FROM mail_outbox")).one()
    return dict(row._mapping)


@contextmanager
def _mamori(
    tmp_path: Path, database_url: str, server: SmtpServer, tls: str, **settings: Any
) -> Iterator[Runtime]:
    """mamori sending through ``server`` with ``tls``; closed when the block ends."""
    runtime = open_test_runtime(
        tmp_path,
        database_url,
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_tls=tls,
        **settings,
    )
    try:
        yield runtime
    finally:
        runtime.close()


def test_starttls_with_auth(
    tmp_path: Path, database_url: str, certificate: tuple[Path, Path]
) -> None:
    with (
        run_smtp_server(
            tls_context=_server_context(certificate), credentials=("mamori", "s3cret pass")
        ) as server,
        _mamori(
            tmp_path,
            database_url,
            server,
            "starttls",
            smtp_username="mamori",
            smtp_password=SecretStr("s3cret pass"),
            smtp_ca_file=certificate[0],
        ) as runtime,
    ):
        assert "s3cret" not in repr(runtime.settings)
        assert _send_one(runtime) == {"status": "sent", "last_error": None}
        server.wait_for(1)
        assert server.logins == ["mamori"]


def test_a_wrong_password_keeps_the_mail_queued(
    tmp_path: Path, database_url: str, certificate: tuple[Path, Path]
) -> None:
    with (
        run_smtp_server(
            tls_context=_server_context(certificate), credentials=("mamori", "right")
        ) as server,
        _mamori(
            tmp_path,
            database_url,
            server,
            "starttls",
            smtp_username="mamori",
            smtp_password=SecretStr("wrong"),
            smtp_ca_file=certificate[0],
            smtp_timeout_seconds=2,
        ) as runtime,
    ):
        row = _send_one(runtime)
        # aiosmtpd answers 535 to PLAIN; smtplib's next try (LOGIN) then waits for the timeout.
        assert row["status"] == "queued"
        assert row["last_error"] in ("SMTPAuthenticationError", "SMTPServerDisconnected")
        assert server.received == [] and server.logins == []


def test_an_untrusted_certificate_is_refused(
    tmp_path: Path, database_url: str, certificate: tuple[Path, Path]
) -> None:
    # No MAMORI_SMTP_CA_FILE: the system's authorities do not know the test CA.
    with (
        run_smtp_server(tls_context=_server_context(certificate)) as server,
        _mamori(tmp_path, database_url, server, "starttls") as runtime,
    ):
        assert _send_one(runtime) == {"status": "queued", "last_error": "SSLCertVerificationError"}


def test_implicit_tls(tmp_path: Path, database_url: str, certificate: tuple[Path, Path]) -> None:
    with (
        run_smtp_server(tls_context=_server_context(certificate), implicit_tls=True) as server,
        _mamori(tmp_path, database_url, server, "tls", smtp_ca_file=certificate[0]) as runtime,
    ):
        assert _send_one(runtime) == {"status": "sent", "last_error": None}
        assert server.wait_for(1)[0]["To"] == "hanako@example.jp"

"""Throwaway TLS certificates for the TLS, HTTP/2 and WSS tests, made with the `openssl` CLI at
test time (ci/services.sh installs it; without it the tests skip, or fail under
FASTCORE_REQUIRE_SERVICES=1). Nothing is stored in the repository.

`make_certs(directory)` writes a self-signed certificate for 127.0.0.1 with its key, a second
unrelated pair (a key that matches no certificate of the first), and the first certificate's
key encrypted (PKCS#8, AES-256) with `PASSWORD`. tests/conftest.py's module-scoped `certs` fixture
makes one set per test module; `Certs.server_args()` and `Certs.trusting()` are what the server
and its clients are given."""
from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.services import _missing

PASSWORD = "s3cret-pass"


@dataclass(frozen=True)
class Certs:
    cert: Path
    key: Path
    other_cert: Path
    other_key: Path
    encrypted_cert: Path
    encrypted_key: Path

    def server_args(self) -> tuple[str, ...]:
        """`fastcore run`'s options to serve the certificate for 127.0.0.1 with its key."""
        return ("--ssl-certfile", str(self.cert), "--ssl-keyfile", str(self.key))

    def trusting(self, cert: Path | None = None) -> ssl.SSLContext:
        """A client context that trusts `cert` (default: the served certificate) and nothing else."""
        return ssl.create_default_context(cafile=str(cert or self.cert))


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _self_signed(cert: Path, key: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key), "-out", str(cert),
             "-subj", f"/CN={name}", "-addext", f"subjectAltName=IP:{name}" if name[0].isdigit() else
             f"subjectAltName=DNS:{name}")


def make_certs(directory: Path) -> Certs:
    if shutil.which("openssl") is None:
        _missing("openssl")
    certs = Certs(directory / "cert.pem", directory / "key.pem", directory / "other-cert.pem",
                  directory / "other-key.pem", directory / "enc-cert.pem", directory / "enc-key.pem")
    _self_signed(certs.cert, certs.key, "127.0.0.1")
    _self_signed(certs.other_cert, certs.other_key, "example.invalid")
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass",
             f"pass:{PASSWORD}", "-out", str(certs.encrypted_key))
    _openssl("req", "-x509", "-key", str(certs.encrypted_key), "-passin", f"pass:{PASSWORD}", "-days", "2",
             "-out", str(certs.encrypted_cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    return certs

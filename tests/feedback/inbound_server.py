"""A real IMAP server for the inbound-mail tests: a private Dovecot (Debian's
dovecot-imapd, installed by scripts/ensure-dovecot) run from a config of its own in a
temporary folder, on a free loopback port, with one mailbox in a Maildir there.

Messages are delivered the way a mail server would leave them, with IMAP APPEND. Run as
root (CI), the mail processes run as `nobody` (Dovecot refuses mail access as root);
run as anyone else, every process runs as that user.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker_fixtures import _free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "inbound"
PASSWORD = "inbound-secret"


def _private_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate it signed for 127.0.0.1 (openssl): (CA, cert,
    key), as a self-hosted mailbox would have."""
    ca_key, ca, key, csr, cert = (
        directory / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    run = lambda *args: subprocess.run(  # noqa: E731
        ["openssl", *args], check=True, capture_output=True, timeout=60
    )
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=Chorus test CA", "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr))  # fmt: skip
    extensions = directory / "san.cnf"
    extensions.write_text("subjectAltName = IP:127.0.0.1\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(extensions),
        "-out", str(cert))  # fmt: skip
    key.chmod(0o600)
    return ca, cert, key


class DovecotServer:
    """With `tls`, Dovecot also listens for IMAP over TLS (`tls_port`, imaps://) with a
    certificate of a private CA (`ca_file`)."""

    def __init__(self, directory: Path, *, tls: bool = False) -> None:
        self.directory = directory
        self.port = _free_port()
        self.tls = tls
        self.tls_port = _free_port() if tls else 0
        self.ca_file: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    @property
    def tls_url(self) -> str:
        return f"imaps://{USER}:{PASSWORD}@127.0.0.1:{self.tls_port}/INBOX"

    def _ssl_config(self) -> str:
        if not self.tls:
            return "ssl = no"
        self.ca_file, cert, key = _private_ca(self.directory)
        return f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"

    def _config(self) -> Path:
        d = self.directory
        for sub in ("run", "state", "mail", "home"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        me = pwd.getpwuid(os.geteuid())
        if os.geteuid() == 0:
            mail_user = pwd.getpwnam("nobody")
            for sub in ("mail", "home"):
                os.chown(d / sub, mail_user.pw_uid, mail_user.pw_gid)
            login_user = "dovenull"
            internal_user = "dovecot"
            chroot = "login"
        else:
            mail_user = me
            login_user = internal_user = me.pw_name
            chroot = ""
        (d / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        config = d / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {d}/run
state_dir = {d}/state
instance_name = chorus-inbound-test-{self.port}
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
{self._ssl_config()}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={d}/home/%u
}}
service imap-login {{
  chroot = {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal_user}
  }}
  unix_listener stats-writer {{
    user = {internal_user}
  }}
}}
"""
        )
        return config

    def start(self) -> None:
        if not os.path.exists(DOVECOT):
            pytest.fail("dovecot is not installed: run scripts/ensure-dovecot")
        config = self._config()
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / "stderr.log", "wb"),  # noqa: SIM115 - lives with the server
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.connect().logout()
                return
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        log = ""
        for name in ("stderr.log", "dovecot.log"):
            path = self.directory / name
            if path.exists():
                log += path.read_text()[-2000:]
        self.stop()
        pytest.fail(f"dovecot did not start:\n{log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def deliver(self, raw: bytes, *, folder: str = "INBOX") -> None:
        """Leave a message in the mailbox, unseen, as a mail server would."""
        conn = self.connect()
        try:
            typ, data = conn.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self, *, folder: str = "INBOX") -> list[set[str]]:
        """Each message's flags, in mailbox order."""
        conn = self.connect()
        try:
            _typ, count = conn.select(folder)
            if int(count[0]) == 0:
                return []
            typ, data = conn.fetch("1:*", "(FLAGS)")
            out = []
            for item in data:
                if not item:
                    continue
                text = item.decode() if isinstance(item, bytes) else str(item)
                inner = text.split("FLAGS (", 1)[1].split(")", 1)[0]
                out.append(set(inner.split()) - {"\\Recent"})
            return out
        finally:
            conn.logout()

    def clear(self, *, folder: str = "INBOX") -> None:
        conn = self.connect()
        try:
            _typ, count = conn.select(folder)
            if int(count[0]):
                conn.store("1:*", "+FLAGS", "(\\Deleted)")
                conn.expunge()
        finally:
            conn.logout()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the test session (each test empties the mailbox first)."""
    # Not under pytest's tmp folder: that is private to the user running the tests, and
    # run as root, Dovecot's own users must reach their files.
    directory = Path(tempfile.mkdtemp(prefix="chorus-dovecot-"))
    directory.chmod(0o755)
    server = DovecotServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[DovecotServer]:
    """A Dovecot that also serves IMAP over TLS with a private CA's certificate."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed: run scripts/ensure-dovecot")
    directory = Path(tempfile.mkdtemp(prefix="chorus-dovecot-tls-"))
    directory.chmod(0o755)
    server = DovecotServer(directory, tls=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: DovecotServer, settings) -> DovecotServer:
    """The empty mailbox, configured as INBOUND_EMAIL_URL."""
    dovecot.clear()
    settings.INBOUND_EMAIL_URL = dovecot.url
    return dovecot

"""System tests for TLS in smtpd(8): STARTTLS, wrapper mode (port 465),
the security levels, client certificates.

Certificates come from a throwaway test CA made with the openssl command
once per session (RSA and ECDSA server chains, a client certificate).
Clients are real: openssl s_client, swaks, Python's smtplib and ssl, and
raw sockets where a test must send what a well-behaved client would not
(text pipelined after STARTTLS). The instance runs as in test_smtpd.py.
"""

import base64
import os
import pwd
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import Instance
from live import Raw, free_port, listening, stop_instance, wait_until
from live import private_postfix, server_factory  # noqa: F401 (fixtures)
# The sasldb of AUTH's tests (live.sasl_dir), for TLS with AUTH.
from live import SASL_PASSWORD as PASSWORD, SASL_USER as USER
from live import sasl_dir  # noqa: F401 (fixture)


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="session")
def certs():
    """A test CA, server chains (key, certificate, CA in one file) for RSA and
    ECDSA, and a client certificate; readable by the instance's user."""
    d = Path(tempfile.mkdtemp(prefix="postern-tls-"))
    d.chmod(0o755)
    (d / "ext").write_text("subjectAltName=DNS:test.example,DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=Postern Test CA", cwd=d)
    for name, key in (("rsa", ["-newkey", "rsa:2048"]),
                      ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]),
                      ("client", ["-newkey", "rsa:2048"])):
        cn = "client.example" if name == "client" else "test.example"
        openssl("req", *key, "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={cn}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "ext", cwd=d)
        (d / f"{name}-chain.pem").write_text(
            (d / f"{name}.key").read_text() + (d / f"{name}.pem").read_text()
            + (d / "ca.pem").read_text())
    for p in d.iterdir():
        p.chmod(0o644)
    fp = subprocess.run(["openssl", "x509", "-in", d / "client.pem", "-noout", "-fingerprint",
                         "-sha256"], capture_output=True, text=True, check=True).stdout
    (d / "client.fingerprint").write_text(fp.strip().split("=", 1)[1])
    yield d
    shutil.rmtree(d, ignore_errors=True)


def tls_settings(certs, level="may", *more):
    return (f"smtpd_tls_security_level={level}",
            f"smtpd_tls_chain_files={certs}/rsa-chain.pem, {certs}/ec-chain.pem",
            "smtpd_tls_loglevel=1", "smtpd_tls_received_header=yes", *more)


@pytest.fixture
def tls_server(server_factory, certs):  # noqa: F811
    return server_factory(*tls_settings(certs))


def client_context(certs, cert=None):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(str(certs / f"{cert}.pem"), str(certs / f"{cert}.key"))
    return ctx


class SClient:
    """openssl s_client in a pipe: one command line in, one reply out."""

    def __init__(self, port, certs, *args):
        self.proc = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-crlf", "-quiet",
             "-CAfile", str(certs / "ca.pem"), "-verify_return_error", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def reply(self, expect=None):
        """Lines up to the last line of a reply (and, with expect, one whose
        last line starts with it: s_client echoes part of its own EHLO)."""
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return "\n".join(lines)
            lines.append(line.rstrip("\r\n"))
            if len(line) >= 4 and line[3] == " " and (expect is None or line.startswith(expect)):
                return "\n".join(lines)

    def cmd(self, line, expect=None):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.reply(expect)

    def deliver(self, server, subject):
        """EHLO (which must not offer STARTTLS again), one message, QUIT."""
        ehlo = self.cmd("EHLO client.example")
        assert "250-PIPELINING" in ehlo and "STARTTLS" not in ehlo
        assert self.cmd("MAIL FROM:<sender@example.org>").startswith("250 ")
        assert self.cmd(f"RCPT TO:<{server.addr}>").startswith("250 ")
        assert self.cmd("DATA").startswith("354 ")
        self.proc.stdin.write(message(server, subject).replace("\r\n", "\n"))
        assert "250 2.0.0 Ok: queued as" in self.cmd(".")
        assert self.cmd("QUIT").startswith("221 ")
        self.close()

    def close(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=30)
        return self.proc.stderr.read()


def message(server, subject):
    return (f"From: sender@example.org\r\nTo: {server.addr}\r\nSubject: {subject}\r\n\r\n"
            "over TLS\r\n")


# ---- sessions with real clients ----

def test_openssl_s_client_starttls_delivers_and_received_says_esmtps_and_cipher(tls_server,
                                                                                 certs):
    c = SClient(tls_server.port, certs, "-starttls", "smtp")
    assert c.cmd("NOOP", expect="250 2.0.0").endswith("250 2.0.0 Ok")
    c.deliver(tls_server, "s_client")
    assert wait_until(lambda: tls_server.messages(), timeout=30), tls_server.log()
    (m,) = tls_server.messages()
    received = " ".join(m.get_all("Received")[0].split())
    assert received.startswith(
        "from client.example (localhost [127.0.0.1]) (using TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits)) (No client certificate requested) "
        "by test.example (Postern) with ESMTPS id "), received
    log = tls_server.log()
    assert ("Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with "
            "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)") in log
    assert "proto=ESMTPS" not in log  # nothing was rejected
    assert wait_until(lambda: "ehlo=2 starttls=1 mail=1 rcpt=1 data=1 noop=1 quit=1 commands=8"
                      in tls_server.log(), timeout=10), tls_server.log()


def test_swaks_tls_delivers(tls_server):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(tls_server.port),
                        "--tls", "--to", tls_server.addr, "--from", "sender@example.org",
                        "--helo", "client.example"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<~  250 2.0.0 Ok: queued as" in r.stdout
    assert wait_until(lambda: tls_server.messages(), timeout=30), tls_server.log()
    assert "with ESMTPS id" in " ".join(tls_server.messages()[0].get_all("Received")[0].split())


def test_rsa_and_ecdsa_certificates_side_by_side(tls_server, certs):
    for cipher, key in (("ECDHE-ECDSA-AES256-GCM-SHA384", "256"),
                        ("ECDHE-RSA-AES256-GCM-SHA384", "2048")):
        r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                            f"127.0.0.1:{tls_server.port}", "-tls1_2", "-cipher", cipher,
                            "-CAfile", str(certs / "ca.pem"), "-verify_return_error"],
                           input="", capture_output=True, text=True, timeout=30)
        assert f"Cipher is {cipher}" in r.stdout, r.stdout + r.stderr
        assert f"Server public key is {key} bit" in r.stdout


def test_tls_1_1_is_refused_and_1_2_accepted(tls_server, certs):
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                        f"127.0.0.1:{tls_server.port}", "-tls1_1", "-CAfile",
                        str(certs / "ca.pem")], input="", capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert "Cipher is (NONE)" in r.stdout
    assert wait_until(lambda: "SSL_accept error from localhost[127.0.0.1]: TLS handshake "
                      "failed: " in tls_server.log(), timeout=10)
    assert "unsupported protocol" in tls_server.log()
    assert wait_until(lambda: "ehlo=1 starttls=0/1 commands=1/2" in tls_server.log(), timeout=10)
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                        f"127.0.0.1:{tls_server.port}", "-tls1_2", "-CAfile",
                        str(certs / "ca.pem"), "-verify_return_error"], input="",
                       capture_output=True, text=True, timeout=30)
    assert "New, TLSv1.2, Cipher is ECDHE-" in r.stdout, r.stdout + r.stderr


# ---- the STARTTLS command ----

def starttls_raw(server, certs, pipelined=b""):
    """A raw session up to STARTTLS (sent with pipelined after it, in one
    write), then the handshake; returns the TLS socket and a reader."""
    raw = server.raw()
    assert raw.reply().startswith("220 ")
    assert "250-STARTTLS" in raw.cmd("EHLO client.example")
    raw.send(b"STARTTLS\r\n" + pipelined)
    return raw


def tls_reader(sock):
    buf = b""

    def reply():
        nonlocal buf
        while b"\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return ""
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        return line.decode()
    return reply


def test_text_pipelined_after_starttls_is_discarded_not_executed(server_factory, certs):  # noqa: F811
    srv = server_factory(*tls_settings(certs), "smtpd_forbid_unauth_pipelining=no")
    raw = starttls_raw(srv, certs, b"RSET\r\n")
    assert raw.reply() == "220 2.0.0 Ready to start TLS"
    tls = client_context(certs).wrap_socket(raw.sock, server_hostname="test.example")
    reply = tls_reader(tls)
    # The first reply in the TLS session answers the first command sent in it.
    tls.sendall(b"HELP\r\n")
    assert reply().startswith("214 2.0.0 Commands:")
    tls.sendall(b"QUIT\r\n")
    assert reply() == "221 2.0.0 Bye"
    tls.close()
    # (The fixture's probe connection has its own disconnect line.)
    assert wait_until(lambda: "ehlo=1 starttls=1 help=1 quit=1 commands=4" in srv.log(),
                      timeout=10), srv.log()
    log = srv.log()
    assert "discarding 6 bytes sent after STARTTLS by localhost[127.0.0.1]" in log
    assert "rset" not in log


def test_text_pipelined_after_starttls_ends_the_session_by_default(tls_server, certs):
    raw = starttls_raw(tls_server, certs, b"RSET\r\n")
    assert raw.reply() == "554 5.5.0 Error: SMTP protocol synchronization"
    assert raw.closed()
    assert "improper command pipelining after STARTTLS from localhost[127.0.0.1]: RSET" in \
        tls_server.log()
    assert "TLS connection established" not in tls_server.log()


def test_starttls_resets_the_session_and_needs_a_new_ehlo(tls_server, certs):
    c = tls_server.smtp()
    c.ehlo()
    assert c.has_extn("starttls")
    assert c.mail("sender@example.org")[0] == 250
    assert c.docmd("STARTTLS") == (503, b"5.5.1 Error: MAIL transaction in progress")
    assert c.docmd("RSET")[0] == 250
    code, text = c.starttls(context=client_context(certs))
    assert (code, text) == (220, b"2.0.0 Ready to start TLS")
    # The EHLO before STARTTLS and the transaction are forgotten.
    assert c.docmd("MAIL FROM:<sender@example.org>") == \
        (503, b"5.5.1 Error: send HELO/EHLO first")
    code, _ = c.ehlo("client.example")
    assert code == 250 and not c.has_extn("starttls")
    assert c.docmd("STARTTLS") == (554, b"5.5.1 Error: TLS already active")
    assert c.docmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert c.docmd(f"RCPT TO:<{tls_server.addr}>")[0] == 250
    c.quit()


def test_starttls_with_an_argument_or_when_not_offered(server_factory, tls_server, certs):  # noqa: F811
    c = tls_server.smtp()
    c.ehlo()
    assert c.docmd("STARTTLS now") == (501, b"5.5.4 Syntax: STARTTLS")
    c.quit()
    plain = server_factory()
    c = plain.smtp()
    c.ehlo()
    assert not c.has_extn("starttls")
    assert c.docmd("STARTTLS") == (502, b"5.5.1 Error: command not implemented")
    c.quit()


def test_encrypt_level_refuses_mail_before_starttls(server_factory, certs):  # noqa: F811
    srv = server_factory(*tls_settings(certs, "encrypt"))
    c = srv.smtp()
    c.ehlo()
    assert c.has_extn("starttls")
    assert c.docmd("MAIL FROM:<sender@example.org>") == \
        (530, b"5.7.0 Must issue a STARTTLS command first")
    assert c.docmd("VRFY someone") == (530, b"5.7.0 Must issue a STARTTLS command first")
    c.starttls(context=client_context(certs))
    c.ehlo()
    c.sendmail("sender@example.org", [srv.addr], message(srv, "encrypt").encode())
    c.quit()
    assert wait_until(lambda: srv.messages(), timeout=30), srv.log()


# ---- wrapper mode (port 465) ----

def add_service(srv, line):
    """Add a master.cf service line to a running instance and reload it."""
    with open(srv.inst.master_cf, "a") as f:
        f.write(line + "\n")
    r = srv.inst.postern("reload")
    assert r.returncode == 0, r.stderr


def test_wrapper_mode_service_speaks_tls_from_the_first_byte(tls_server, certs):
    port = free_port()
    add_service(tls_server, f"127.0.0.1:{port} inet n - n - - smtpd "
                "-o smtpd_tls_wrappermode=yes -o syslog_name=postern/submissions")
    assert wait_until(lambda: listening(port), timeout=15), tls_server.log()
    c = SClient(port, certs)
    assert c.reply().startswith("220 test.example ESMTP")
    c.deliver(tls_server, "wrapper")
    assert wait_until(lambda: tls_server.messages(), timeout=30), tls_server.log()
    assert "postern/submissions/smtpd[" in tls_server.log()
    assert "with ESMTPS id" in " ".join(tls_server.messages()[0].get_all("Received")[0].split())
    # A plaintext client gets no SMTP greeting there.
    raw = Raw("127.0.0.1", port)
    raw.send("EHLO client.example\r\n")
    try:
        got = raw.reply()
    except ConnectionResetError:
        got = ""
    assert not got.startswith("220")
    assert wait_until(lambda: "SSL_accept error from localhost[127.0.0.1]" in tls_server.log(),
                      timeout=10)


# ---- keys that cannot be used ----

def test_missing_key_at_may_is_a_warning_and_no_starttls(server_factory):  # noqa: F811
    srv = server_factory("smtpd_tls_security_level=may",
                         "smtpd_tls_cert_file=/nonexistent/cert.pem")
    c = srv.smtp()
    c.ehlo()
    assert not c.has_extn("starttls")
    c.quit()
    assert ("warning: cannot use TLS: cannot load certificate chain from /nonexistent/cert.pem"
            in srv.log())
    assert "STARTTLS is not offered" in srv.log()


def test_unreadable_key_at_encrypt_refuses_sessions_with_421(server_factory, certs):  # noqa: F811
    key = certs / "unreadable.key"
    key.write_text((certs / "rsa.key").read_text())
    key.chmod(0o000)
    srv = server_factory("smtpd_tls_security_level=encrypt",
                         f"smtpd_tls_cert_file={certs}/rsa.pem", f"smtpd_tls_key_file={key}")
    raw = srv.raw()
    assert raw.reply() == ("421 4.7.0 test.example Error: TLS is required but not available; "
                           "try again later")
    assert raw.closed()
    log = srv.log()
    assert f"cannot load private key from {key}" in log
    assert "TLS is required (smtpd_tls_security_level = encrypt) but cannot be used" in log
    assert "refusing localhost[127.0.0.1]: TLS is required but cannot be used" in log


def test_no_certificate_in_wrapper_mode_closes_the_connection(server_factory):  # noqa: F811
    srv = server_factory("smtpd_tls_wrappermode=yes")
    raw = srv.raw()
    assert raw.closed()
    assert wait_until(lambda: "refusing localhost[127.0.0.1]" in srv.log(), timeout=10)
    assert "no server certificate: set smtpd_tls_chain_files" in srv.log()


# ---- client certificates ----

def test_relay_clientcerts_lets_a_listed_certificate_relay(server_factory, certs):  # noqa: F811
    table = certs / "relay_clientcerts"
    table.write_text((certs / "client.fingerprint").read_text() + " client.example\n")
    table.chmod(0o644)
    srv = server_factory(*tls_settings(certs, "may", "smtpd_tls_ask_ccert=yes",
                                       f"smtpd_tls_CAfile={certs}/ca.pem",
                                       f"relay_clientcerts=texthash:{table}",
                                       "mynetworks=192.0.2.0/24",
                                       "smtpd_relay_restrictions=permit_tls_clientcerts, "
                                       "reject_unauth_destination"))
    for cert, code in (("client", 250), (None, 554)):
        c = srv.smtp()
        c.ehlo()
        c.starttls(context=client_context(certs, cert))
        c.ehlo()
        assert c.docmd("MAIL FROM:<sender@example.org>")[0] == 250
        assert c.docmd("RCPT TO:<someone@elsewhere.example>")[0] == code
        c.docmd("RSET")
        c.quit()
    log = srv.log()
    assert ("Trusted TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher"
            in log)
    assert ("client certificate fingerprint=" + (certs / "client.fingerprint").read_text()
            in log)
    assert "Anonymous TLS connection established from localhost[127.0.0.1]" in log
    assert "Relay access denied; from=<sender@example.org> to=<someone@elsewhere.example> " \
        "proto=ESMTPS" in log


def test_control_characters_in_a_client_certificate_cn_stay_out_of_the_headers(
        server_factory, certs, tmp_path):  # noqa: F811
    """A self-signed client certificate whose CN holds a line break must not
    add a header line through the Received: comment (smtpd_tls_ask_ccert
    takes any certificate, so this is any client's to send)."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evil\r\nX-Injected: yes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "evil.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "evil.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    srv = server_factory(*tls_settings(certs, "may", "smtpd_tls_ask_ccert=yes"))
    ctx = client_context(certs)
    ctx.load_cert_chain(str(tmp_path / "evil.pem"), str(tmp_path / "evil.key"))
    c = srv.smtp()
    c.ehlo()
    c.starttls(context=ctx)
    c.ehlo()
    c.sendmail("sender@example.org", [srv.addr], message(srv, "evil cn"))
    c.quit()
    assert wait_until(lambda: srv.messages(), timeout=30), srv.log()
    (m,) = srv.messages()
    assert m.get_all("X-Injected") is None, m.as_string()
    received = " ".join(m.get_all("Received")[0].split())
    assert '(Client CN "evil??X-Injected: yes", Issuer "evil??X-Injected: yes" ' \
        "(not verified))" in received, received


# ---- testssl ----

@pytest.mark.skipif(shutil.which("testssl") is None, reason="testssl (testssl.sh) not installed")
def test_testssl_sees_no_protocol_below_tls_1_2(tls_server, tmp_path):
    out = tmp_path / "protocols.json"
    start = time.monotonic()
    r = subprocess.run(["testssl", "--quiet", "--color", "0", "--protocols", "--jsonfile",
                        str(out), "--starttls", "smtp", f"127.0.0.1:{tls_server.port}"],
                       capture_output=True, text=True, timeout=300)
    assert out.exists(), r.stdout + r.stderr
    import json
    found = {e["id"]: e["finding"] for e in json.loads(out.read_text())}
    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert found[proto] == "not offered", (proto, found)
    assert found["TLS1_2"].startswith("offered"), found
    assert found["TLS1_3"].startswith("offered"), found
    assert time.monotonic() - start < 120


def test_req_ccert_at_encrypt_needs_a_verified_client_certificate(server_factory, certs):  # noqa: F811
    srv = server_factory(*tls_settings(certs, "encrypt", "smtpd_tls_req_ccert=yes",
                                       f"smtpd_tls_CAfile={certs}/ca.pem"))
    c = srv.smtp()
    c.ehlo()
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
        c.starttls(context=client_context(certs))
        c.ehlo()  # TLS 1.3: the server's refusal arrives after the client's Finished
    c = srv.smtp()
    c.ehlo()
    c.starttls(context=client_context(certs, "client"))
    assert c.ehlo()[0] == 250
    c.quit()
    assert wait_until(lambda: "Trusted TLS connection established" in srv.log(), timeout=10)
    assert "SSL_accept error from localhost[127.0.0.1]" in srv.log()


# ---- real Postfix as the client ----


def test_postfix_with_smtp_tls_security_level_encrypt_delivers(tls_server, certs,
                                                               private_postfix):
    pf_port = private_postfix.start(f"relayhost=[127.0.0.1]:{tls_server.port}",
                                    "smtp_tls_security_level=encrypt", "smtp_tls_loglevel=1",
                                    f"smtp_tls_CAfile={certs}/ca.pem")
    c = smtplib.SMTP("127.0.0.1", pf_port, local_hostname="origin.example", timeout=30)
    c.sendmail("a@pf.example", [tls_server.addr], message(tls_server, "via postfix").encode())
    c.quit()
    assert wait_until(lambda: tls_server.messages() and tls_server.queue_empty(), timeout=60), \
        tls_server.log() + private_postfix.maillog()
    (m,) = tls_server.messages()
    received = " ".join(m.get_all("Received")[0].split())
    assert received.startswith("from pf.example (localhost [127.0.0.1]) (using TLSv1.3 with "
                               "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) "), received
    assert "by test.example (Postern) with ESMTPS id" in received
    pf_log = private_postfix.maillog()
    assert (f"Trusted TLS connection established to 127.0.0.1[127.0.0.1]:{tls_server.port}: "
            "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)") in pf_log, pf_log
    assert "status=sent" in pf_log


# ---- TLS with AUTH: the submission service's settings ----

def test_submission_offers_auth_only_after_starttls_and_receives_esmtpsa(server_factory,  # noqa: F811
                                                                          certs, sasl_dir):
    srv = server_factory(*tls_settings(certs, "encrypt"), "smtpd_sasl_auth_enable=yes",
                         f"cyrus_sasl_config_path={sasl_dir}",
                         "smtpd_sasl_authenticated_header=yes", "mynetworks=192.0.2.0/24")
    raw = srv.raw()
    assert raw.reply().startswith("220 ")
    ehlo = raw.cmd("EHLO client.example")
    assert "250-STARTTLS" in ehlo and "AUTH" not in ehlo
    assert raw.cmd("AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()) \
        == "530 5.7.0 Must issue a STARTTLS command first"
    raw.close()
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{srv.port}", "--helo", "client.example",
                        "--from", "someone@example.org", "--to", srv.addr,
                        "--tls", "--auth", "PLAIN", "--auth-user", USER, "--auth-password",
                        PASSWORD], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0 Authentication successful" in r.stdout
    assert "250 2.0.0 Ok: queued as" in r.stdout
    assert wait_until(lambda: srv.messages() and srv.queue_empty(), timeout=30), srv.log()
    received = " ".join(srv.messages()[0].get_all("Received")[0].split())
    assert received.startswith(
        "from client.example (localhost [127.0.0.1]) (using TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits)) (No client certificate requested) "
        f"(Authenticated sender: {USER}) by test.example (Postern) with ESMTPSA id "), received
    log = srv.log()
    assert "Anonymous TLS connection established from localhost[127.0.0.1]" in log
    assert f"sasl_method=PLAIN, sasl_username={USER}" in log


def test_tls_auth_only_offers_and_accepts_auth_only_after_starttls(server_factory,  # noqa: F811
                                                                   certs, sasl_dir):
    srv = server_factory(*tls_settings(certs), "smtpd_sasl_auth_enable=yes",
                         f"cyrus_sasl_config_path={sasl_dir}", "smtpd_tls_auth_only=yes")
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    c = srv.smtp()
    c.ehlo()
    assert c.has_extn("starttls") and not c.has_extn("auth")
    assert c.docmd("AUTH PLAIN " + plain) == (503, b"5.5.1 Error: authentication not enabled")
    c.starttls(context=client_context(certs))
    c.ehlo("client.example")
    assert {"PLAIN", "LOGIN"} <= set(c.esmtp_features["auth"].split())
    assert c.docmd("AUTH PLAIN " + plain) == (235, b"2.7.0 Authentication successful")
    c.quit()


def test_sasl_tls_security_options_take_over_after_starttls(server_factory, certs,  # noqa: F811
                                                           sasl_dir):
    srv = server_factory(*tls_settings(certs), "smtpd_sasl_auth_enable=yes",
                         f"cyrus_sasl_config_path={sasl_dir}",
                         "smtpd_sasl_security_options=noanonymous, noplaintext",
                         "smtpd_sasl_tls_security_options=noanonymous")
    c = srv.smtp()
    c.ehlo()
    # In the clear: no mechanism that sends the password as it is.
    offered = set(c.esmtp_features.get("auth", "").split())
    assert "PLAIN" not in offered and "LOGIN" not in offered
    assert c.docmd("AUTH PLAIN " + base64.b64encode(b"\0x\0y").decode())[0] == 504
    c.starttls(context=client_context(certs))
    c.ehlo("client.example")
    assert {"PLAIN", "LOGIN"} <= set(c.esmtp_features["auth"].split())
    c.quit()


# ---- session resumption ----

def tls_session(srv, ctx, session=None):
    """STARTTLS (offering session, if any) and EHLO; returns the TLS socket,
    which has its session ticket once EHLO's reply was read."""
    raw = srv.raw()
    assert raw.reply().startswith("220 ")
    raw.cmd("EHLO client.example")
    assert raw.cmd("STARTTLS").startswith("220 ")
    tls = ctx.wrap_socket(raw.sock, server_hostname="test.example", session=session)
    reply = tls_reader(tls)
    tls.sendall(b"EHLO client.example\r\n")
    while not reply().startswith("250 "):
        pass
    return tls


def test_session_tickets_resume_in_another_process_and_rotate(server_factory, certs):  # noqa: F811
    srv = server_factory(*tls_settings(certs, "may", "smtpd_tls_session_cache_timeout=2s"))
    ctx = client_context(certs)
    first = tls_session(srv, ctx)
    assert not first.session_reused and first.session.has_ticket
    # first stays open: the next client is served by another smtpd process.
    second = tls_session(srv, ctx, first.session)
    assert second.session_reused
    keys = srv.dir / "data" / "smtpd_tls_ticket_keys"
    assert keys.stat().st_mode & 0o777 == 0o600 and keys.stat().st_size == 88
    pids = set()
    for line in srv.log().splitlines():
        if "TLS connection established from" in line:
            pids.add(line.split("smtpd[")[1].split("]")[0])
    assert len(pids) == 2, srv.log()
    for s in (first, second):
        s.close()
    # A ticket made late in its key's lifetime (2s) ...
    time.sleep(1.5)
    late = tls_session(srv, ctx)
    late_session = late.session
    late.close()
    # ... still resumes after the key was replaced: the previous key
    # decrypts (and the ticket is renewed) while the session is valid.
    time.sleep(1.0)
    third = tls_session(srv, ctx, late_session)
    assert third.session_reused
    assert keys.stat().st_size == 2 * 88
    third.close()
    # Past the session's lifetime: a full handshake.
    time.sleep(2.5)
    fourth = tls_session(srv, ctx, late_session)
    assert not fourth.session_reused
    fourth.close()


def test_no_session_tickets_when_the_cache_timeout_is_zero(server_factory, certs):  # noqa: F811
    srv = server_factory(*tls_settings(certs, "may", "smtpd_tls_session_cache_timeout=0"))
    ctx = client_context(certs)
    first = tls_session(srv, ctx)
    assert not first.session.has_ticket
    second = tls_session(srv, ctx, first.session)
    assert not second.session_reused
    first.close()
    second.close()
    assert not (srv.dir / "data" / "smtpd_tls_ticket_keys").exists()


# ---- privileges ----

@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_a_key_only_root_can_read_is_loaded_before_the_privilege_drop(certs, tmp_path):
    # The key sits where only root can even look (pytest's tmp_path is 0700).
    key = tmp_path / "key.pem"
    key.write_text((certs / "rsa-chain.pem").read_text())
    key.chmod(0o600)
    base = Path(tempfile.mkdtemp(prefix="postern-tls-root-"))
    base.chmod(0o755)
    inst = Instance(base / "instance")
    port = free_port()
    try:
        inst.init("myhostname=test.example", "mydomain=example", "mail_owner=nobody",
                  "setgid_group=nogroup", "smtpd_tls_security_level=may",
                  f"smtpd_tls_chain_files={key}", "smtpd_tls_loglevel=1")
        inst.master_cf.write_text(f"127.0.0.1:{port} inet n - n - - smtpd\n")
        r = inst.postern("start")
        assert r.returncode == 0, r.stderr
        assert wait_until(lambda: listening(port), timeout=10)
        c = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=30)
        c.starttls(context=client_context(certs))
        assert c.ehlo()[0] == 250
        c.quit()
        log = (inst.dir / "maillog").read_text()
        assert "Anonymous TLS connection established from localhost[127.0.0.1]" in log
        pid = int(log.split("Anonymous TLS")[0].rsplit("smtpd[", 1)[1].split("]")[0])
        assert os.stat(f"/proc/{pid}").st_uid == pwd.getpwnam("nobody").pw_uid
    finally:
        stop_instance(inst, {})
        shutil.rmtree(base, ignore_errors=True)


# ---- the stock submission services ----

def stock_service(name, port):
    """The commented-out service `name` of conf/master.cf, uncommented and
    listening on 127.0.0.1:port."""
    stock = (Path(__file__).resolve().parents[2] / "conf" / "master.cf").read_text()
    lines, inside = [], False
    for line in stock.splitlines():
        if line.startswith(f"#{name} "):
            inside = True
            lines.append(line[1:].replace(name, f"127.0.0.1:{port}", 1))
        elif inside and line.startswith("#  -o "):
            lines.append(line[1:])
        else:
            inside = False
    assert lines, f"no {name} in conf/master.cf"
    return "\n".join(lines)


def test_stock_submission_and_submissions_services_when_uncommented(server_factory, certs,  # noqa: F811
                                                                   sasl_dir):
    srv = server_factory(*tls_settings(certs), f"cyrus_sasl_config_path={sasl_dir}")
    p587, p465 = free_port(), free_port()
    add_service(srv, stock_service("submission", p587) + "\n" + stock_service("submissions", p465))
    assert wait_until(lambda: listening(p587) and listening(p465), timeout=15), srv.log()
    # 587: STARTTLS first; AUTH only after it; nobody unauthenticated sends.
    c = smtplib.SMTP("127.0.0.1", p587, local_hostname="client.example", timeout=30)
    c.ehlo()
    assert c.has_extn("starttls") and not c.has_extn("auth")
    assert c.docmd("MAIL FROM:<someone@example.org>")[0] == 530
    c.starttls(context=client_context(certs))
    c.ehlo()
    assert c.has_extn("auth")
    assert c.docmd("MAIL FROM:<someone@example.org>")[0] == 250
    assert c.docmd(f"RCPT TO:<{srv.addr}>")[0] == 554
    c.quit()
    for port, tls in ((p587, "--tls"), (p465, "--tls-on-connect")):
        r = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "--helo", "client.example",
                            "--from", "someone@example.org", "--to", "friend@elsewhere.example",
                            tls, "--auth", "PLAIN", "--auth-user", USER, "--auth-password",
                            PASSWORD], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "250 2.0.0 Ok: queued as" in r.stdout
    log = srv.log()
    assert "postern/submission/smtpd[" in log and "postern/submissions/smtpd[" in log
    assert log.count("sasl_method=PLAIN, sasl_username=" + USER) == 2


def test_a_silent_client_after_starttls_times_out(server_factory, certs):  # noqa: F811
    srv = server_factory(*tls_settings(certs), "smtpd_starttls_timeout=1s")
    raw = starttls_raw(srv, certs)
    assert raw.reply() == "220 2.0.0 Ready to start TLS"
    start = time.monotonic()
    assert raw.closed()  # no ClientHello: the server gives up
    assert 0.8 < time.monotonic() - start < 10
    assert wait_until(lambda: "SSL_accept error from localhost[127.0.0.1]: timeout during the "
                      "TLS handshake" in srv.log(), timeout=10), srv.log()

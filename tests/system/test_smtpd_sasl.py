"""System tests for SMTP AUTH in smtpd(8) with Cyrus SASL.

A sasldb made with saslpasswd2 and an smtpd.conf (auxprop/sasldb) live in
a temporary directory that cyrus_sasl_config_path points at; the instance
runs as an unprivileged user, who must be able to read the sasldb at AUTH
time. Clients are swaks and raw sockets for what swaks will not send.
"""

import base64
import hmac
import os
import shutil
import subprocess

import pytest

from conftest import run as run_cmd
from live import BIN, Raw, free_port, root_instance, server_factory, wait_until  # noqa: F401
from live import SASL_PASSWORD as PASSWORD, SASL_USER as USER
from live import have_sasl_mech as have_mech, sasl_dir  # noqa: F401 (a fixture)


@pytest.fixture
def auth_server(server_factory, sasl_dir):  # noqa: F811
    def start(*settings):
        return server_factory("smtpd_sasl_auth_enable=yes", f"cyrus_sasl_config_path={sasl_dir}",
                              *settings)
    return start


def b64(text):
    return base64.b64encode(text.encode()).decode()


def plain(user=USER, password=PASSWORD):
    return b64(f"\0{user}\0{password}")


def swaks(server, *args):
    return subprocess.run(["swaks", "--server", f"127.0.0.1:{server.port}",
                           "--helo", "client.example", "--from", "someone@example.org", *args],
                          capture_output=True, text=True, timeout=60)


def ehlo(raw):
    assert raw.reply().startswith("220 ")
    return raw.cmd("EHLO client.example")


# ---- the mechanisms, with real clients ----

@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks_authenticates_and_mail_is_queued_as_esmtpa(auth_server, mech):
    if mech == "CRAM-MD5" and not have_mech("crammd5"):
        pytest.skip("libsasl2-modules has no CRAM-MD5 here")
    server = auth_server("smtpd_sasl_authenticated_header=yes")
    r = swaks(server, "--to", server.addr, "--auth", mech, "--auth-user", USER,
              "--auth-password", PASSWORD, "--header", f"Subject: {mech}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0 Authentication successful" in r.stdout
    assert wait_until(lambda: server.messages() and server.queue_empty()), server.log()
    (m,) = server.messages()
    received = " ".join(m["Received"].split())
    assert received.startswith("from client.example (localhost [127.0.0.1]) "
                               f"(Authenticated sender: {USER}) by test.example (Postern) "
                               "with ESMTPA id "), received
    assert (f"client=localhost[127.0.0.1], sasl_method={mech}, sasl_username={USER}"
            in server.log())


def test_ehlo_offers_the_configured_mechanisms_and_old_clients_get_auth_equals(auth_server):
    server = auth_server("broken_sasl_auth_clients=yes")
    raw = server.raw()
    lines = ehlo(raw).splitlines()
    auth = [l for l in lines if l[4:].startswith("AUTH ")]
    assert len(auth) == 1 and {"PLAIN", "LOGIN"} <= set(auth[0][9:].split()), lines
    assert any(l[4:] == "AUTH=" + auth[0][9:] for l in lines), lines
    raw.close()


def test_exceptions_networks_hide_auth_but_still_accept_it(auth_server):
    server = auth_server("smtpd_sasl_exceptions_networks=192.0.2.0/24, 127.0.0.0/8")
    raw = server.raw()
    assert "AUTH" not in ehlo(raw)
    assert raw.cmd("AUTH PLAIN " + plain()) == "235 2.7.0 Authentication successful"
    raw.close()


def test_auth_is_not_offered_or_accepted_when_disabled(server_factory):  # noqa: F811
    server = server_factory()
    raw = server.raw()
    assert "AUTH" not in ehlo(raw)
    assert raw.cmd("AUTH PLAIN " + plain()).startswith("503 5.5.1 ")
    assert raw.cmd("MAIL FROM:<a@example.org> AUTH=<>").startswith("555 5.5.4 ")
    raw.close()


# ---- failures ----

def test_wrong_password_is_535_and_logged(auth_server):
    server = auth_server()
    r = swaks(server, "--to", server.addr, "--auth", "PLAIN", "--auth-user", USER,
              "--auth-password", "wrong")
    assert r.returncode != 0
    assert "535 5.7.8 Error: authentication failed:" in r.stdout, r.stdout
    assert "SASL PLAIN authentication failed" in server.log()
    assert server.messages() == []


def test_initial_response_forms_cancel_and_bad_base64(auth_server):
    server = auth_server()
    raw = server.raw()
    ehlo(raw)
    # No initial response: an empty challenge, then the response.
    assert raw.cmd("AUTH PLAIN") == "334 "
    assert raw.cmd("*") == "501 5.7.0 Authentication aborted"
    # "=" is an empty initial response: PLAIN then fails, it has no user.
    assert raw.cmd("AUTH PLAIN =").startswith("535 5.7.8 ")
    assert raw.cmd("AUTH PLAIN not*base64").startswith("501 5.5.2 ")
    assert raw.cmd("AUTH LOGIN").startswith("334 " + b64("Username:"))
    assert raw.cmd("!!!!").startswith("501 5.5.2 ")
    assert raw.cmd("AUTH NOSUCH").startswith("504 5.5.4 ")
    assert raw.cmd("AUTH").startswith("501 5.5.4 ")
    # After all that, the right password still works.
    assert raw.cmd("AUTH PLAIN " + plain()) == "235 2.7.0 Authentication successful"
    assert raw.cmd("AUTH PLAIN " + plain()) == "503 5.5.1 Error: already authenticated"
    assert raw.cmd("QUIT").startswith("221 ")
    raw.close()


def test_an_overlong_response_line_is_refused_and_the_session_goes_on(auth_server):
    server = auth_server("line_length_limit=1000")
    raw = server.raw()
    ehlo(raw)
    assert raw.cmd("AUTH LOGIN").startswith("334 ")
    assert raw.cmd("QUFB" * 1000).startswith("500 5.5.6 ")
    assert raw.cmd("NOOP").startswith("250 ")
    raw.close()


def test_auth_inside_a_transaction_and_before_ehlo_is_503(auth_server):
    server = auth_server()
    raw = server.raw()
    assert raw.reply().startswith("220 ")
    assert raw.cmd("HELO client.example").startswith("250 ")
    assert raw.cmd("AUTH PLAIN " + plain()) == "503 5.5.1 Error: send EHLO first"
    assert raw.cmd("EHLO client.example").startswith("250-")
    assert raw.cmd("MAIL FROM:<a@example.org>").startswith("250 ")
    assert raw.cmd("AUTH PLAIN " + plain()).startswith("503 5.5.1 ")
    raw.close()


def test_failed_auth_counts_towards_the_hard_error_limit(auth_server):
    server = auth_server("smtpd_hard_error_limit=3")
    raw = server.raw()
    ehlo(raw)
    for _ in range(3):
        assert raw.cmd("AUTH PLAIN " + plain(password="bad")).startswith("535 ")
    assert raw.cmd("NOOP").startswith("421 4.7.0 ")
    assert raw.closed()


def test_cram_md5_by_hand(auth_server):
    if not have_mech("crammd5"):
        pytest.skip("libsasl2-modules has no CRAM-MD5 here")
    server = auth_server()
    raw = server.raw()
    ehlo(raw)
    reply = raw.cmd("AUTH CRAM-MD5")
    assert reply.startswith("334 ")
    challenge = base64.b64decode(reply[4:])
    digest = hmac.new(PASSWORD.encode(), challenge, "md5").hexdigest()
    assert raw.cmd(b64(f"{USER} {digest}")) == "235 2.7.0 Authentication successful"
    raw.close()


def scram_sha256(raw, user, password):
    """An RFC 5802/7677 client; returns the final reply."""
    import hashlib
    import secrets

    def hmac_sha256(key, msg):
        return hmac.new(key, msg.encode(), "sha256").digest()
    cnonce = secrets.token_hex(12)
    first_bare = f"n={user},r={cnonce}"
    reply = raw.cmd("AUTH SCRAM-SHA-256 " + b64("n,," + first_bare))
    assert reply.startswith("334 "), reply
    server_first = base64.b64decode(reply[4:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac_sha256(salted, "Client Key")
    without_proof = f"c={b64('n,,')},r={attrs['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}"
    signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message.encode(),
                         "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    reply = raw.cmd(b64(f"{without_proof},p={base64.b64encode(proof).decode()}"))
    if not reply.startswith("334 "):
        return reply
    # The server's signature comes as a last challenge (RFC 4954 4): check
    # it, then an empty response.
    server_sig = hmac.new(hmac_sha256(salted, "Server Key"), auth_message.encode(),
                          "sha256").digest()
    assert base64.b64decode(reply[4:]).decode() == "v=" + base64.b64encode(server_sig).decode()
    return raw.cmd("")


def test_scram_sha_256_by_hand(auth_server):
    if not have_mech("scram"):
        pytest.skip("libsasl2-modules has no SCRAM here")
    server = auth_server()
    raw = server.raw()
    assert "SCRAM-SHA-256" in ehlo(raw)
    assert scram_sha256(raw, USER, "wrong").startswith("535 5.7.8 ")
    assert scram_sha256(raw, USER, PASSWORD) == "235 2.7.0 Authentication successful"
    raw.close()


# ---- relaying ----

def test_authenticated_client_may_relay_an_anonymous_one_may_not(auth_server):
    # mynetworks does not cover the test's loopback address.
    server = auth_server("mynetworks=192.0.2.0/24")
    anon = swaks(server, "--to", "someone@elsewhere.example", "--quit-after", "RCPT")
    assert anon.returncode != 0
    assert "454 4.7.1 <someone@elsewhere.example>: Relay access denied" in anon.stdout, anon.stdout
    raw = server.raw()
    ehlo(raw)
    assert raw.cmd("AUTH PLAIN " + plain()).startswith("235 ")
    assert raw.cmd("MAIL FROM:<alice@test.example> AUTH=<>").startswith("250 ")
    assert raw.cmd("RCPT TO:<someone@elsewhere.example>").startswith("250 ")
    assert raw.cmd("RSET").startswith("250 ")
    assert raw.cmd("MAIL FROM:<alice@test.example> AUTH=alice+2Btag@test.example").startswith(
        "250 ")
    raw.close()


def test_a_sasldb_the_daemon_cannot_read_fails_auth_with_the_reason_logged(auth_server,
                                                                           sasl_dir):
    # Cyrus opens the sasldb at AUTH time, as the unprivileged daemon.
    if os.geteuid() != 0:
        pytest.skip("needs root to take the file away from the instance's user")
    (sasl_dir / "sasldb2").chmod(0o600)
    server = auth_server()
    raw = server.raw()
    ehlo(raw)
    assert raw.cmd("AUTH PLAIN " + plain()).startswith("535 5.7.8 ")
    raw.close()
    assert wait_until(lambda: "Permission denied" in server.log()), server.log()


# ---- who may use which sender address ----

@pytest.mark.parametrize("restriction, auth_ok, anon_ok", [
    ("reject_sender_login_mismatch", False, False),
    ("reject_authenticated_sender_login_mismatch", False, True),
    ("reject_unauthenticated_sender_login_mismatch", True, False),
])
def test_sender_login_mismatch(auth_server, sasl_dir, restriction, auth_ok, anon_ok):
    logins = sasl_dir / "logins"
    logins.write_text(f"{USER}@test.example {USER}\nshared@test.example bob, ALICE\n"
                      "@owned.example carol\n")
    logins.chmod(0o644)
    server = auth_server(f"smtpd_sender_login_maps=texthash:{logins}",
                         f"smtpd_sender_restrictions={restriction}")

    def rcpt_reply(raw, sender):
        assert raw.cmd("RSET").startswith("250 ")
        assert raw.cmd(f"MAIL FROM:<{sender}>").startswith("250 ")
        return raw.cmd(f"RCPT TO:<{server.addr}>")

    raw = server.raw()
    ehlo(raw)
    # Not logged in: an address with an owner needs a login.
    reply = rcpt_reply(raw, f"{USER}@test.example")
    if anon_ok:
        assert reply.startswith("250 "), reply
    else:
        assert reply == (f"553 5.7.1 <{USER}@test.example>: Sender address rejected: "
                         "not logged in"), reply
    assert rcpt_reply(raw, "someone@example.org").startswith("250 ")
    assert rcpt_reply(raw, "").startswith("250 ")
    assert raw.cmd("RSET").startswith("250 ")
    assert raw.cmd("AUTH PLAIN " + plain()).startswith("235 ")
    # Logged in: only the addresses the login owns (case aside).
    assert rcpt_reply(raw, f"{USER}@test.example").startswith("250 ")
    assert rcpt_reply(raw, "shared@test.example").startswith("250 ")
    for sender in ("bob@test.example", "x@owned.example", "someone@example.org"):
        reply = rcpt_reply(raw, sender)
        if auth_ok:
            assert reply.startswith("250 "), reply
        else:
            assert reply == (f"553 5.7.1 <{sender}>: Sender address rejected: "
                             f"not owned by user {USER}"), reply
    assert rcpt_reply(raw, "").startswith("250 ")
    raw.close()


# ---- privilege separation: Cyrus starts as root, AUTH runs as mail_owner ----

def test_root_started_smtpd_reads_the_sasldb_as_mail_owner_at_auth(root_instance, sasl_dir):
    inst_dir, _, env = root_instance
    db = sasl_dir / "sasldb2"
    shutil.chown(db, "root", "postern")
    db.chmod(0o640)
    port = free_port()
    r = run_cmd([BIN / "postconf", "-c", inst_dir, "-e", "smtpd_sasl_auth_enable=yes",
                 f"cyrus_sasl_config_path={sasl_dir}"])
    assert r.returncode == 0, r.stderr
    with open(inst_dir / "master.cf", "a") as f:
        f.write(f"127.0.0.1:{port} inet n - n - - smtpd\n")
    r = run_cmd([BIN / "postern", "-c", inst_dir, "reload"], env=env)
    assert r.returncode == 0, r.stderr

    def auth_reply():
        raw = Raw("127.0.0.1", port)
        ehlo(raw)
        reply = raw.cmd("AUTH PLAIN " + plain())
        raw.close()
        return reply

    def listening():
        try:
            Raw("127.0.0.1", port).close()
            return True
        except OSError:
            return False
    assert wait_until(listening, timeout=10)
    # Group postern may read it: the daemon, now postern, logs in.
    assert auth_reply() == "235 2.7.0 Authentication successful"
    # Root alone may read it: smtpd started as root, yet AUTH fails, so the
    # file is read at AUTH time by mail_owner, as smtpd(8) says.
    db.chmod(0o600)
    assert auth_reply().startswith("535 5.7.8 ")
    log = (inst_dir / "maillog").read_text(errors="replace")
    assert "Permission denied" in log, log
"""System tests for check_policy_service (Postfix's SMTPD_POLICY_README
protocol): a real policy server, written here, on a loopback port or a
UNIX-domain socket, answers smtpd's requests; smtpd acts on the answers.

The server records every request (its attributes in order) and answers
by the recipient's extension: user+dunno, user+ok, user+reject, ...
"""

import os
import pathlib
import shutil
import socket
import tempfile
import threading
import time

import pytest

from live import free_port, server_factory, wait_until  # noqa: F401
from test_smtpd_tls import certs, client_context, tls_settings  # noqa: F401

CLIENT = "localhost[127.0.0.1]"

ACTIONS = {
    "dunno": "DUNNO",
    "ok": "OK",
    "reject": "REJECT go away",
    "defer": "DEFER_IF_PERMIT try later",
    "prepend": "PREPEND X-Policy: seen",
    "code": "550 5.7.9 not here",
}


def answer_by_extension(attrs):
    rcpt = attrs.get("recipient", "")
    ext = rcpt.split("@")[0].partition("+")[2]
    return "action=" + ACTIONS.get(ext, "DUNNO") + "\n\n"


class PolicyServer:
    """A policy server on a listening socket; answer(attrs) -> reply text
    (None: never answer)."""

    def __init__(self, sock, answer=answer_by_extension):
        self.sock = sock
        self.answer = answer
        self.requests = []  # lists of (name, value) in order
        self.connections = 0
        self.stopping = False
        self.one_per_connection = False
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        f = conn.makefile("rb")
        try:
            while not self.stopping:
                attrs = []
                while True:
                    line = f.readline()
                    if not line:
                        return
                    line = line.rstrip(b"\n").decode()
                    if line == "":
                        break
                    name, _, value = line.partition("=")
                    attrs.append((name, value))
                self.requests.append(attrs)
                reply = self.answer(dict(attrs))
                if reply is None:
                    while not self.stopping:
                        time.sleep(0.1)
                    return
                conn.sendall(reply.encode())
                if self.one_per_connection:
                    return
        finally:
            f.close()
            conn.close()

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.thread.join()


@pytest.fixture
def policy_factory():
    made = []

    def start(answer=answer_by_extension, unix_dir=None):
        if unix_dir is not None:
            path = os.path.join(unix_dir, "policy")
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            os.chmod(path, 0o777)
            s.listen(16)
            endpoint = f"unix:{path}"
        else:
            port = free_port()
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(16)
            endpoint = f"inet:127.0.0.1:{port}"
        p = PolicyServer(s, answer)
        p.endpoint = endpoint
        made.append(p)
        return p

    yield start
    for p in made:
        p.stop()


def session(server):
    """Greeting, EHLO and MAIL, each expected to pass; the raw client."""
    s = server.raw()
    assert s.reply().startswith("220 ")
    assert s.cmd("EHLO client.example").startswith("250")
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250 ")
    return s


def rcpt_for(server, ext):
    login, _, domain = server.addr.partition("@")
    return f"{login}+{ext}@{domain}"


def test_actions_per_recipient_and_the_request(server_factory, policy_factory):
    policy = policy_factory()
    server = server_factory(
        f"smtpd_recipient_restrictions=check_policy_service {policy.endpoint}, "
        "reject_unauth_destination", "smtpd_policy_service_policy_context=ctx-1")
    s = session(server)
    want = {
        "dunno": "250 2.1.5 Ok",
        "ok": "250 2.1.5 Ok",
        "prepend": "250 2.1.5 Ok",
        "reject": f"554 5.7.1 <{rcpt_for(server, 'reject')}>: Recipient address rejected: "
                  "go away",
        "defer": f"450 4.7.1 <{rcpt_for(server, 'defer')}>: Recipient address rejected: "
                 "try later",
        "code": f"550 5.7.9 <{rcpt_for(server, 'code')}>: Recipient address rejected: "
                "not here",
    }
    for ext, reply in want.items():
        assert s.cmd(f"RCPT TO:<{rcpt_for(server, ext)}>") == reply, server.log()
    assert s.cmd("DATA").startswith("354")
    s.send("Subject: policy\r\n\r\nhello\r\n.\r\n")
    assert s.reply().startswith("250 ")
    # A second message: a new instance.
    assert s.cmd("MAIL FROM:<b@example.org> SIZE=321").startswith("250 ")
    assert s.cmd(f"RCPT TO:<{rcpt_for(server, 'ok')}>").startswith("250 ")
    assert s.cmd("QUIT").startswith("221")

    reqs = [dict(r) for r in policy.requests]
    assert len(reqs) == 7
    names = [n for n, _ in policy.requests[0]]
    for field in ("request", "protocol_state", "protocol_name", "helo_name", "queue_id",
                  "sender", "recipient", "recipient_count", "client_address", "client_name",
                  "reverse_client_name", "instance", "sasl_method", "sasl_username",
                  "sasl_sender", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
                  "encryption_protocol", "encryption_cipher", "encryption_keysize",
                  "etrn_domain", "stress"):
        assert field in names, field
    first = reqs[0]
    assert first["request"] == "smtpd_access_policy"
    assert first["protocol_state"] == "RCPT"
    assert first["protocol_name"] == "ESMTP"
    assert first["helo_name"] == "client.example"
    assert first["sender"] == "a@example.org"
    assert first["recipient"] == rcpt_for(server, "dunno")
    assert first["client_address"] == "127.0.0.1"
    assert first["client_name"] == "localhost"
    assert first["server_address"] == "127.0.0.1"
    assert first["server_port"] == str(server.port)
    assert [r["recipient"] for r in reqs[:6]] == [rcpt_for(server, e) for e in want]
    # One instance per message, a new one for the next.
    assert len({r["instance"] for r in reqs[:6]}) == 1
    assert reqs[6]["instance"] != reqs[0]["instance"]
    assert reqs[6]["sender"] == "b@example.org"
    assert (first["size"], reqs[6]["size"]) == ("0", "321")
    assert first["policy_context"] == "ctx-1"
    # One connection for the whole session.
    assert policy.connections == 1

    # One copy per accepted recipient (all the same mailbox), each with
    # the header PREPEND asked for.
    assert wait_until(lambda: len(server.messages()) == 3, timeout=30), server.log()
    assert [m["X-Policy"] for m in server.messages()] == ["seen"] * 3
    log = server.log()
    assert (f": reject: RCPT from {CLIENT}: 554 5.7.1 <{rcpt_for(server, 'reject')}>: "
            "Recipient address rejected: go away; from=<a@example.org>") in log


def test_unix_socket_server(server_factory, policy_factory):
    d = tempfile.mkdtemp(prefix="policy-")
    try:
        os.chmod(d, 0o755)
        policy = policy_factory(unix_dir=d)
        server = server_factory(
            f"smtpd_recipient_restrictions=check_policy_service {policy.endpoint}, "
            "reject_unauth_destination", services=())
        s = session(server)
        rcpt = rcpt_for(server, "reject")
        assert s.cmd(f"RCPT TO:<{rcpt}>") == (
            f"554 5.7.1 <{rcpt}>: Recipient address rejected: go away")
        assert s.cmd(f"RCPT TO:<{rcpt_for(server, 'ok')}>").startswith("250 ")
        s.cmd("QUIT")
        assert len(policy.requests) == 2
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_relative_path_is_below_the_queue_directory(server_factory, policy_factory):
    server = server_factory("smtpd_recipient_restrictions=check_policy_service "
                            "unix:private/policy, reject_unauth_destination", services=())
    policy = policy_factory(unix_dir=str(server.dir / "spool" / "private"))
    s = session(server)
    rcpt = rcpt_for(server, "reject")
    assert s.cmd(f"RCPT TO:<{rcpt}>") == (
        f"554 5.7.1 <{rcpt}>: Recipient address rejected: go away")
    s.cmd("QUIT")
    assert len(policy.requests) == 1


def test_silent_server_gives_the_default_action_after_the_timeout(server_factory,
                                                                   policy_factory):
    policy = policy_factory(answer=lambda attrs: None)
    server = server_factory(
        f"smtpd_recipient_restrictions=check_policy_service {policy.endpoint}, "
        "reject_unauth_destination", "smtpd_policy_service_timeout=2s",
        "smtpd_policy_service_try_limit=1", services=())
    s = session(server)
    rcpt = rcpt_for(server, "ok")
    started = time.monotonic()
    assert s.cmd(f"RCPT TO:<{rcpt}>") == (
        f"451 4.3.5 <{rcpt}>: Recipient address rejected: Server configuration problem")
    took = time.monotonic() - started
    assert 1.5 < took < 10, took
    s.cmd("QUIT")
    assert len(policy.requests) == 1
    assert (f"problem talking to policy server {policy.endpoint}: timeout while reading "
            "the reply") in server.log()


@pytest.mark.parametrize("reply", [
    "hello\n\n",
    "foo=bar\n\n",
    "action=OK\naction=REJECT\n\n",
    "x=" + "y" * 5000 + "\naction=OK\n\n",
    "".join(f"a{i}=b\n" for i in range(200)) + "action=OK\n\n",
])
def test_bad_replies_are_retried_then_the_default_action(server_factory, policy_factory,
                                                         reply):
    policy = policy_factory(answer=lambda attrs: reply)
    server = server_factory(
        f"smtpd_recipient_restrictions=check_policy_service {policy.endpoint}, "
        "reject_unauth_destination", "smtpd_policy_service_retry_delay=0s",
        "smtpd_policy_service_default_action=DEFER policy server down", services=())
    s = session(server)
    rcpt = rcpt_for(server, "ok")
    assert s.cmd(f"RCPT TO:<{rcpt}>") == (
        f"450 4.7.1 <{rcpt}>: Recipient address rejected: policy server down")
    s.cmd("QUIT")
    # Two tries (smtpd_policy_service_try_limit), each on a new connection.
    assert wait_until(lambda: len(policy.requests) == 2, timeout=5)
    assert policy.connections == 2
    assert "problem talking to policy server" in server.log()


def test_a_client_cannot_inject_attributes(server_factory, policy_factory):
    policy = policy_factory()
    server = server_factory(
        f"smtpd_recipient_restrictions=check_policy_service {policy.endpoint}, "
        "reject_unauth_destination", services=())
    s = server.raw()
    assert s.reply().startswith("220 ")
    # A bare CR must not end a policy request line: smtpd refuses the
    # line (and may end the session); the policy server never sees a
    # recipient the client wrote into its HELO.
    try:
        s.send("EHLO client.example\rrecipient=x@evil.example\r\n")
        s.reply()
        s.cmd("EHLO client.example")
        s.cmd("MAIL FROM:<a@example.org>")
        s.cmd(f"RCPT TO:<{rcpt_for(server, 'ok')}>")
        s.cmd("QUIT")
    except OSError:
        pass
    s = session(server)
    assert s.cmd(f"RCPT TO:<{rcpt_for(server, 'ok')}>").startswith("250 ")
    s.cmd("QUIT")
    assert policy.requests
    for r in policy.requests:
        assert [n for n, _ in r].count("recipient") == 1
        assert dict(r)["recipient"] != "x@evil.example"
        assert "\r" not in dict(r)["helo_name"]


def test_tls_attributes(server_factory, policy_factory, certs):  # noqa: F811
    policy = policy_factory()
    server = server_factory(
        *tls_settings(certs, "may", "smtpd_tls_ask_ccert=yes"),
        f"smtpd_recipient_restrictions=check_policy_service {policy.endpoint}, "
        "reject_unauth_destination", services=())
    c = server.smtp()
    c.starttls(context=client_context(certs, "client"))
    c.ehlo("client.example")
    c.mail("a@example.org")
    assert c.rcpt(rcpt_for(server, "ok"))[0] == 250
    c.quit()
    r = dict(policy.requests[0])
    assert r["encryption_protocol"].startswith("TLSv1.")
    assert r["encryption_cipher"] != ""
    assert int(r["encryption_keysize"]) >= 128
    assert r["ccert_subject"] == "client.example"
    assert r["ccert_issuer"] == "Postern Test CA"
    assert r["ccert_fingerprint"] != ""


def test_a_connection_the_server_closed_is_replaced_without_a_failure(server_factory,
                                                                      policy_factory):
    policy = policy_factory()
    policy.one_per_connection = True
    server = server_factory(
        f"smtpd_recipient_restrictions=check_policy_service {policy.endpoint}, "
        "reject_unauth_destination", services=())
    s = session(server)
    for ext in ("ok", "dunno", "ok"):
        assert s.cmd(f"RCPT TO:<{rcpt_for(server, ext)}>") == "250 2.1.5 Ok"
    s.cmd("QUIT")
    assert len(policy.requests) == 3
    assert wait_until(lambda: policy.connections == 3, timeout=5)
    assert "problem talking to policy server" not in server.log()

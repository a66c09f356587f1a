"""Header address rewriting in cleanup (global/header_rewrite): canonical
mapping, masquerading and qualification of From:, To:, Cc: ... for mail
posted locally and for the SMTP clients local_header_rewrite_clients
allows; other clients' headers only with remote_header_rewrite_domain.

Real instances (live.server_factory): mail submitted with the real
sendmail (postdrop, pickup) and over SMTP with smtplib from 127.0.0.1,
delivered by local, read back from the mbox.
"""

import os
import pwd
import time

import pytest

from conftest import run as run_cmd
from live import BIN, server_factory, wait_until  # noqa: F401 (fixture)
from test_smtpd_sasl import PASSWORD, USER, sasl_dir  # noqa: F401 (fixture)

CANONICAL = "canonical_maps=inline:{ @old.example=@new.example }"

HEADERS = ('From: "Public, Joe Q." <joe@old.example>\n'
           "To: Friends: ann@old.example, bob (Bob Smith);, <carol@old.example>\n"
           "Cc: <broken@old.example, dave@old.example\n"
           "Reply-To: (office) replies@old.example\n"
           "Subject: {subject}\n"
           "\n"
           "body\n")


@pytest.fixture
def login(unprivileged_dir):
    return unprivileged_dir[1] or pwd.getpwuid(os.geteuid()).pw_name


def delivered(server, count=1):
    assert wait_until(lambda: len(server.messages()) >= count and server.queue_empty(),
                      timeout=30), server.log()
    time.sleep(0.3)
    msgs = server.messages()
    assert len(msgs) == count
    return msgs


def send_smtp(server, text, rcpt):
    c = server.smtp()
    c.ehlo()
    refused = c.sendmail("joe@old.example", [rcpt], text)
    c.quit()
    assert refused == {}


def hdr(m, name):
    """A header unfolded: folding only added line breaks."""
    return m[name].replace("\r", "").replace("\n", "")


def assert_rewritten(m, origin):
    # Only the addresses change: display names, comments and the group stay.
    assert hdr(m, "From") == '"Public, Joe Q." <joe@new.example>'
    assert hdr(m, "To") == (f"Friends: ann@new.example, bob@{origin} (Bob Smith);, "
                       "<carol@new.example>")
    assert hdr(m, "Reply-To") == "(office) replies@new.example"
    # A header that does not parse is left exactly as it was.
    assert hdr(m, "Cc") == "<broken@old.example, dave@old.example"


def assert_untouched(m):
    assert hdr(m, "From") == '"Public, Joe Q." <joe@old.example>'
    assert hdr(m, "To") == "Friends: ann@old.example, bob (Bob Smith);, <carol@old.example>"
    assert hdr(m, "Reply-To") == "(office) replies@old.example"


def test_local_submission_headers_are_canonicalized_and_qualified(server_factory, login):
    server = server_factory(CANONICAL, services=("qmgr", "local", "pickup"))
    r = run_cmd([BIN / "sendmail", "-C", server.dir, "-f", "joe@old.example", server.addr],
                user=server.inst.user, input=HEADERS.format(subject="local"), timeout=60)
    assert r.returncode == 0, r.stderr
    (m,) = delivered(server)
    assert_rewritten(m, "test.example")  # myorigin = myhostname
    assert m["Return-Path"] == "<joe@new.example>"


@pytest.mark.parametrize("clients", [
    None,  # the default, permit_inet_interfaces: 127.0.0.1 is the machine's
    "permit_mynetworks",
    "static:all",
    "permit_sasl_authenticated, permit_mynetworks",
])
def test_smtp_clients_allowed_get_their_headers_rewritten(server_factory, login, clients):
    settings = [CANONICAL, "mynetworks=127.0.0.0/8"]
    if clients is not None:
        settings.append(f"local_header_rewrite_clients={clients}")
    server = server_factory(*settings)
    send_smtp(server, HEADERS.format(subject="smtp"), server.addr)
    (m,) = delivered(server)
    assert_rewritten(m, "test.example")


def test_permit_sasl_authenticated_counts_only_after_auth(server_factory, login, sasl_dir):
    server = server_factory(CANONICAL, "smtpd_sasl_auth_enable=yes",
                            f"cyrus_sasl_config_path={sasl_dir}",
                            "local_header_rewrite_clients=permit_sasl_authenticated")
    for authenticate in (False, True):
        c = server.smtp()
        c.ehlo()
        if authenticate:
            c.login(USER, PASSWORD)
        subject = "auth" if authenticate else "anonymous"
        assert c.sendmail("joe@old.example", [server.addr],
                          HEADERS.format(subject=subject)) == {}
        c.quit()
    msgs = {m["Subject"]: m for m in delivered(server, 2)}
    assert_rewritten(msgs["auth"], "test.example")
    assert_untouched(msgs["anonymous"])


def test_inet_interfaces_names_the_addresses_that_count(server_factory, login):
    server = server_factory(CANONICAL, "inet_interfaces=192.0.2.1")
    send_smtp(server, HEADERS.format(subject="smtp"), server.addr)
    (m,) = delivered(server)
    assert_untouched(m)


def test_other_clients_headers_are_left_alone(server_factory, login, unprivileged_dir):
    table = unprivileged_dir[0] / "header-clients.cidr"
    table.write_text("192.0.2.0/24 OK\n10.0.0.0/8 OK\n")
    table.chmod(0o644)
    server = server_factory(CANONICAL, f"local_header_rewrite_clients=cidr:{table}")
    send_smtp(server, HEADERS.format(subject="remote"), server.addr)
    (m,) = delivered(server)
    assert_untouched(m)
    assert hdr(m, "Cc") == "<broken@old.example, dave@old.example"
    # The envelope is rewritten whatever the client.
    assert m["Return-Path"] == "<joe@new.example>"


def test_remote_header_rewrite_domain_rewrites_other_clients_headers(server_factory, login):
    server = server_factory(CANONICAL, "local_header_rewrite_clients=",
                            "remote_header_rewrite_domain=remote.example")
    send_smtp(server, HEADERS.format(subject="remote"), server.addr)
    (m,) = delivered(server)
    assert_rewritten(m, "remote.example")


def test_header_classes_and_masquerading(server_factory, login):
    server = server_factory(CANONICAL, "canonical_classes=envelope_sender, header_recipient",
                            "masquerade_domains=example.org",
                            "masquerade_classes=header_sender")
    text = ("From: joe@host.example.org\nSender: x@old.example\n"
            "To: a@host.example.org, b@old.example\nSubject: classes\n\nbody\n")
    send_smtp(server, text, server.addr)
    (m,) = delivered(server)
    # Sender headers: masqueraded, not canonical; recipient headers: the reverse.
    assert hdr(m, "From") == "joe@example.org"
    assert hdr(m, "Sender") == "x@old.example"
    assert hdr(m, "To") == "a@host.example.org, b@new.example"


def test_a_header_that_grows_is_folded_again(server_factory, login):
    server = server_factory(
        "canonical_maps=inline:{ @old.example=@a-much-longer-domain-name.new.example }")
    rcpts = ", ".join(f"user{i}@old.example" for i in range(6))
    text = f"From: me@old.example\nTo: {rcpts}\nSubject: fold\n\nbody\n"
    send_smtp(server, text, server.addr)
    (m,) = delivered(server)
    want = ", ".join(f"user{i}@a-much-longer-domain-name.new.example" for i in range(6))
    raw = m.as_string()
    to_lines = raw[raw.index("\nTo: ") + 1:raw.index("\nSubject: ")].split("\n")
    assert len(to_lines) > 1
    assert all(len(line) <= 78 for line in to_lines), to_lines
    assert all(line[0] in " \t" for line in to_lines[1:]), to_lines
    assert "".join(to_lines) == "To: " + want


def test_a_failing_canonical_table_defers_and_loses_nothing(server_factory, login):
    server = server_factory("sender_canonical_maps=fail:broken", services=())
    c = server.smtp()
    c.ehlo()
    c.mail("")  # the null sender skips the envelope lookup; the header does not
    c.rcpt(server.addr)
    code, text = c.data("From: joe@old.example\nSubject: x\n\nbody\n")
    c.quit()
    assert code == 451, text
    assert "sender_canonical_maps" in server.log(), server.log()
    assert server.queue_empty()

"""Envelope rewriting when mail is queued (global/addr_rewrite through
global/cleanup): virtual_alias_maps and virtual_alias_domains, canonical
maps and masquerading; and smtpd refusing an unknown virtual alias at RCPT.

Real instances: smtpd on a loopback port with qmgr and local behind it
(live.server_factory), mail sent with smtplib, results read from
the mailbox local wrote (Return-Path:, X-Original-To:, Delivered-To:) and
from the log.
"""

import os
import pwd
import re
import time

import pytest

from conftest import run as run_cmd
from live import BIN, server_factory, wait_until  # noqa: F401 (fixture)


@pytest.fixture
def login(unprivileged_dir):
    """The account the instances run as, which local delivers to."""
    return unprivileged_dir[1] or pwd.getpwuid(os.geteuid()).pw_name


def send(server, rcpts, sender="sender@example.org", subject="hi"):
    c = server.smtp()
    c.ehlo()
    refused = c.sendmail(sender, rcpts, f"From: {sender}\nSubject: {subject}\n\nbody\n")
    c.quit()
    return refused


def delivered(server, count):
    assert wait_until(lambda: len(server.messages()) >= count and server.queue_empty(),
                      timeout=30), server.log()
    time.sleep(0.3)
    msgs = server.messages()
    assert len(msgs) == count, [m["Delivered-To"] for m in msgs]
    return msgs


def test_virtual_alias_one_to_many_and_recursive_keeps_the_original_recipient(
        server_factory, login):
    server = server_factory(
        "virtual_alias_domains=valias.test",
        f"virtual_alias_maps=inline:{{ {{ team@valias.test = lead@valias.test, "
        f"{login}@test.example }}, lead@valias.test={login}+lead@test.example }}")
    send(server, ["team@valias.test"])
    msgs = delivered(server, 2)
    assert sorted(m["Delivered-To"] for m in msgs) == sorted(
        [f"{login}@test.example", f"{login}+lead@test.example"])
    assert {m["X-Original-To"] for m in msgs} == {"team@valias.test"}
    assert re.search(rf"to=<{login}\+lead@test\.example>, orig_to=<team@valias\.test>, "
                     r"relay=local", server.log()), server.log()


def test_an_address_mapping_to_itself_keeps_a_copy(server_factory, login):
    # "user@d user@d, other" keeps the mail and sends a copy on (team is a
    # local alias of the login in the instance's aliases).
    server = server_factory(
        "virtual_alias_domains=valias.test",
        f"virtual_alias_maps=inline:{{ {{ me@valias.test = me@valias.test, "
        f"{login}@test.example }}, {{ {login}@test.example = {login}@test.example, "
        "team@test.example } }")
    send(server, [f"{login}@test.example"])
    delivered(server, 2)
    assert re.search(r"nrcpt=2 \(queue active\)", server.log()), server.log()


def test_an_unmatched_extension_propagates_to_the_result(server_factory, login):
    server = server_factory("virtual_alias_domains=valias.test",
                            f"virtual_alias_maps=inline:{{ @valias.test={login}@test.example, "
                            f"sales@valias.test={login}+sales@test.example }}")
    send(server, ["any+box@valias.test", "sales+eu@valias.test", "sales@valias.test"])
    msgs = delivered(server, 3)
    assert sorted(m["Delivered-To"] for m in msgs) == sorted(
        [f"{login}+box@test.example", f"{login}+sales+eu@test.example",
         f"{login}+sales@test.example"])


def test_alias_loop_defers_with_4_6_0_and_queues_nothing(server_factory, login):
    server = server_factory("virtual_alias_domains=valias.test",
                            "virtual_alias_maps=inline:{ a@valias.test=b@valias.test, "
                            "b@valias.test=a@valias.test }", "virtual_alias_recursion_limit=20")
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    assert c.rcpt("a@valias.test")[0] == 250
    code, text = c.data("Subject: loop\n\nbody\n")
    c.quit()
    assert (code, text.decode()) == (451, "4.6.0 Error: alias expansion error")
    assert re.search(r"warning: \w+: virtual_alias_maps: more than virtual_alias_recursion_limit "
                     r"\(20\) steps for a@valias\.test \(a loop\?\) -- message not accepted",
                     server.log()), server.log()
    assert server.queued() == [] and server.queue_empty()


def test_expansion_limit_defers(server_factory, login):
    members = ", ".join(f"m{i}@example.net" for i in range(6))
    server = server_factory(f"virtual_alias_maps=inline:{{ {{ list@test.example = {members} }} }}",
                            "virtual_alias_expansion_limit=5")
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    assert c.rcpt("list@test.example")[0] == 250  # an alias is a known recipient
    code, text = c.data("Subject: big\n\nbody\n")
    c.quit()
    assert code == 451 and text.decode().startswith("4.6.0")
    assert "more than virtual_alias_expansion_limit (5) addresses for list@test.example" \
        in server.log()


def test_virtual_alias_table_error_defers_never_bounces(server_factory, login):
    server = server_factory("virtual_alias_maps=fail:broken")
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    code, text = c.rcpt(f"{login}@test.example")
    c.quit()
    # smtpd asks the same table at RCPT: a temporary failure there too.
    assert code == 451 and text.decode().startswith("4.3.0"), text
    # Without that check, the queue-file writer refuses the message for now.
    server = server_factory("virtual_alias_maps=fail:broken", "smtpd_reject_unlisted_recipient=no")
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    assert c.rcpt(f"{login}@test.example")[0] == 250
    code, text = c.data("Subject: later\n\nbody\n")
    c.quit()
    assert (code, text.decode()) == (451, "4.6.0 Error: alias expansion error")
    assert "virtual_alias_maps: fail:broken" in server.log()
    assert server.queued() == []


def test_unknown_virtual_alias_is_refused_at_rcpt(server_factory, login):
    server = server_factory("virtual_alias_domains=valias.test",
                            f"virtual_alias_maps=inline:{{ known@valias.test={login} }}",
                            services=())
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    assert c.rcpt("known@valias.test")[0] == 250
    code, text = c.rcpt("nobody-here@valias.test")
    c.quit()
    assert (code, text.decode()) == (550, "5.1.1 <nobody-here@valias.test>: Recipient address "
                                          "rejected: User unknown in virtual alias table")
    assert re.search(r"\w+: reject: RCPT from \S+\[127\.0\.0\.1\]: 550 5\.1\.1 "
                     r"<nobody-here@valias\.test>: Recipient address rejected: User unknown in "
                     r"virtual alias table; from=<sender@example\.org> to=<nobody-here@valias\.test>",
                     server.log()), server.log()


def test_canonical_maps_rewrite_sender_and_recipient(server_factory, login):
    server = server_factory(
        "sender_canonical_maps=inline:{ old@example.org=new@example.org }",
        f"recipient_canonical_maps=inline:{{ inbox@test.example={login}@test.example }}",
        "canonical_maps=inline:{ @example.org=@example.com }")
    send(server, ["inbox@test.example"], sender="old@example.org")
    (m,) = delivered(server, 1)
    # sender_canonical_maps first, then canonical_maps' @domain form.
    assert m["Return-Path"] == "<new@example.com>"
    assert m["Delivered-To"] == f"{login}@test.example"
    assert m["X-Original-To"] == "inbox@test.example"
    # The client is on one of the instance's addresses
    # (local_header_rewrite_clients = permit_inet_interfaces): the From:
    # header is rewritten as the envelope sender (test_header_rewrite.py).
    assert m["From"] == "new@example.com"


def test_canonical_classes_limits_what_is_rewritten(server_factory, login):
    server = server_factory("canonical_maps=inline:{ @example.org=@example.com }",
                            "canonical_classes=envelope_recipient")
    send(server, [f"{login}@test.example"], sender="someone@example.org")
    (m,) = delivered(server, 1)
    assert m["Return-Path"] == "<someone@example.org>"


def test_masquerade_domains_with_exceptions(server_factory, login):
    server = server_factory("masquerade_domains=!keep.example.org, example.org",
                            "masquerade_exceptions=root")
    for sender in ("alice@host.sub.example.org", "root@host.example.org",
                   "bob@x.keep.example.org", "carol@example.org"):
        send(server, [f"{login}@test.example"], sender=sender, subject=sender)
    msgs = delivered(server, 4)
    paths = {m["Subject"]: m["Return-Path"] for m in msgs}
    assert paths == {"alice@host.sub.example.org": "<alice@example.org>",
                     "root@host.example.org": "<root@host.example.org>",
                     "bob@x.keep.example.org": "<bob@x.keep.example.org>",
                     "carol@example.org": "<carol@example.org>"}


def test_masquerading_the_envelope_recipient_only_when_asked(server_factory, login):
    server = server_factory("masquerade_domains=example", "mydestination=test.example, example",
                            "masquerade_classes=envelope_sender, envelope_recipient")
    send(server, [f"{login}@test.example"], sender="x@a.example")
    (m,) = delivered(server, 1)
    assert m["Return-Path"] == "<x@example>"
    assert m["Delivered-To"] == f"{login}@example"
    assert m["X-Original-To"] == f"{login}@test.example"


def test_an_unaliased_address_in_an_alias_domain_that_gets_queued_bounces(server_factory, login):
    server = server_factory("virtual_alias_domains=valias.test",
                            f"virtual_alias_maps=inline:{{ known@valias.test={login} }}",
                            "smtpd_reject_unlisted_recipient=no")
    send(server, ["stray@valias.test"], sender=f"{login}@test.example")
    assert wait_until(lambda: re.search(
        r"to=<stray@valias\.test>, relay=none, .*dsn=5\.1\.1, status=bounced \(User unknown "
        r"in virtual alias table\)", server.log()), timeout=30), server.log()
    (dsn,) = delivered(server, 1)
    assert dsn.get_content_type() == "multipart/report"


def test_a_rebuilt_virtual_table_is_used_for_the_next_message(server_factory, login):
    server = server_factory("virtual_alias_domains=valias.test",
                            "virtual_alias_maps=hash:$config_directory/virtual")
    table = server.dir / "virtual"

    def build(text):
        table.write_text(text)
        r = run_cmd([BIN / "postmap", "-c", server.dir, f"hash:{table}"], user=server.inst.user)
        assert r.returncode == 0, r.stderr

    build(f"team@valias.test {login}+one@test.example\n")
    send(server, ["team@valias.test"], subject="first")
    delivered(server, 1)
    time.sleep(1.1)  # a new modification time
    build(f"team@valias.test {login}+two@test.example\n")
    send(server, ["team@valias.test"], subject="second")
    msgs = delivered(server, 2)
    assert {m["Subject"]: m["Delivered-To"] for m in msgs} == {
        "first": f"{login}+one@test.example", "second": f"{login}+two@test.example"}
    assert "virtual_alias_maps: table has changed -- opening it again" in server.log()


def test_relocated_recipient_is_refused_at_rcpt_with_its_new_address(server_factory, login):
    # Postfix's smtpd: "550 5.1.6 <addr>: Recipient address rejected: User has
    # moved to NEW", for a local user, a domain entry, and a remote address
    # that passed the relay check (mynetworks); canonical entries win.
    server = server_factory(
        "relocated_maps=inline:{ old@test.example=new@example.net, "
        "@gone.example=someone@example.net, far@example.com=far@example.net, "
        "mapped@test.example=nowhere }",
        f"recipient_canonical_maps=inline:{{ mapped@test.example={login}@test.example }}",
        "mynetworks=127.0.0.0/8", services=())
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    answers = {rcpt: c.rcpt(rcpt) for rcpt in
               ("old@test.example", "x@gone.example", "far@example.com",
                "mapped@test.example")}
    c.quit()
    for rcpt, new in (("old@test.example", "new@example.net"),
                      ("x@gone.example", "someone@example.net"),
                      ("far@example.com", "far@example.net")):
        code, text = answers[rcpt]
        assert (code, text.decode()) == (
            550, f"5.1.6 <{rcpt}>: Recipient address rejected: User has moved to {new}")
    assert answers["mapped@test.example"][0] == 250
    assert re.search(r"NOQUEUE: reject: RCPT from \S+\[127\.0\.0\.1\]: 550 5\.1\.6 "
                     r"<old@test\.example>: Recipient address rejected: User has moved to "
                     r"new@example\.net; from=<sender@example\.org> to=<old@test\.example> "
                     r"proto=ESMTP", server.log()), server.log()


def test_relocated_table_error_answers_451_and_queues_nothing(server_factory, login):
    server = server_factory("relocated_maps=fail:broken", services=())
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    code, text = c.rcpt(f"{login}@test.example")
    c.quit()
    assert (code, text.decode()) == (
        451, f"4.3.0 <{login}@test.example>: Temporary lookup failure")
    assert "relocated_maps: fail:broken" in server.log(), server.log()
    assert "client=" not in server.log()

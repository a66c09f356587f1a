"""System tests for smtpd(8), the SMTP server.

Every test runs a real instance (`postern init`, `postern start`) whose
smtpd listens on a loopback port chosen here (never port 25), with
master, qmgr and local behind it, and talks to it with real clients:
Python's smtplib, swaks, Postfix's smtp-source, and raw sockets where a
test must send what no well-behaved client would (smuggling sequences,
pipelining violations, overlong lines). Mail arrives in the instance
user's mbox. Daemon sanitizer reports fail the test, as in test_local.py.
"""

import re
import smtplib
import subprocess
import time

import pytest

from conftest import run as run_cmd
from live import BIN, PrivatePostfix, queued_ids, wait_until
from live import server, server_factory  # noqa: F401 (fixtures)

# ---- delivery with real clients ----

def test_smtplib_delivers_to_a_local_mbox_with_received_and_logs(server):
    c = server.smtp()
    code, banner = c.ehlo()
    assert code == 250
    for ext in ("pipelining", "size", "8bitmime", "dsn", "smtputf8", "enhancedstatuscodes",
                "chunking"):
        assert c.has_extn(ext), ext
    assert c.esmtp_features["size"] == "10240000"
    msg = ("From: sender@example.org\r\nSubject: hello smtpd\r\n\r\nline one\r\n"
           ".leading dot\r\n..two dots\r\n.\r\n")
    c.mail("sender@example.org")
    c.rcpt(server.addr)
    code, text = c.data(msg.encode())
    assert code == 250
    (qid,) = queued_ids(f"250 {text.decode()}")
    c.quit()
    assert wait_until(lambda: server.messages() and server.queue_empty()), server.log()
    (m,) = server.messages()
    assert m["Subject"] == "hello smtpd"
    assert m.get_payload() == "line one\n.leading dot\n..two dots\n.\n"
    received = " ".join(m["Received"].split())
    assert received.startswith("from client.example (localhost [127.0.0.1]) by test.example "
                               f"(Postern) with ESMTP id {qid} for <{server.addr}>;"), received
    log = server.log()
    assert "connect from localhost[127.0.0.1]" in log
    assert f"{qid}: client=localhost[127.0.0.1]" in log
    assert ("disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 "
            "commands=5") in log


def test_swaks_delivers_one_message(server):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.port}", "--helo", "swaks.example",
                        "--from", "someone@example.org", "--to", server.addr,
                        "--header", "Subject: from swaks", "--body", "swaks body"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0 Ok: queued as" in r.stdout
    assert wait_until(lambda: server.messages() and server.queue_empty()), server.log()
    (m,) = server.messages()
    assert m["Subject"] == "from swaks"
    assert "swaks body" in m.get_payload()
    assert "from swaks.example (localhost [127.0.0.1])" in " ".join(m["Received"].split())


def test_smtp_source_200_messages_in_10_sessions_arrive_exactly_once(server):
    r = subprocess.run(["/usr/sbin/smtp-source", "-s", "10", "-m", "200", "-l", "2048",
                        "-f", "load@example.org", "-t", server.addr,
                        f"127.0.0.1:{server.port}"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_until(lambda: len(server.messages()) >= 200 and server.queue_empty(),
                      timeout=180), server.log()[-3000:]
    time.sleep(0.5)
    msgs = server.messages()
    assert len(msgs) == 200
    # Each message went to the queue once: 200 distinct queue ids, each in
    # exactly one Received: header and delivered once.
    ids = [re.search(r" id (\w+)", " ".join(m["Received"].split())).group(1) for m in msgs]
    assert len(set(ids)) == 200
    assert server.log().count("status=sent") == 200


@pytest.fixture
def postfix_relay():
    """A private Postfix instance (live.PrivatePostfix); yields a function
    that points its relayhost at a port and starts it."""
    if not PrivatePostfix.available:
        pytest.skip("needs root and the postfix package")
    pf = PrivatePostfix()

    def start(relay_port):
        return pf.start(f"relayhost=[127.0.0.1]:{relay_port}")

    yield start
    pf.stop()


def test_postfix_relays_to_postern_byte_for_byte(server, postfix_relay):
    pf_port = postfix_relay(server.port)
    body = ("first line\r\n.starts with a dot\r\n..two dots\r\n\r\n" + "x" * 900 + "\r\n"
            "caf\u00e9 8-bit\r\n  indented\r\nlast line without much\r\n")
    msg = ("From: a@pf.example\r\nTo: " + server.addr + "\r\nSubject: via postfix\r\n"
           "Message-ID: <relay-test@pf.example>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + body)
    c = smtplib.SMTP("127.0.0.1", pf_port, local_hostname="origin.example", timeout=30)
    c.sendmail("a@pf.example", [server.addr], msg.encode(), mail_options=["BODY=8BITMIME"])
    c.quit()
    assert wait_until(lambda: server.messages() and server.queue_empty(), timeout=60), server.log()
    (m,) = server.messages()
    assert m.get_payload(decode=True) == body.replace("\r\n", "\n").encode()
    received = [" ".join(r.split()) for r in m.get_all("Received")]
    assert received[0].startswith("from pf.example (localhost [127.0.0.1]) by test.example "
                                  "(Postern) with ESMTP id "), received
    assert received[1].startswith("from origin.example (localhost [127.0.0.1]) by pf.example "
                                  "(Postfix) with ESMTP id "), received


def test_unknown_local_user_is_refused_at_rcpt(server):
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    code, text = c.rcpt("nosuchuser@test.example")
    assert code == 550
    assert text.decode() == ("5.1.1 <nosuchuser@test.example>: Recipient address rejected: "
                             "User unknown in local recipient table")
    # An alias, and the user with an address extension, are known.
    assert c.rcpt("team@test.example")[0] == 250
    assert c.rcpt(f"{server.login}+ext@test.example")[0] == 250
    c.quit()
    assert ("NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 "
            "<nosuchuser@test.example>: Recipient address rejected: User unknown in local "
            "recipient table; from=<sender@example.org> to=<nosuchuser@test.example> "
            "proto=ESMTP helo=<client.example>") in server.log()


def test_a_rebuilt_alias_table_is_seen_by_the_next_session(server):
    def rcpt(addr):
        c = server.smtp()
        c.ehlo()
        c.mail("a@example.org")
        code = c.rcpt(addr)[0]
        c.quit()
        return code

    assert rcpt("newalias@test.example") == 550
    time.sleep(1.1)  # a new modification time
    (server.dir / "aliases").write_text(f"postmaster: {server.login}\nnewalias: {server.login}\n")
    r = run_cmd([BIN / "postalias", "-c", server.dir, f"hash:{server.dir}/aliases"],
                user=server.inst.user)
    assert r.returncode == 0, r.stderr
    assert rcpt("newalias@test.example") == 250
    assert "local_recipient_maps: table has changed -- opening it again" in server.log()


def test_unknown_virtual_mailbox_is_refused_at_rcpt(server_factory):
    server = server_factory("virtual_mailbox_domains=virt.example",
                            "virtual_mailbox_maps=inline:{ known@virt.example=virt/known/ }",
                            services=())
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    assert c.rcpt("known@Virt.Example.")[0] == 250
    assert c.rcpt("known+tag@virt.example")[0] == 250
    code, text = c.rcpt("other@virt.example")
    assert (code, text.decode()) == (550, "5.1.1 <other@virt.example>: Recipient address "
                                          "rejected: User unknown in virtual mailbox table")
    c.quit()


# ---- extensions ----

def test_pipelined_group_gets_every_reply(server):
    s = server.raw()
    assert s.reply().startswith("220 ")
    assert "PIPELINING" in s.cmd("EHLO client.example")
    s.send(f"MAIL FROM:<a@example.org>\r\nRCPT TO:<{server.addr}>\r\n"
           "RCPT TO:<nobody-here@test.example>\r\nDATA\r\n")
    assert s.reply() == "250 2.1.0 Ok"
    assert s.reply() == "250 2.1.5 Ok"
    assert s.reply().startswith("550 5.1.1 ")
    assert s.reply().startswith("354 ")
    s.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    assert queued_ids(s.reply())
    assert s.reply() == "221 2.0.0 Bye"
    s.close()
    assert wait_until(lambda: server.messages()), server.log()
    assert server.messages()[0]["Subject"] == "pipelined"


def test_talking_before_the_greeting_or_past_ehlo_is_refused(server):
    # The client speaks at once; smtpd looks up the client's name before it
    # greets, so the EHLO is there first. A busy machine may still let the
    # greeting win a race now and then: a few tries.
    for _ in range(5):
        s = server.raw()
        s.send("EHLO early.example\r\n")
        reply = s.reply()
        if not reply.startswith("220 "):
            break
        s.close()
    assert reply.startswith("554 5.5.0 Error: SMTP protocol synchronization"), reply
    assert s.closed()
    s = server.raw()
    assert s.reply().startswith("220 ")
    s.send("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n")
    assert s.reply().startswith("554 5.5.0 ")
    assert s.closed()
    log = server.log()
    assert "improper command pipelining after CONNECT from localhost[127.0.0.1]: EHLO" in log
    assert "improper command pipelining after EHLO from localhost[127.0.0.1]" in log


def test_improper_pipelining_is_only_logged_when_allowed(server_factory):
    server = server_factory("smtpd_forbid_unauth_pipelining=no")
    s = server.raw()
    assert s.reply().startswith("220 ")
    s.send("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n")
    assert s.reply().startswith("250-test.example")
    assert s.reply() == "250 2.1.0 Ok"
    assert s.cmd("QUIT") == "221 2.0.0 Bye"
    assert "improper command pipelining after EHLO from localhost[127.0.0.1]" in server.log()


def test_unicode_addresses_need_smtputf8(server):
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<j\u00f6rg@example.org>") == (
        "553 5.6.7 Must declare SMTPUTF8 to send unicode address")
    assert s.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 Ok"
    assert s.cmd("RCPT TO:<\u00fc@b\u00fccher.example>").startswith("553 5.6.7 ")
    assert s.cmd("RSET") == "250 2.0.0 Ok"
    assert s.cmd("MAIL FROM:<j\u00f6rg@example.org> SMTPUTF8") == "250 2.1.0 Ok"
    assert s.cmd("RCPT TO:<\u00fc@b\u00fccher.example>") == "250 2.1.5 Ok"


def test_size_parameter_over_the_limit_is_refused(server_factory):
    server = server_factory("message_size_limit=20000")
    c = server.smtp()
    c.ehlo()
    assert c.esmtp_features["size"] == "20000"
    code, text = c.mail("sender@example.org", ["SIZE=20001"])
    assert (code, text.decode()) == (552, "5.3.4 Message size exceeds fixed limit")
    assert c.mail("sender@example.org", ["SIZE=100"])[0] == 250
    c.rcpt(server.addr)
    code, text = c.data(("Subject: big\r\n\r\n" + "x" * 100 + "\r\n") * 300)
    assert code == 552 and text.decode().startswith("5.3.4 "), text
    c.quit()
    time.sleep(0.5)
    assert server.queue_empty() and server.messages() == []


def test_dsn_parameters_land_in_the_queue_file(server_factory):
    server = server_factory(services=())  # no qmgr: the file stays in incoming
    c = server.smtp()
    c.ehlo()
    assert c.mail("sender@example.org", ["RET=HDRS", "ENVID=env+2Bid42", "BODY=8BITMIME",
                                         "SMTPUTF8"])[0] == 250
    assert c.rcpt(server.addr, ["NOTIFY=SUCCESS,DELAY",
                                "ORCPT=rfc822;orig+2Bx@example.org"])[0] == 250
    assert c.rcpt(f"{server.login}+two@test.example", ["NOTIFY=NEVER"])[0] == 250
    assert c.rcpt("team@test.example", ["NOTIFY=NEVER,SUCCESS"])[0] == 501
    assert c.rcpt("team@test.example", ["X-UNKNOWN=1"])[0] == 555
    code, text = c.data(b"Subject: dsn\r\n\r\nbody\r\n")
    assert code == 250
    qid = text.decode().split()[-1]
    c.quit()
    out = server.postcat(qid)
    assert "named_attribute: dsn_ret=HDRS" in out
    assert "named_attribute: dsn_envid=env+id42" in out
    assert "named_attribute: body_type=8BITMIME" in out
    assert "named_attribute: smtputf8=1" in out
    assert "named_attribute: protocol=ESMTP" in out
    assert "named_attribute: helo_name=client.example" in out
    assert "dsn_orig_rcpt: rfc822;orig+x@example.org" in out
    assert "dsn_notify_flags: 10" in out
    assert "dsn_notify_flags: 1" in out


def test_bdat_chunks_make_one_message(server):
    s = server.raw()
    assert s.reply().startswith("220 ")
    assert "CHUNKING" in s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250 ")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("250 ")
    part1 = b"Subject: chunked\r\n\r\nfirst half, "
    part2 = b"second half\r\n.not stuffed\r\n"
    s.send(b"BDAT %d\r\n" % len(part1) + part1)
    assert s.reply() == f"250 2.0.0 Ok: {len(part1)} bytes"
    s.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    assert queued_ids(s.reply())
    assert s.cmd("QUIT").startswith("221")
    assert wait_until(lambda: server.messages()), server.log()
    assert server.messages()[0].get_payload() == "first half, second half\n.not stuffed\n"


def test_bdat_without_recipients_is_read_and_dropped(server):
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    s.send(b"BDAT 5\r\nHELO!")
    assert s.reply() == "503 5.5.1 Error: need MAIL command"
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250 ")
    assert s.cmd("RCPT TO:<nosuch@test.example>").startswith("550 ")
    s.send(b"BDAT 9\r\nSubject: ")
    assert s.reply() == "554 5.5.1 Error: no valid recipients"
    # A recipient now must not get a message with its start missing.
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("250 ")
    s.send(b"BDAT 6 LAST\r\nhalf\r\n")
    assert s.reply() == "554 5.5.1 Error: no valid recipients"
    assert s.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    assert s.cmd("NOOP") == "250 2.0.0 Ok"
    assert s.cmd("QUIT").startswith("221")
    time.sleep(0.5)
    assert server.messages() == [] and server.queue_empty()


def test_vrfy_help_noop_rset_and_unknown_commands(server_factory):
    server = server_factory()
    s = server.raw()
    assert s.reply() == "220 test.example ESMTP Postern"
    assert s.cmd("VRFY root").startswith("252 2.0.0")
    assert s.cmd("HELP").startswith("214 2.0.0")
    assert s.cmd("HELO") == "501 5.5.4 Syntax: HELO hostname"
    assert s.cmd("EHLO") == "501 5.5.4 Syntax: EHLO hostname"
    assert s.cmd("HELO client.example") == "250 test.example"
    assert s.cmd("NOOP") == "250 2.0.0 Ok"
    assert s.cmd("RSET") == "250 2.0.0 Ok"
    assert s.cmd("RCPT TO:<x@test.example>") == "503 5.5.1 Error: need MAIL command"
    assert s.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    assert s.cmd("XYZZY") == "502 5.5.2 Error: command not recognized"
    assert s.cmd("MAIL FROM:<a@example.org> BODY=9BIT") == "501 5.5.4 Bad BODY parameter syntax"
    assert s.cmd("MAIL FROM:<a b@example.org>") == "501 5.1.7 Bad sender address syntax"
    assert s.cmd("MAIL FROM:<a@example.org> X-FOO") == "555 5.5.4 Unsupported option: X-FOO"
    assert s.cmd("QUIT") == "221 2.0.0 Bye"
    server.inst.postern("stop")
    server = server_factory("disable_vrfy_command=yes")
    s = server.raw()
    s.reply()
    assert s.cmd("VRFY root") == "502 5.5.1 VRFY command is disabled"
    assert "VRFY" not in s.cmd("EHLO client.example")


# ---- relay control ----

OUTSIDE = ("mynetworks=127.0.0.2/32",)


@pytest.mark.parametrize("restrictions, code", [
    (None, "454 4.7.1"),
    ("permit_mynetworks, reject_unauth_destination", "554 5.7.1"),
])
def test_relay_from_outside_mynetworks_is_refused_and_nothing_queued(server_factory,
                                                                      restrictions, code):
    settings = OUTSIDE + ((f"smtpd_relay_restrictions={restrictions}",) if restrictions else ())
    server = server_factory(*settings, services=())
    s = server.raw()
    assert s.reply().startswith("220 ")
    s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250")
    for rcpt in ("user@remote.example", "user@Remote.Example.", "user@test.example.remote"):
        assert s.cmd(f"RCPT TO:<{rcpt}>") == f"{code} <{rcpt}>: Relay access denied"
    assert s.cmd("DATA") == "554 5.5.1 Error: no valid recipients"
    # Our own domain (any case, trailing dot) is still accepted.
    assert s.cmd(f"RCPT TO:<{server.login}@TEST.example.>").startswith("250")
    s.cmd("QUIT")
    assert server.queued() == []
    assert (f"NOQUEUE: reject: RCPT from localhost[127.0.0.1]: {code} <user@remote.example>: "
            "Relay access denied; from=<a@example.org> to=<user@remote.example> proto=ESMTP "
            "helo=<client.example>") in server.log()


@pytest.mark.parametrize("mynetworks, code", [(None, 250), ("127.0.0.0/8", 454)])
def test_ipv6_clients_and_mynetworks(server_factory, mynetworks, code):
    settings = (f"mynetworks={mynetworks}",) if mynetworks else ()
    server = server_factory(*settings, services=(), listen="::1")
    c = server.smtp()
    c.ehlo()
    c.mail("a@example.org")
    assert c.rcpt("user@remote.example")[0] == code
    assert c.rcpt(server.addr)[0] == 250
    c.quit()
    assert re.search(r"connect from [\w.-]+\[::1\]", server.log())


def test_relay_from_inside_mynetworks_is_accepted(server_factory):
    server = server_factory(services=())
    c = server.smtp()
    c.ehlo()
    c.mail("a@example.org")
    assert c.rcpt("user@remote.example")[0] == 250
    c.quit()


@pytest.mark.parametrize("trick", [
    "{u}%remote.example@test.example",
    "remote.example!{u}@test.example",
    "@test.example:{u}@remote.example",
    '"{u}@remote.example"@test.example',
    "{u}%remote.example@[127.0.0.1]",
])
def test_routing_tricks_do_not_relay(server_factory, trick):
    server = server_factory(*OUTSIDE, services=())
    rcpt = trick.format(u=server.login)
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    s.cmd("MAIL FROM:<a@example.org>")
    reply = s.cmd(f"RCPT TO:<{rcpt}>")
    assert reply.startswith("454 4.7.1 ") and reply.endswith("Relay access denied"), reply
    assert s.cmd("DATA") == "554 5.5.1 Error: no valid recipients"
    s.cmd("QUIT")
    assert server.queued() == []


def test_routing_tricks_from_mynetworks_are_refused_not_bounced_later(server_factory):
    server = server_factory(services=())
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    s.cmd("MAIL FROM:<a@example.org>")
    for trick in ("{u}%remote.example@test.example", "remote.example!{u}@test.example",
                  '"{u}@remote.example"@test.example'):
        reply = s.cmd(f"RCPT TO:<{trick.format(u=server.login)}>")
        assert reply.startswith("550 5.1.3 "), reply
    s.cmd("QUIT")
    assert server.queued() == []


def test_relay_domains_and_their_subdomains_are_accepted_from_outside(server_factory):
    server = server_factory(*OUTSIDE, "relay_domains=relay.example", services=())
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    s.cmd("MAIL FROM:<a@example.org>")
    assert s.cmd("RCPT TO:<u@relay.example>") == "250 2.1.5 Ok"
    assert s.cmd("RCPT TO:<u@Sub.Relay.Example.>") == "250 2.1.5 Ok"
    assert s.cmd("RCPT TO:<u@relay.example.net>").endswith("Relay access denied")
    assert s.cmd("RCPT TO:<u%elsewhere.example@relay.example>").endswith("Relay access denied")


def test_restriction_lists_are_evaluated_in_order(server_factory):
    server = server_factory(
        "smtpd_relay_restrictions=permit_mynetworks, reject_unauth_destination",
        "smtpd_recipient_restrictions=reject_non_fqdn_recipient, permit_auth_destination, reject",
        services=())
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    s.cmd("MAIL FROM:<a@example.org>")
    assert s.cmd("RCPT TO:<u@localhost>") == (
        "504 5.5.2 <u@localhost>: Recipient address rejected: need fully-qualified address")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    # permit_mynetworks passed the relay list; the recipient list has the last word.
    assert s.cmd("RCPT TO:<u@remote.example>") == (
        "554 5.7.1 <u@remote.example>: Recipient address rejected: Access denied")


@pytest.mark.parametrize("settings, warning", [
    (("smtpd_relay_restrictions=check_bogus_access, reject_unauth_destination",),
     'smtpd_relay_restrictions: unknown restriction "check_bogus_access"'),
    (("smtpd_relay_restrictions=permit_mynetworks", "smtpd_recipient_restrictions=permit"),
     "neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can refuse"),
])
def test_bad_or_open_restrictions_refuse_everything(server_factory, settings, warning):
    server = server_factory(*OUTSIDE, *settings, services=())
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    s.cmd("MAIL FROM:<a@example.org>")
    assert s.cmd("RCPT TO:<u@remote.example>") == "451 4.3.5 Server configuration error"
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "451 4.3.5 Server configuration error"
    assert warning in server.log()


def test_recipient_limit(server_factory):
    server = server_factory("smtpd_recipient_limit=2", services=())
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    s.cmd("MAIL FROM:<a@example.org>")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    assert s.cmd("RCPT TO:<team@test.example>") == "250 2.1.5 Ok"
    assert s.cmd("RCPT TO:<postmaster@test.example>") == "452 4.5.3 Error: too many recipients"


def test_helo_client_without_name_lookup_is_unknown_and_smtp(server_factory):
    server = server_factory("smtpd_peername_lookup=no", services=())
    c = server.smtp()
    c.helo()
    c.mail("a@example.org")
    c.rcpt(server.addr)
    code, text = c.data(b"Subject: x\r\n\r\nx\r\n")
    c.quit()
    assert code == 250
    qid = text.decode().split()[-1]
    out = server.postcat(qid)
    assert "named_attribute: client_name=unknown" in out
    assert "named_attribute: client_address=127.0.0.1" in out
    assert "named_attribute: protocol=SMTP" in out
    assert "Received: from client.example (unknown [127.0.0.1])" in out
    assert f"with SMTP id {qid}" in out
    assert "connect from unknown[127.0.0.1]" in server.log()


# ---- hygiene ----

SMUGGLING = [b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\n.\n", b"\r\n.\r", b"\r.\r\n", b"\r\n.\r\r\n"]


@pytest.mark.parametrize("seq", SMUGGLING, ids=[repr(s) for s in SMUGGLING])
def test_smuggling_sequences_do_not_split_a_message(server, seq):
    s = server.raw()
    assert s.start(server.addr).startswith("354 ")
    smuggled = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<" + server.addr.encode() +
                b">\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")
    s.send(b"Subject: carrier\r\n\r\nbody" + seq + smuggled)
    time.sleep(0.3)
    s.send(b"\r\n.\r\nQUIT\r\n")
    reply = s.reply()
    assert reply.startswith("521 5.5.2 test.example Error: bare <LF> received"), reply
    assert s.closed()
    time.sleep(1)
    assert server.messages() == [] and server.queue_empty()
    assert "bare <LF> received from localhost[127.0.0.1] after DATA" in server.log()


def test_bare_lf_in_a_command_is_refused(server):
    s = server.raw()
    s.reply()
    s.send("EHLO client.example\n")
    assert s.reply().startswith("521 5.5.2 ")
    assert s.closed()


def test_long_command_line_is_refused_and_the_session_goes_on(server):
    s = server.raw()
    s.reply()
    assert s.cmd("NOOP " + "x" * 3000) == "500 5.5.2 Error: line too long"
    assert s.cmd("NOOP") == "250 2.0.0 Ok"
    assert s.cmd("MAIL FROM:<" + "a" * 1100 + "@example.org>").startswith(
        "501 5.1.7 Bad sender address syntax")


def test_hard_error_limit_disconnects(server_factory):
    server = server_factory("smtpd_hard_error_limit=3")
    s = server.raw()
    s.reply()
    for _ in range(3):
        assert s.cmd("XYZZY").startswith("502")
    assert s.cmd("NOOP").startswith("421 4.7.0 test.example Error: too many errors")
    assert s.closed()
    assert "too many errors after UNKNOWN from localhost[127.0.0.1]" in server.log()


def test_junk_commands_past_their_limit_count_as_errors(server_factory):
    server = server_factory("smtpd_junk_command_limit=2", "smtpd_hard_error_limit=2")
    s = server.raw()
    s.reply()
    for _ in range(3):
        assert s.cmd("NOOP") == "250 2.0.0 Ok"
    assert s.cmd("RSET") == "250 2.0.0 Ok"
    assert s.cmd("NOOP").startswith("421 4.7.0 test.example Error: too many errors")
    assert s.closed()


def test_soft_error_limit_slows_errors_down(server_factory):
    server = server_factory("smtpd_soft_error_limit=1", "smtpd_error_sleep_time=1s")
    s = server.raw()
    s.reply()
    t0 = time.monotonic()
    s.cmd("XYZZY")
    assert time.monotonic() - t0 < 0.9
    t0 = time.monotonic()
    s.cmd("XYZZY")
    assert time.monotonic() - t0 >= 0.9


def test_idle_client_times_out(server_factory):
    server = server_factory("smtpd_timeout=2s")
    s = server.raw()
    s.reply()
    t0 = time.monotonic()
    assert s.reply().startswith("421 4.4.2 test.example Error: timeout exceeded")
    assert 1.5 < time.monotonic() - t0 < 10
    assert "timeout after CONNECT from localhost[127.0.0.1]" in server.log()


def test_data_after_every_recipient_was_refused_says_no_valid_recipients(server):
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    assert s.cmd("DATA") == "503 5.5.1 Error: need RCPT command"
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250 ")
    assert s.cmd("RCPT TO:<nosuch@test.example>").startswith("550 ")
    assert s.cmd("DATA") == "554 5.5.1 Error: no valid recipients"
    assert s.cmd("RCPT TO:<%s>" % server.addr).startswith("250 ")
    assert s.cmd("DATA").startswith("354 ")
    s.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
    assert queued_ids(s.reply())
    assert s.cmd("QUIT").startswith("221")


def test_reject_lines_say_noqueue_until_a_recipient_is_accepted(server):
    # As Postfix (smtpd_delay_open_until_valid_rcpt): the queue file, and so
    # the queue id in the log, comes with the first accepted recipient; a
    # reject before it, or after RSET, is a NOQUEUE line.
    c = server.smtp()
    c.ehlo()
    c.mail("sender@example.org")
    assert c.rcpt("before@test.example")[0] == 550
    assert c.rcpt(server.addr)[0] == 250
    assert c.rcpt("after@test.example")[0] == 550
    c.rset()
    c.mail("sender@example.org")
    assert c.rcpt("reset@test.example")[0] == 550
    c.quit()
    log = server.log()
    line = "reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <{}@test.example>: "
    ids = re.findall(r"(\w+): client=localhost\[127\.0\.0\.1\]", log)
    assert len(ids) == 1, log
    assert "NOQUEUE: " + line.format("before") in log, log
    assert f"{ids[0]}: " + line.format("after") in log, log
    assert "NOQUEUE: " + line.format("reset") in log, log


@pytest.mark.parametrize("drop", [None, ""])
def test_message_drop_headers_removes_bcc_return_path_and_content_length(server_factory, drop):
    srv = server_factory() if drop is None else server_factory(f"message_drop_headers={drop}")
    c = srv.smtp()
    c.ehlo("client.example")
    msg = ("From: sender@example.org\r\nTo: someone@example.org\r\n"
           "Bcc: hidden@example.net\r\nReturn-Path: <forged@example.net>\r\n"
           "Content-Length: 9999\r\nSubject: drop\r\n\r\nbody\r\n")
    c.sendmail("sender@example.org", [srv.addr], msg.encode())
    c.quit()
    assert wait_until(lambda: srv.messages() and srv.queue_empty()), srv.log()
    (m,) = srv.messages()
    if drop is None:
        # Postfix's default list: bcc, content-length, resent-bcc, return-path.
        assert m["Bcc"] is None and m["Content-Length"] is None
        assert m.get_all("Return-Path") in (None, ["<sender@example.org>"])
    else:
        assert m["Bcc"] == "hidden@example.net" and m["Content-Length"] == "9999"
        assert "<forged@example.net>" in m.get_all("Return-Path")
    assert m["Subject"] == "drop"

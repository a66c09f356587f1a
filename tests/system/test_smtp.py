"""The smtp delivery agent (SMTP and LMTP client) against real peers.

An instance with pickup, qmgr, local, smtp and lmtp sends mail for
remote.test to a server on a loopback port this test chose: Postfix's
smtp-sink, or the small scriptable server below, which records every
command and the DATA bytes exactly as they arrived, and answers each
recipient as the test says. MX tests run dnsmasq on a high loopback port
and point dns_servers at it.
"""

import os
import pathlib
import pwd
import re
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time

import pytest

from live import (dnsmasq, free_port, mail,  # noqa: F401 (fixtures)
                  private_postfix, relay_factory, send, smtp_sink, stop_process, wait_log,
                  wait_until)

# ---- a scriptable SMTP/LMTP server ----

class Transaction:
    def __init__(self):
        self.helo = None
        self.mail = None
        self.rcpts = []
        self.data = None  # the bytes between DATA's 354 and the final dot, as sent


class PeerHandler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        peer = self.server.peer
        peer.connections += 1
        if peer.idle_drop:
            self.connection.settimeout(peer.idle_drop)
        self.reply(peer.greeting)
        if not peer.greeting.startswith("2"):
            self.rfile.readline()  # QUIT, or nothing
            return
        trans = Transaction()
        accepted = []
        while True:
            try:
                line = self.rfile.readline()
            except (socket.timeout, OSError):
                peer.dropped += 1
                return  # idle too long: drop the connection without a word
            if not line:
                return
            peer.commands.append(line)
            verb = line[:4].upper()
            if verb in (b"EHLO", b"LHLO"):
                if verb == b"EHLO" and not peer.ehlo:
                    self.reply("502 5.5.1 no EHLO here")
                    continue
                trans.helo = line
                feats = ["peer.test"] + peer.features
                for f in feats[:-1]:
                    self.reply("250-" + f)
                self.reply("250 " + feats[-1])
            elif verb == b"HELO":
                trans.helo = line
                self.reply("250 peer.test")
            elif verb == b"MAIL":
                trans.mail = line
                self.reply(peer.mail_reply)
            elif verb == b"RCPT":
                trans.rcpts.append(line)
                if not peer.mail_reply.startswith("2"):
                    self.reply("503 5.5.1 need MAIL first")
                    continue
                addr = re.search(rb"<([^>]*)>", line).group(1).decode()
                answer = peer.rcpt_replies.get(addr.split("@")[0], "250 2.1.5 Ok")
                if answer.startswith("2"):
                    accepted.append(addr)
                self.reply(answer)
            elif verb == b"DATA":
                if not accepted:
                    self.reply("554 5.5.1 no valid recipients")
                    continue
                self.reply("354 go ahead")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk == b".\r\n":
                        break
                    data += chunk
                trans.data = data
                peer.transactions.append(trans)
                if peer.lmtp:
                    for addr in accepted:
                        self.reply(peer.data_replies.get(addr.split("@")[0],
                                                         "250 2.0.0 Ok: delivered"))
                else:
                    self.reply("250 2.0.0 Ok: queued as PEER1")
                trans, accepted = Transaction(), []
            elif verb == b"RSET":
                trans, accepted = Transaction(), []
                self.reply("250 2.0.0 Ok")
            elif verb == b"QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 unknown command")


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class Peer:
    """The server: what it offers, how it answers, what it got."""

    def __init__(self, address, lmtp=False):
        self.lmtp = lmtp
        self.greeting = "220 peer.test ESMTP"
        self.ehlo = True
        self.features = ["PIPELINING", "SIZE 10240000", "8BITMIME", "DSN"]
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_replies = {}
        self.data_replies = {}
        self.commands = []
        self.transactions = []
        self.connections = 0    # sessions the server accepted
        self.idle_drop = None   # seconds: close a connection this long silent
        self.dropped = 0
        if isinstance(address, str):
            self.server = UnixServer(address, PeerHandler)
            os.chmod(address, 0o777)
        else:
            self.server = TCPServer(address, PeerHandler)
        self.server.peer = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peers():
    started = []

    def start(address, lmtp=False):
        p = Peer(address, lmtp)
        started.append(p)
        return p

    yield start
    for p in started:
        p.close()


# ---- against Postfix's smtp-sink ----

def test_relayhost_delivers_to_smtp_sink_and_logs_sent(relay_factory, smtp_sink):
    port = free_port()
    dump = smtp_sink(port)
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    lv.sendmail(["alice@remote.test"], mail("to the sink", "line one\n.dot line\n"))
    m = wait_log(lv, r"to=<alice@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:(\d+), "
                     r"delay=[\d.e-]+, delays=[\d.e-]+/0/[\d.e-]+/[\d.e-]+, dsn=2\.0\.0, "
                     r"status=sent \(250 2\.0\.0 Ok")
    assert int(m.group(1)) == port
    assert wait_until(lv.queue_empty, timeout=10)
    files = [p for p in dump.rglob("*") if p.is_file()]
    assert len(files) == 1
    dumped = files[0].read_bytes()
    # smtp-sink dumps with LF line ends, dots unstuffed.
    assert b"alice@remote.test" in dumped and b"\nSubject: to the sink\n" in dumped
    assert b"\nline one\n.dot line\n" in dumped


def test_smtp_sink_hard_rcpt_rejection_bounces_with_its_reply(relay_factory, smtp_sink):
    port = free_port()
    smtp_sink(port, "-f", "RCPT")
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    lv.sendmail(["bob@remote.test"], mail("refused"))
    wait_log(lv, r"to=<bob@remote\.test>, relay=.*dsn=5\.3\.0, status=bounced \(host "
                 r"127\.0\.0\.1\[127\.0\.0\.1\]:\d+ said: 500 5\.3\.0 Error: command failed "
                 r"\(in reply to RCPT TO command\)\)")
    assert wait_until(lambda: lv.dsns(), timeout=30), lv.log()
    report = lv.dsns()[0].as_string()
    assert "Diagnostic-Code: smtp; 500 5.3.0 Error: command failed" in report
    assert "Remote-MTA: dns; 127.0.0.1" in report


# ---- against the scriptable peer ----

def test_body_goes_out_byte_for_byte_with_dot_stuffing_and_crlf(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    long_line = "x" * 70000
    body = f".\n..two\n.leading dot\nmiddle . dot\n\n{long_line}\nlast\n"
    send(lv, ["carol@remote.test"], mail("dots", body))
    wait_log(lv, r"to=<carol@remote\.test>.*status=sent \(250 2\.0\.0 Ok: queued as PEER1\)")
    assert len(peer.transactions) == 1
    t = peer.transactions[0]
    assert t.mail.startswith(b"MAIL FROM:<" + lv.addr.encode() + b">")
    assert b" SIZE=" in t.mail
    assert t.rcpts == [b"RCPT TO:<carol@remote.test>\r\n"]
    data = t.data
    head, sent_body = data.split(b"\r\n\r\n", 1)
    assert b"Subject: dots" in head
    assert not re.search(rb"(?<!\r)\n", data), "bare LF in DATA"
    expected = (f"..\r\n...two\r\n..leading dot\r\nmiddle . dot\r\n\r\n{long_line}\r\n"
                "last\r\n").encode()
    assert sent_body == expected


def test_per_recipient_replies_sent_deferred_bounced(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    peer.rcpt_replies = {"soft": "450 4.2.0 mailbox busy", "hard": "550 5.1.1 no such user"}
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    lv.sendmail(["ok@remote.test", "soft@remote.test", "hard@remote.test"], mail("mixed"))
    wait_log(lv, r"to=<ok@remote\.test>.*dsn=2\.0\.0, status=sent")
    wait_log(lv, r"to=<soft@remote\.test>.*dsn=4\.2\.0, status=deferred \(host "
                 r"127\.0\.0\.1\[127\.0\.0\.1\]:\d+ said: 450 4\.2\.0 mailbox busy "
                 r"\(in reply to RCPT TO command\)\)")
    wait_log(lv, r"to=<hard@remote\.test>.*dsn=5\.1\.1, status=bounced")
    # One transaction: pipelined MAIL, three RCPTs and DATA, one message.
    assert len(peer.transactions) == 1
    assert len(peer.transactions[0].rcpts) == 3
    assert wait_until(lambda: lv.dsns(), timeout=30), lv.log()
    report = lv.dsns()[0].as_string()
    assert "hard@remote.test" in report and "soft@remote.test" not in report
    assert "Diagnostic-Code: smtp; 550 5.1.1 no such user" in report
    deferred = lv.dir / "spool" / "deferred"
    assert wait_until(lambda: any(deferred.rglob("*")), timeout=10)


def test_refused_mail_from_bounces_every_recipient(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    peer.mail_reply = "553 5.7.1 sender refused"
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    lv.sendmail(["a1@remote.test", "a2@remote.test"], mail("no sender"))
    for who in ("a1", "a2"):
        wait_log(lv, rf"to=<{who}@remote\.test>.*dsn=5\.7\.1, status=bounced \(host .* said: "
                     r"553 5\.7\.1 sender refused \(in reply to MAIL FROM command\)\)")
    assert peer.transactions == []


def test_a_message_over_the_servers_size_limit_bounces_without_a_transaction(relay_factory,
                                                                              peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    peer.features = ["PIPELINING", "SIZE 100", "8BITMIME", "DSN"]
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    lv.sendmail(["big@remote.test"], mail("big", "x" * 500))
    wait_log(lv, r"to=<big@remote\.test>.*dsn=5\.3\.4, status=bounced \(message size \d+ "
                 r"exceeds size limit 100 of server 127\.0\.0\.1\[127\.0\.0\.1\]:\d+\)")
    assert peer.transactions == []


def test_without_ehlo_or_pipelining_helo_and_lock_step(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    peer.ehlo = False
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    lv.sendmail(["dave@remote.test"], mail("old server"))
    wait_log(lv, r"to=<dave@remote\.test>.*status=sent")
    # The session stays open for reuse until smtp_connection_cache_time_limit.
    assert wait_until(lambda: peer.commands[-1:] == [b"QUIT\r\n"], timeout=10)
    verbs = [c[:4] for c in peer.commands]
    assert verbs[:2] == [b"EHLO", b"HELO"]
    assert verbs[2:] == [b"MAIL", b"RCPT", b"DATA", b"QUIT"]
    # HELO: no ESMTP parameters.
    assert peer.transactions[0].mail == f"MAIL FROM:<{lv.addr}>\r\n".encode()


def test_dsn_and_body_parameters_are_passed_when_offered(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    send(lv, ["erin@remote.test"], mail("dsn", "caf\u00e9\n"), "-N", "failure,delay", "-R",
         "hdrs", "-V", "env+id=1", "-B", "8BITMIME")
    wait_log(lv, r"to=<erin@remote\.test>.*status=sent")
    t = peer.transactions[0]
    assert b" RET=HDRS" in t.mail and b" ENVID=env+2Bid+3D1" in t.mail
    assert b" BODY=8BITMIME" in t.mail
    assert t.rcpts == [b"RCPT TO:<erin@remote.test> NOTIFY=FAILURE,DELAY\r\n"]


def test_connection_refused_defers_then_flush_delivers(relay_factory, peers):
    port = free_port()
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}")
    lv.sendmail(["frank@remote.test"], mail("later"))
    wait_log(lv, r"to=<frank@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*"
                 r"dsn=4\.4\.1, status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: "
                 r"Connection refused\)")
    peer = peers(("127.0.0.1", port))
    # qmgr keeps the destination down for a while after a site failure;
    # flush until the mail goes.
    def delivered():
        if "status=sent" in lv.log():
            return True
        lv.inst.postern("flush")
        return False
    assert wait_until(delivered, timeout=60), lv.log()
    wait_log(lv, r"to=<frank@remote\.test>.*status=sent")
    assert len(peer.transactions) == 1
    assert wait_until(lv.queue_empty, timeout=10)


# ---- against real Postfix ----

def test_postern_relays_to_postfix_byte_for_byte(relay_factory, private_postfix):
    postfix = private_postfix
    postfix.start()
    lv = relay_factory(f"relayhost=[127.0.0.1]:{postfix.port}")
    body = ("first line\n.starts with a dot\n..two dots\n.\n\n" + "x" * 1500 + "\n"
            "caf\u00e9 8-bit\n  indented\ttab\nlast line")
    msg = ("From: sender@test.example\nTo: rcpt@pf.example\nSubject: to postfix\n"
           "Message-ID: <relay-out@test.example>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body)
    send(lv, ["rcpt@pf.example"], msg, "-B", "8BITMIME")
    wait_log(lv, rf"to=<rcpt@pf\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{postfix.port}, "
                 r".*dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as \w+\)")
    assert wait_until(lambda: postfix.maildir("rcpt"), timeout=60), postfix.maillog()
    (raw,) = postfix.maildir("rcpt")
    head, _, got = raw.partition(b"\n\n")
    # The last line had no newline: it gains one on the way, nothing else.
    assert got == (body + "\n").encode()
    headers = [" ".join(h.split()) for h in re.split(r"\n(?![ \t])", head.decode())]
    received = [h for h in headers if h.startswith("Received:")]
    assert len(received) == 2, headers
    assert re.match(r"Received: from test\.example \(localhost \[127\.0\.0\.1\]\) by pf\.example "
                    r"\(Postfix\) with ESMTP id \w+ for <rcpt@pf\.example>; ", received[0]), received
    assert re.match(r"Received: by test\.example \(Postern, from userid \d+\) id \w+; ",
                    received[1]), received
    assert "Subject: to postfix" in headers
    assert "Message-ID: <relay-out@test.example>" in headers


# ---- fallback relays and 5xx greetings ----

def test_fallback_relay_takes_the_mail_when_the_relayhost_refuses_connections(relay_factory,
                                                                              peers):
    down, port = free_port(), free_port()
    fallback = peers(("127.0.0.1", port))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{down}",
                       f"smtp_fallback_relay=[127.0.0.1]:{free_port()}, [127.0.0.1]:{port}")
    lv.sendmail(["fay@remote.test"], mail("fallback"))
    wait_log(lv, rf"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{down}: Connection refused")
    wait_log(lv, rf"to=<fay@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, "
                 r".*status=sent")
    assert len(fallback.transactions) == 1


def test_fallback_relay_is_tried_after_a_temporary_dns_failure(relay_factory, peers):
    port = free_port()
    fallback = peers(("127.0.0.1", port))
    # A name server that never answers: the MX lookup fails for now.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        lv = relay_factory(f"dns_servers=127.0.0.1:{silent.getsockname()[1]}",
                           "dns_lookup_timeout=1s", f"smtp_fallback_relay=[127.0.0.1]:{port}")
        lv.sendmail(["gus@nowhere.test"], mail("dns down"))
        wait_log(lv, rf"to=<gus@nowhere\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, "
                     r".*status=sent")
        assert len(fallback.transactions) == 1
    finally:
        silent.close()


def test_fallback_relay_is_not_used_when_the_destination_refuses_for_good(relay_factory, peers):
    port, port2 = free_port(), free_port()
    peer = peers(("127.0.0.1", port))
    peer.rcpt_replies = {"hal": "550 5.1.1 no such user"}
    fallback = peers(("127.0.0.1", port2))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", f"smtp_fallback_relay=[127.0.0.1]:{port2}")
    lv.sendmail(["hal@remote.test"], mail("no such user"))
    wait_log(lv, r"to=<hal@remote\.test>, .*dsn=5\.1\.1, status=bounced")
    assert fallback.connections == 0


def test_a_5xx_greeting_means_the_next_mx_and_with_skip_off_a_bounce(relay_factory, peers,
                                                                     dnsmasq):
    port = free_port()
    grumpy = peers(("127.0.0.2", port))
    grumpy.greeting = "554 5.7.1 go away"
    good = peers(("127.0.0.1", port))
    dns = dnsmasq("--mx-host=grumpy.test,mx1.grumpy.test,10",
                  "--mx-host=grumpy.test,mx2.grumpy.test,20",
                  "--host-record=mx1.grumpy.test,127.0.0.2",
                  "--host-record=mx2.grumpy.test,127.0.0.1")
    lv = relay_factory(f"dns_servers=127.0.0.1:{dns}", f"smtp_tcp_port={port}")
    lv.sendmail(["ida@grumpy.test"], mail("skip"))
    wait_log(lv, rf"host mx1\.grumpy\.test\[127\.0\.0\.2\]:{port} refused to talk to me: "
                 r"554 5\.7\.1 go away")
    wait_log(lv, r"to=<ida@grumpy\.test>, relay=mx2\.grumpy\.test\[127\.0\.0\.1\]:\d+, "
                 r".*status=sent")
    assert len(good.transactions) == 1

    lv2 = relay_factory(f"dns_servers=127.0.0.1:{dns}", f"smtp_tcp_port={port}",
                        "smtp_skip_5xx_greeting=no")
    lv2.sendmail(["joe@grumpy.test"], mail("no skip"))
    wait_log(lv2, rf"to=<joe@grumpy\.test>, relay=mx1\.grumpy\.test\[127\.0\.0\.2\]:{port}, "
                  r".*dsn=5\.7\.1, status=bounced \(host mx1\.grumpy\.test\[127\.0\.0\.2\]:\d+ "
                  r"refused to talk to me: 554 5\.7\.1 go away\)")
    assert len(good.transactions) == 1


# ---- connection reuse ----

def subjects(peer):
    return sorted(re.search(rb"Subject: (\S+)", t.data).group(1).decode()
                  for t in peer.transactions)


def send_each(lv, count, prefix, pause=0.0):
    """count messages, each sent after the previous one's status line."""
    for i in range(count):
        send(lv, ["reuse@remote.test"], mail(f"{prefix}{i}"))
        assert wait_until(lambda: lv.log().count("to=<reuse@remote.test>") > i, timeout=30), \
            lv.log()
        time.sleep(pause)


def test_messages_to_one_relayhost_share_connections_and_log_conn_use(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "default_destination_concurrency_limit=2")
    send_each(lv, 10, "m")
    wait_log(lv, r"to=<reuse@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, "
                 r"conn_use=[2-9]\d*, delay=[\d.e-]+, .*status=sent")
    assert wait_until(lv.queue_empty, timeout=10)
    assert peer.connections < 10
    # Each message exactly once, and each went as the RSET probe allowed.
    assert subjects(peer) == sorted(f"m{i}" for i in range(10))
    assert lv.log().count("status=sent") == 10
    assert b"RSET\r\n" in peer.commands


def test_a_cached_session_the_server_dropped_is_replaced_and_nothing_is_lost(relay_factory,
                                                                            peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    peer.idle_drop = 0.5
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "default_process_limit=1",
                       "smtp_connection_cache_time_limit=30s")
    send_each(lv, 3, "d", pause=1.5)
    assert wait_until(lv.queue_empty, timeout=10)
    assert subjects(peer) == ["d0", "d1", "d2"]
    assert lv.log().count("status=sent") == 3
    assert "status=deferred" not in lv.log()
    assert peer.dropped >= 2 and peer.connections == 3
    assert lv.log().count("cached session with 127.0.0.1[127.0.0.1]") == 2, lv.log()
    assert "conn_use=" not in lv.log()


def test_a_process_past_max_use_holding_a_cached_session_does_not_hold_up_mail(relay_factory,
                                                                               peers):
    # Each smtp process retires after one request but keeps its session
    # for 20 s: master must start the next process at once, not wait for
    # the retiring one to leave.
    port = free_port()
    peer = peers(("127.0.0.1", port))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "max_use=1",
                       "smtp_connection_cache_time_limit=20s")
    started = time.monotonic()
    send_each(lv, 3, "u")
    assert time.monotonic() - started < 10, lv.log()
    assert wait_until(lv.queue_empty, timeout=10)
    assert subjects(peer) == ["u0", "u1", "u2"]
    assert lv.log().count("status=sent") == 3


def test_without_connection_cache_each_message_has_its_own_connection(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "default_process_limit=1",
                       "smtp_connection_cache_on_demand=no")
    send_each(lv, 4, "n")
    assert wait_until(lv.queue_empty, timeout=10)
    assert subjects(peer) == ["n0", "n1", "n2", "n3"]
    assert peer.connections == 4
    assert "conn_use=" not in lv.log()
    assert b"RSET\r\n" not in peer.commands


def test_an_idle_cached_session_is_quit_after_the_time_limit(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "default_process_limit=1",
                       "smtp_connection_cache_time_limit=2s")
    send(lv, ["reuse@remote.test"], mail("idle"))
    wait_log(lv, r"to=<reuse@remote\.test>.*status=sent")
    sent = time.monotonic()
    assert wait_until(lambda: b"QUIT\r\n" in peer.commands, timeout=10)
    waited = time.monotonic() - sent
    assert 1.0 <= waited <= 4.0, waited
    assert peer.connections == 1


# ---- LMTP ----

def test_lmtp_over_unix_socket_answers_each_recipient_after_data(relay_factory, peers):
    # A short path (sun_path is 108 bytes) that the agent's user can reach.
    path = pathlib.Path("/tmp") / f"postern-lmtp-{os.getpid()}-{free_port()}.sock"
    peer = peers(str(path), lmtp=True)
    try:
        peer.data_replies = {"gone": "552 5.2.2 mailbox full"}
        lv = relay_factory(f"default_transport=lmtp:unix:{path}")
        lv.sendmail(["gina@remote.test", "gone@remote.test"], mail("lmtp"))
        wait_log(lv, r"postern/lmtp\[\d+\]: \w+: to=<gina@remote\.test>, relay=localhost\["
                     + re.escape(str(path)) + r"\], .*dsn=2\.0\.0, status=sent "
                     r"\(250 2\.0\.0 Ok: delivered\)")
        wait_log(lv, r"to=<gone@remote\.test>.*dsn=5\.2\.2, status=bounced \(host .* said: "
                     r"552 5\.2\.2 mailbox full \(in reply to end of DATA command\)\)")
        assert peer.commands[0].startswith(b"LHLO test.example")
        assert len(peer.transactions) == 1
    finally:
        path.unlink(missing_ok=True)


def test_lmtp_over_tcp(relay_factory, peers):
    port = free_port()
    peer = peers(("127.0.0.1", port), lmtp=True)
    lv = relay_factory(f"default_transport=lmtp:inet:127.0.0.1:{port}")
    lv.sendmail(["hank@remote.test"], mail("lmtp tcp"))
    wait_log(lv, rf"to=<hank@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, "
                 r".*status=sent")
    assert len(peer.transactions) == 1


# ---- MX with dnsmasq ----

def test_mx_lowest_preference_first_then_the_next_on_refusal(relay_factory, peers, dnsmasq):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    # mx1 (10) at 127.0.0.2 where nobody listens; mx2 (20) at 127.0.0.1.
    dns = dnsmasq("--mx-host=dom.test,mx2.dom.test,20", "--mx-host=dom.test,mx1.dom.test,10",
                  "--host-record=mx1.dom.test,127.0.0.2", "--host-record=mx2.dom.test,127.0.0.1")
    lv = relay_factory(f"dns_servers=127.0.0.1:{dns}", f"smtp_tcp_port={port}")
    lv.sendmail(["ivy@dom.test"], mail("mx"))
    wait_log(lv, r"connect to mx1\.dom\.test\[127\.0\.0\.2\]:\d+: Connection refused")
    wait_log(lv, rf"to=<ivy@dom\.test>, relay=mx2\.dom\.test\[127\.0\.0\.1\]:{port}, "
                 r".*status=sent")
    assert len(peer.transactions) == 1


def test_a_silent_mx_times_out_and_the_next_one_delivers(relay_factory, peers, dnsmasq):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    # mx1 accepts connections and never greets.
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.2", port))
    silent.listen(5)
    try:
        dns = dnsmasq("--mx-host=slow.test,mx1.slow.test,10",
                      "--mx-host=slow.test,mx2.slow.test,20",
                      "--host-record=mx1.slow.test,127.0.0.2",
                      "--host-record=mx2.slow.test,127.0.0.1")
        lv = relay_factory(f"dns_servers=127.0.0.1:{dns}", f"smtp_tcp_port={port}",
                           "smtp_helo_timeout=2s")
        lv.sendmail(["max@slow.test"], mail("slow"))
        wait_log(lv, r"conversation with mx1\.slow\.test\[127\.0\.0\.2\]:\d+ timed out while "
                     r"receiving the initial server greeting")
        wait_log(lv, r"to=<max@slow\.test>, relay=mx2\.slow\.test\[127\.0\.0\.1\]:\d+, "
                     r".*status=sent")
        assert len(peer.transactions) == 1
    finally:
        silent.close()


def test_no_mx_uses_the_address_record(relay_factory, peers, dnsmasq):
    port = free_port()
    peers(("127.0.0.1", port))
    dns = dnsmasq("--host-record=plain.test,127.0.0.1")
    lv = relay_factory(f"dns_servers=127.0.0.1:{dns}", f"smtp_tcp_port={port}")
    lv.sendmail(["jack@plain.test"], mail("a record"))
    wait_log(lv, rf"to=<jack@plain\.test>, relay=plain\.test\[127\.0\.0\.1\]:{port}, "
                 r".*status=sent")


def test_null_mx_bounces_and_unknown_domain_bounces(relay_factory, dnsmasq):
    dns = dnsmasq("--mx-host=null.test,.,0")
    lv = relay_factory(f"dns_servers=127.0.0.1:{dns}")
    lv.sendmail(["kim@null.test", "lee@nowhere.test"], mail("nobody home"))
    wait_log(lv, r"to=<kim@null\.test>, relay=none, .*dsn=5\.1\.10, status=bounced "
                 r"\(Domain null\.test does not accept mail \(nullMX\)\)")
    wait_log(lv, r"to=<lee@nowhere\.test>, relay=none, .*dsn=5\.4\.4, status=bounced")


# ---- LMTP to Dovecot, read back over IMAP ----

DOVECOT_CONF = """protocols = imap lmtp
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
listen = 127.0.0.1
auth_mechanisms = plain
auth_username_format = %Ln
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
service lmtp {{
  unix_listener {d}/lmtp {{
    mode = 0666
  }}
}}
"""


@pytest.fixture
def dovecot():
    exe = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.access(exe, os.X_OK) or not os.path.exists("/usr/lib/dovecot/lmtp"):
        pytest.skip("dovecot-lmtpd not installed")
    if os.geteuid() != 0:
        pytest.skip("dovecot needs root to become the mail user")
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-dovecot-"))
    d.chmod(0o755)
    nobody = pwd.getpwnam("nobody")
    (d / "home").mkdir()
    os.chown(d / "home", nobody.pw_uid, nobody.pw_gid)
    (d / "users").write_text(f"user1:{{PLAIN}}secret:{nobody.pw_uid}:{nobody.pw_gid}::"
                             f"{d}/home/user1\n")
    port = free_port()
    (d / "dovecot.conf").write_text(DOVECOT_CONF.format(d=d, port=port))
    proc = subprocess.Popen([exe, "-F", "-c", str(d / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = wait_until(lambda: (d / "lmtp").exists() or proc.poll() is not None, timeout=15)
    assert ok and proc.poll() is None, proc.stderr.read()
    yield d, port
    stop_process(proc)
    shutil.rmtree(d, ignore_errors=True)


def test_lmtp_to_dovecot_is_readable_over_imap(relay_factory, dovecot):
    import imaplib

    d, imap_port = dovecot
    lv = relay_factory(f"default_transport=lmtp:unix:{d}/lmtp")
    send(lv, ["user1@remote.test", "nosuch@remote.test"],
         mail("to dovecot", "first\n.dotted\nlast\n"))
    wait_log(lv, r"postern/lmtp\[\d+\]: \w+: to=<user1@remote\.test>, .*dsn=2\.0\.0, "
                 r"status=sent \(250 2\.0\.0 <user1@remote\.test> .* Saved\)")
    wait_log(lv, r"to=<nosuch@remote\.test>, .*dsn=5\.1\.1, status=bounced \(host .* said: 550 "
                 r"5\.1\.1 .* \(in reply to RCPT TO command\)\)")
    imap = imaplib.IMAP4("127.0.0.1", imap_port)
    try:
        imap.login("user1", "secret")
        typ, data = imap.select("INBOX")
        assert typ == "OK" and data == [b"1"]
        typ, data = imap.fetch("1", "(RFC822)")
        message = data[0][1]
    finally:
        imap.logout()
    assert b"Subject: to dovecot\r\n" in message
    assert message.endswith(b"\r\n\r\nfirst\r\n.dotted\r\nlast\r\n")


def test_an_mx_list_that_names_this_host_uses_only_better_ones_or_bounces(relay_factory, peers,
                                                                          dnsmasq):
    port = free_port()
    peer = peers(("127.0.0.1", port))
    # backup.test: we are the backup (20) and relay to the primary (10).
    # loop.test: we are the best MX, so nothing is left: a loop.
    dns = dnsmasq("--mx-host=backup.test,primary.backup.test,10",
                  "--mx-host=backup.test,test.example,20",
                  "--host-record=primary.backup.test,127.0.0.1",
                  "--mx-host=loop.test,test.example,10",
                  "--mx-host=loop.test,other.loop.test,20",
                  "--host-record=other.loop.test,127.0.0.1")
    lv = relay_factory(f"dns_servers=127.0.0.1:{dns}", f"smtp_tcp_port={port}")
    lv.sendmail(["nina@backup.test", "omar@loop.test"], mail("loops"))
    wait_log(lv, r"to=<nina@backup\.test>, relay=primary\.backup\.test\[127\.0\.0\.1\]:\d+, "
                 r".*status=sent")
    wait_log(lv, r"to=<omar@loop\.test>, relay=none, .*dsn=5\.4\.6, status=bounced "
                 r"\(mail for loop\.test loops back to myself\)")
    assert [t.rcpts for t in peer.transactions] == [[b"RCPT TO:<nina@backup.test>\r\n"]]

"""Client connection and rate limits: smtpd asking the anvil service.

Real instances (master, smtpd, anvil) on a loopback port of the test's
choosing; clients are raw sockets, so the test sees the exact replies.
The stock exceptions ($mynetworks) cover 127.0.0.1, so the tests that
want a limit to bite set smtpd_client_event_limit_exceptions empty.
"""

import os
import re
import signal
import socket
import time

from live import instance_pids, server_factory, wait_until  # noqa: F401 (fixture)

SERVICES = ("qmgr", "local", "anvil")
NO_EXCEPTIONS = "smtpd_client_event_limit_exceptions="


def start(server_factory, *settings, services=SERVICES):  # noqa: F811
    return server_factory(*settings, services=services)


def greeting(srv):
    """A new connection and its greeting line."""
    c = srv.raw()
    return c, c.reply()


def pids_of(srv, program):
    found = []
    for pid in instance_pids(srv.dir):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0]
        except OSError:
            continue
        if os.path.basename(argv0) == program.encode():
            found.append(pid)
    return found


def serving_pid(raw):
    """The process that holds the server side of raw's connection (found
    by the socket's inode in /proc/net/tcp and the processes' fds)."""
    port = raw.sock.getsockname()[1]
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == port:  # remote end: our client
                inode = fields[9]
    assert inode, "no server side for the connection"
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
            except OSError:
                continue
    raise AssertionError("no process holds the connection")


def service_name(srv):
    return re.escape(f"{srv.host}:{srv.port}")


def test_third_simultaneous_connection_gets_421_until_one_closes(server_factory):  # noqa: F811
    srv = start(server_factory, "smtpd_client_connection_count_limit=2", NO_EXCEPTIONS,
                "anvil_status_update_time=1s")
    a, ga = greeting(srv)
    b, gb = greeting(srv)
    assert ga.startswith("220 ") and gb.startswith("220 ")
    c, gc = greeting(srv)
    assert gc == "421 4.7.0 test.example Error: too many connections from 127.0.0.1"
    assert c.closed()
    assert re.search(r"warning: Connection concurrency limit exceeded: 3 from "
                     rf"localhost\[127\.0\.0\.1\] for service {service_name(srv)}$",
                     srv.log(), re.M), srv.log()
    # One leaves: there is room again.
    ended = srv.log().count("disconnect from localhost[127.0.0.1]")
    assert a.cmd("QUIT").startswith("221 ")
    a.close()
    assert wait_until(
        lambda: srv.log().count("disconnect from localhost[127.0.0.1]") > ended, 10)
    d, gd = greeting(srv)
    assert gd.startswith("220 "), gd
    for x in (b, d):
        x.cmd("QUIT")
        x.close()
    # anvil's periodic statistics, Postfix's shape.
    assert wait_until(lambda: re.search(
        rf"anvil\[\d+\]: statistics: max connection count 3 for \({service_name(srv)}:"
        r"127\.0\.0\.1\) at \w{3} [ \d]\d \d\d:\d\d:\d\d$", srv.log(), re.M), 15), srv.log()


def test_a_killed_smtpd_frees_its_slot(server_factory):  # noqa: F811
    srv = start(server_factory, "smtpd_client_connection_count_limit=2", NO_EXCEPTIONS)
    a, ga = greeting(srv)
    b, gb = greeting(srv)
    assert ga.startswith("220 ") and gb.startswith("220 ")
    victim = serving_pid(a)
    assert victim in pids_of(srv, "smtpd")
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: victim not in pids_of(srv, "smtpd"), 10)
    # anvil saw the connection close: a new client fits in the freed slot
    # (after master's short back-off for the killed child).
    c, gc = greeting(srv)
    assert gc.startswith("220 "), gc + srv.log()
    for x in (a, b, c):
        x.close()


def test_the_fourth_connection_in_a_minute_is_refused(server_factory):  # noqa: F811
    srv = start(server_factory, "smtpd_client_connection_rate_limit=3", NO_EXCEPTIONS)
    # The fixture's check that smtpd listens was a connection too.
    assert wait_until(lambda: "disconnect from localhost[127.0.0.1]" in srv.log(), 10)
    probes = len(re.findall(r"\]: connect from localhost\[127\.0\.0\.1\]", srv.log()))
    assert probes == 1, srv.log()
    for _ in range(3 - probes):
        c, g = greeting(srv)
        assert g.startswith("220 "), g
        assert c.cmd("QUIT").startswith("221 ")
        c.close()
    c, g = greeting(srv)
    assert g == "421 4.7.0 test.example Error: too many connections from 127.0.0.1"
    c.close()
    assert re.search(r"warning: Connection rate limit exceeded: 4 from "
                     rf"localhost\[127\.0\.0\.1\] for service {service_name(srv)}$",
                     srv.log(), re.M), srv.log()


def test_message_and_recipient_rate_limits(server_factory):  # noqa: F811
    srv = start(server_factory, "smtpd_client_message_rate_limit=2",
                "smtpd_client_recipient_rate_limit=3", NO_EXCEPTIONS)
    c, g = greeting(srv)
    assert g.startswith("220 ")
    assert c.cmd("EHLO client.example").startswith("250")
    for _ in range(2):
        assert c.cmd("MAIL FROM:<s@example.org>").startswith("250 ")
        assert c.cmd("RSET").startswith("250 ")
    assert c.cmd("MAIL FROM:<s@example.org>") == \
        "450 4.7.1 Error: too much mail from 127.0.0.1"
    assert re.search(r"warning: Message delivery request rate limit exceeded: 3 from "
                     rf"localhost\[127\.0\.0\.1\] for service {service_name(srv)}$",
                     srv.log(), re.M), srv.log()
    c.cmd("QUIT")
    c.close()
    # The rate spans sessions: a new connection is still over it.
    c, g = greeting(srv)
    assert c.cmd("EHLO client.example").startswith("250")
    assert c.cmd("MAIL FROM:<s@example.org>").startswith("450 4.7.1 ")
    c.cmd("QUIT")
    c.close()


def test_recipient_rate_limit(server_factory):  # noqa: F811
    srv = start(server_factory, "smtpd_client_recipient_rate_limit=2", NO_EXCEPTIONS)
    c, g = greeting(srv)
    assert c.cmd("EHLO client.example").startswith("250")
    assert c.cmd("MAIL FROM:<s@example.org>").startswith("250 ")
    for _ in range(2):
        assert c.cmd(f"RCPT TO:<{srv.addr}>").startswith("250 ")
    assert c.cmd(f"RCPT TO:<{srv.addr}>") == \
        "450 4.7.1 Error: too many recipients from 127.0.0.1"
    assert "warning: Recipient address rate limit exceeded: 3 from localhost[127.0.0.1]" \
        in srv.log()
    c.cmd("QUIT")
    c.close()


def test_exceptions_exempt_the_client(server_factory):  # noqa: F811
    # The stock exceptions are $mynetworks (127.0.0.0/8 here); an explicit
    # list too.
    for settings in ((), ("smtpd_client_event_limit_exceptions=192.0.2.0/24, 127.0.0.1",)):
        srv = start(server_factory, "smtpd_client_connection_count_limit=1",
                    "smtpd_client_connection_rate_limit=1", *settings)
        conns = [greeting(srv) for _ in range(3)]
        assert all(g.startswith("220 ") for _, g in conns), [g for _, g in conns]
        for c, _ in conns:
            c.close()
        assert "limit exceeded" not in srv.log()
        # Exempt clients cost anvil nothing: it was never asked.
        assert pids_of(srv, "anvil") == []


def test_without_anvil_smtpd_warns_and_accepts(server_factory):  # noqa: F811
    srv = start(server_factory, "smtpd_client_connection_count_limit=1", NO_EXCEPTIONS,
                services=("qmgr", "local"))
    conns = [greeting(srv) for _ in range(2)]
    assert all(g.startswith("220 ") for _, g in conns), [g for _, g in conns]
    for c, _ in conns:
        c.close()
    assert re.search(r"smtpd\[\d+\]: warning: problem talking to service private/anvil: ",
                     srv.log()), srv.log()


def test_a_killed_anvil_is_restarted_and_smtpd_keeps_accepting(server_factory):  # noqa: F811
    srv = start(server_factory, "smtpd_client_connection_count_limit=2", NO_EXCEPTIONS)
    a, g = greeting(srv)
    assert g.startswith("220 ")
    assert wait_until(lambda: pids_of(srv, "anvil"), 10)
    old = pids_of(srv, "anvil")[0]
    os.kill(old, signal.SIGKILL)
    assert wait_until(lambda: old not in pids_of(srv, "anvil"), 10)
    # Clients are served whether anvil is back yet or not.
    b, g = greeting(srv)
    assert g.startswith("220 "), g
    assert b.cmd("QUIT").startswith("221 ")
    b.close()
    # master starts a new anvil, and it counts again.
    assert wait_until(lambda: pids_of(srv, "anvil") and pids_of(srv, "anvil")[0] != old, 15), \
        srv.log()
    conns = []
    for _ in range(4):
        c, g = greeting(srv)
        conns.append(c)
        if g.startswith("421 "):
            break
    assert g == "421 4.7.0 test.example Error: too many connections from 127.0.0.1", \
        srv.log()
    for c in conns + [a]:
        c.close()


def anvil_request(sock, **attrs):
    data = b"".join(k.encode() + b"\0" + str(len(v)).encode() + b":" + v.encode() + b","
                    for k, v in attrs.items()) + b"\0"
    sock.sendall(data)


def anvil_reply(sock):
    buf = b""
    while not buf.endswith(b",\0"):
        chunk = sock.recv(4096)
        if not chunk:
            return None
        buf += chunk
    return dict(re.findall(rb"([a-z_]+)\0\d+:([^,]*),", buf))


def anvil_socket(srv):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(str(srv.dir / "spool" / "private" / "anvil"))
    return s


def test_anvil_protocol_counts_down_on_close_and_drops_malformed_clients(
        server_factory):  # noqa: F811
    srv = start(server_factory)
    ident = "smtp:192.0.2.9"
    first, second = anvil_socket(srv), anvil_socket(srv)
    anvil_request(first, request="connect", ident=ident)
    assert anvil_reply(first) == {b"status": b"0", b"count": b"1", b"rate": b"1"}
    anvil_request(second, request="connect", ident=ident)
    assert anvil_reply(second) == {b"status": b"0", b"count": b"2", b"rate": b"2"}
    anvil_request(second, request="message", ident=ident)
    assert anvil_reply(second) == {b"status": b"0", b"count": b"2", b"rate": b"1"}
    # Closing is the disconnect.
    first.close()
    third = anvil_socket(srv)
    assert wait_until(lambda: (anvil_request(third, request="recipient", ident=ident),
                               anvil_reply(third))[1][b"count"] == b"1", 10)
    # A disconnect for a connection this client never counted changes nothing.
    anvil_request(third, request="disconnect", ident=ident)
    assert anvil_reply(third)[b"count"] == b"1"
    # Garbage, an unknown request, a bad ident: the connection is closed.
    for bad in (b"\x01\x02garbage\0\0", {"request": "fly", "ident": "smtp:x"},
                {"request": "connect", "ident": "no colon"}):
        s = anvil_socket(srv)
        if isinstance(bad, bytes):
            s.sendall(bad)
        else:
            anvil_request(s, **bad)
        assert s.recv(100) == b""
        s.close()
    assert "anvil" in srv.log() and "closing a client connection: malformed request" in srv.log()
    assert 'closing a client connection: unknown request "fly"' in srv.log()
    assert "closing a client connection: a request without a valid request and ident" \
        in srv.log()
    # The well-behaved client is still served.
    anvil_request(second, request="disconnect", ident=ident)
    assert anvil_reply(second)[b"count"] == b"0"
    second.close()
    third.close()
    time.sleep(0.2)

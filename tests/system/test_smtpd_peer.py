"""smtpd's client name: the hosts file, then PTR and the forward check
through Postern's own DNS client, under one dns_lookup_timeout.

dnsmasq on a loopback port (dns_servers) serves the reverse names of
clients on 127.0.0.x: one whose name resolves back to it, one whose
name points elsewhere, one without a PTR record. A UDP socket that never
answers stands for a dead DNS server. Clients bind their own 127.0.0.x
source address; smtpd listens on 127.0.0.1.
"""

import re
import smtplib
import socket
import time

import pytest

from live import dnsmasq, server_factory, wait_until  # noqa: F401 (fixtures)

RECORDS = (
    "--local=/127.in-addr.arpa/",
    # 127.0.0.5: PTR good.peer.test, whose A record is 127.0.0.5.
    "--host-record=good.peer.test,127.0.0.5",
    # 127.0.0.6: PTR forged.peer.test, whose A record is another address.
    "--ptr-record=6.0.0.127.in-addr.arpa,forged.peer.test",
    "--host-record=forged.peer.test,127.0.0.99",
    # 127.0.0.7: no PTR record (NXDOMAIN).
)

RESTRICTIONS = ("smtpd_client_restrictions=reject_unknown_reverse_client_hostname, "
                "reject_unknown_client_hostname", "unknown_client_reject_code=550")


@pytest.fixture
def silent_dns():
    """A DNS server that never answers: a bound UDP socket nobody reads."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s.getsockname()[1]
    s.close()


def client(server, source):
    """Connect from source; the greeting's delay in seconds, and the client."""
    start = time.monotonic()
    c = smtplib.SMTP(server.host, server.port, local_hostname="client.example", timeout=30,
                     source_address=(source, 0))
    return time.monotonic() - start, c


def rcpt_reply(server, source):
    _, c = client(server, source)
    c.ehlo()
    assert c.mail("a@example.org")[0] == 250
    code, text = c.rcpt(server.addr)
    c.quit()
    return code, text.decode()


def connect_line(server, addr):
    pattern = rf"connect from (\S+)\[{re.escape(addr)}\]"
    assert wait_until(lambda: re.search(pattern, server.log()), timeout=10), server.log()
    return re.search(pattern, server.log()).group(1)


def test_a_name_that_resolves_back_is_the_clients_name(server_factory, dnsmasq):  # noqa: F811
    port = dnsmasq(*RECORDS)
    server = server_factory(f"dns_servers=127.0.0.1:{port}", *RESTRICTIONS, services=())
    assert rcpt_reply(server, "127.0.0.5")[0] == 250
    assert connect_line(server, "127.0.0.5") == "good.peer.test"
    assert "does not resolve" not in server.log()


def test_a_name_that_does_not_resolve_back_is_unknown_but_still_the_reverse_name(
        server_factory, dnsmasq):  # noqa: F811
    port = dnsmasq(*RECORDS)
    # check_reverse_client_hostname_access sees the unverified PTR name.
    server = server_factory(f"dns_servers=127.0.0.1:{port}",
                            "smtpd_client_restrictions=check_reverse_client_hostname_access "
                            "inline:{ forged.peer.test=REJECT }", services=())
    code, text = rcpt_reply(server, "127.0.0.6")
    # The table saw forged.peer.test (its reply names the client, as Postfix's).
    assert (code, text) == (554, "5.7.1 <unknown[127.0.0.6]>: Client host rejected: "
                                 "Access denied")
    assert connect_line(server, "127.0.0.6") == "unknown"
    assert "warning: hostname forged.peer.test does not resolve to address 127.0.0.6" \
        in server.log()

    server2 = server_factory(f"dns_servers=127.0.0.1:{port}", *RESTRICTIONS, services=())
    # A PTR name exists: the reverse check passes, the forward one refuses
    # with unknown_client_reject_code (the failure is permanent).
    assert rcpt_reply(server2, "127.0.0.6") == (
        550, "5.7.25 Client host rejected: cannot find your hostname, [127.0.0.6]")


def test_no_reverse_name_is_refused_by_the_reverse_check(server_factory, dnsmasq):  # noqa: F811
    port = dnsmasq(*RECORDS)
    server = server_factory(f"dns_servers=127.0.0.1:{port}", *RESTRICTIONS, services=())
    assert rcpt_reply(server, "127.0.0.7") == (
        550, "5.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.7]")
    assert connect_line(server, "127.0.0.7") == "unknown"


def test_a_silent_dns_server_delays_the_greeting_no_longer_than_the_timeout(
        server_factory, silent_dns):  # noqa: F811
    server = server_factory(f"dns_servers=127.0.0.1:{silent_dns}", "dns_lookup_timeout=2s",
                            *RESTRICTIONS, services=())
    delay, c = client(server, "127.0.0.8")
    c.quit()
    # The PTR lookup waited for its deadline (2s), and no longer.
    assert 1.8 <= delay < 3.5, delay
    assert connect_line(server, "127.0.0.8") == "unknown"
    # A failure for now: 450 whatever unknown_client_reject_code says.
    assert rcpt_reply(server, "127.0.0.8") == (
        450, "4.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.8]")
    # The hosts file answers for 127.0.0.1 without asking DNS at all.
    delay, c = client(server, "127.0.0.1")
    c.quit()
    assert delay < 1.0, delay
    assert re.search(r"connect from localhost\[127\.0\.0\.1\]", server.log())


def test_the_forward_lookup_shares_the_deadline(server_factory, dnsmasq,  # noqa: F811
                                                silent_dns):
    # dnsmasq answers the PTR query at once and forwards the A query for
    # the name (under fwd.test) to the silent server: the forward check
    # gets what is left of the one deadline.
    port = dnsmasq("--local=/127.in-addr.arpa/",
                   "--ptr-record=9.0.0.127.in-addr.arpa,slow.fwd.test",
                   f"--server=/fwd.test/127.0.0.1#{silent_dns}")
    server = server_factory(f"dns_servers=127.0.0.1:{port}", "dns_lookup_timeout=2s",
                            *RESTRICTIONS, services=())
    delay, c = client(server, "127.0.0.9")
    c.quit()
    assert 1.8 <= delay < 3.5, delay
    assert connect_line(server, "127.0.0.9") == "unknown"
    assert "hostname slow.fwd.test does not resolve to address 127.0.0.9" in server.log()
    # The reverse name is known; the client name failed for now: 450.
    assert rcpt_reply(server, "127.0.0.9") == (
        450, "4.7.25 Client host rejected: cannot find your hostname, [127.0.0.9]")


def test_peername_lookup_off_asks_nobody(server_factory, dnsmasq):  # noqa: F811
    port = dnsmasq(*RECORDS)
    server = server_factory(f"dns_servers=127.0.0.1:{port}", "smtpd_peername_lookup=no",
                            services=())
    _, c = client(server, "127.0.0.5")
    c.quit()
    assert connect_line(server, "127.0.0.5") == "unknown"
    _, c = client(server, "127.0.0.1")
    c.quit()
    assert connect_line(server, "127.0.0.1") == "unknown"

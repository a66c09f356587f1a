"""System tests for check_{helo,sender,recipient}_{mx,ns,a}_access: the
DNS hosts of a domain looked up in an access table. A real instance
asks a real DNS server (dnsmasq on a loopback port) and reads real
tables (texthash:, cidr:).
"""

import pytest

from live import dnsmasq, server_factory  # noqa: F401
from test_smtpd_restrictions import session, table  # noqa: F401


def wire_name(name):
    """A domain name in DNS wire format, as dnsmasq's --dns-rr hex."""
    out = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    return out.hex()


RECORDS = (
    # MX hosts listed by name, by address, and one that is allowed.
    "--mx-host=byname.test,mx.spamhost.test,10", "--host-record=mx.spamhost.test,192.0.2.10",
    "--mx-host=byaddr.test,mail.byaddr.test,10", "--host-record=mail.byaddr.test,198.51.100.7",
    "--mx-host=clean.test,mx.clean.test,10", "--host-record=mx.clean.test,192.0.2.20",
    # Without MX records: the domain itself is the host.
    "--host-record=nomx.test,198.51.100.9",
    # An MX host whose table value is OK: not allowed, so no decision.
    "--mx-host=okay.test,mx.okay.test,10", "--host-record=mx.okay.test,192.0.2.30",
    # NS records (wire format); sub.nsbad.test has none: its parent's count.
    f"--dns-rr=nsbad.test,2,{wire_name('ns1.badns.test')}",
    "--host-record=ns1.badns.test,192.0.2.53", "--host-record=sub.nsbad.test,192.0.2.54",
    f"--dns-rr=nsgood.test,2,{wire_name('ns.clean.test')}",
    "--host-record=ns.clean.test,192.0.2.55",
    # A records of the domain itself.
    "--host-record=abad.test,203.0.113.66", "--host-record=agood.test,192.0.2.67",
)

NAMES = """\
spamhost.test   REJECT spam host
badns.test      550 5.7.9 bad name server
mx.okay.test    OK
"""
NETS = """\
198.51.100.0/24 REJECT listed network
203.0.113.66/32 REJECT listed address
"""


@pytest.fixture
def dns_server(server_factory, dnsmasq, table):
    """start(restrictions): an instance with dnsmasq and the two tables."""
    port = dnsmasq(*RECORDS)
    names = table("names", NAMES)
    nets = table("nets.cidr", NETS)

    def start(param, checks):
        lst = ", ".join(f"{c} {t}" for c in checks for t in (f"texthash:{names}",
                                                               f"cidr:{nets}"))
        return server_factory(f"dns_servers=127.0.0.1:{port}", f"{param}={lst}",
                              services=())
    return start


@pytest.mark.parametrize("domain, reply", [
    ("byname.test", "554 5.7.1 <a@byname.test>: Sender address rejected: spam host"),
    ("byaddr.test", "554 5.7.1 <a@byaddr.test>: Sender address rejected: listed network"),
    ("nomx.test", "554 5.7.1 <a@nomx.test>: Sender address rejected: listed network"),
    ("clean.test", None),
    ("okay.test", None),
    ("nxdomain.test", None),
])
def test_sender_mx_access(dns_server, domain, reply):
    server = dns_server("smtpd_sender_restrictions", ["check_sender_mx_access"])
    s = session(server, sender=f"a@{domain}")
    got = s.cmd(f"RCPT TO:<{server.addr}>")
    assert got == (reply or "250 2.1.5 Ok"), server.log()
    if domain == "okay.test":
        assert "OK is not allowed here" in server.log()


@pytest.mark.parametrize("domain, reply", [
    ("nsbad.test", "550 5.7.9 <a@nsbad.test>: Sender address rejected: bad name server"),
    ("sub.nsbad.test",
     "550 5.7.9 <a@sub.nsbad.test>: Sender address rejected: bad name server"),
    ("nsgood.test", None),
])
def test_sender_ns_access(dns_server, domain, reply):
    server = dns_server("smtpd_sender_restrictions", ["check_sender_ns_access"])
    s = session(server, sender=f"a@{domain}")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (reply or "250 2.1.5 Ok"), server.log()


@pytest.mark.parametrize("domain, reply", [
    ("abad.test", "554 5.7.1 <a@abad.test>: Sender address rejected: listed address"),
    ("agood.test", None),
])
def test_sender_a_access(dns_server, domain, reply):
    server = dns_server("smtpd_sender_restrictions", ["check_sender_a_access"])
    s = session(server, sender=f"a@{domain}")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (reply or "250 2.1.5 Ok"), server.log()


def test_helo_and_recipient_checks(dns_server):
    server = dns_server("smtpd_helo_restrictions",
                        ["check_helo_mx_access", "check_helo_ns_access", "check_helo_a_access"])
    s = session(server, helo="abad.test")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "554 5.7.1 <abad.test>: Helo command rejected: listed address")
    s = session(server, helo="clean.test")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"

    server = dns_server("smtpd_recipient_restrictions",
                        ["check_recipient_mx_access", "check_recipient_ns_access",
                         "check_recipient_a_access"])
    s = session(server)
    assert s.cmd("RCPT TO:<x@byname.test>") == (
        "554 5.7.1 <x@byname.test>: Recipient address rejected: spam host")
    assert s.cmd("RCPT TO:<x@nsbad.test>") == (
        "550 5.7.9 <x@nsbad.test>: Recipient address rejected: bad name server")


def test_dns_failure_decides_nothing(server_factory, table):
    names = table("names", NAMES)
    # Nobody answers on this port: the lookups time out, are logged, and
    # the mail goes on.
    from live import free_port
    server = server_factory(f"dns_servers=127.0.0.1:{free_port()}", "dns_lookup_timeout=1s",
                            f"smtpd_sender_restrictions=check_sender_mx_access texthash:{names}",
                            services=())
    s = session(server, sender="a@byname.test")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    assert "check_sender_mx_access: unable to look up MX hosts of byname.test" in server.log()


def test_client_checks(server_factory, dnsmasq, table):
    # The client 127.0.0.1 is named localhost (its PTR); here localhost's
    # A record is 127.0.0.5 and its MX host mx.bad.test.
    port = dnsmasq("--host-record=localhost,127.0.0.5", "--mx-host=localhost,mx.bad.test,10")
    nets = table("nets.cidr", "127.0.0.5/32 REJECT client a record\n")
    names = table("names", "bad.test 550 5.7.2 client mx host\n")
    server = server_factory(f"dns_servers=127.0.0.1:{port}",
                            f"smtpd_client_restrictions=check_client_a_access cidr:{nets}",
                            services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: client a record")
    # The MX host's name, by its parent domain.
    server = server_factory(f"dns_servers=127.0.0.1:{port}",
                            "smtpd_client_restrictions=check_reverse_client_mx_access "
                            f"texthash:{names}", services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "550 5.7.2 <localhost[127.0.0.1]>: Client host rejected: client mx host")

"""System tests for smtpd's access policy: the restriction lists, their
stages with smtpd_delay_reject yes and no, restriction classes,
warn_if_reject and defer_if_*, and the NOQUEUE log lines.

Each test starts a real instance (test_smtpd's server_factory: master,
smtpd on a loopback port of the test's choosing) and talks to it over a
real socket. The client is 127.0.0.1, named localhost by its PTR.
"""

import pathlib
import re
import shutil
import smtplib
import socket
import tempfile
import time

import pytest

from conftest import run as run_cmd
from live import (BIN, PrivatePostfix, dnsmasq, free_port, wait_until,  # noqa: F401
                  server_factory)

CLIENT = "localhost[127.0.0.1]"
RCPT_LOG = "NOQUEUE: reject: RCPT from " + CLIENT + ": "


def session(server, helo="client.example", sender="a@example.org"):
    """Greeting, EHLO and MAIL, each expected to pass; the raw client."""
    s = server.raw()
    assert s.reply().startswith("220 ")
    assert s.cmd(f"EHLO {helo}").startswith("250")
    assert s.cmd(f"MAIL FROM:<{sender}>").startswith("250 ")
    return s


# ---- each list at its stage ----

def test_client_list_rejects_at_rcpt_with_delay_reject(server_factory):
    server = server_factory("smtpd_client_restrictions=reject", services=())
    s = session(server)
    rcpt = server.addr
    assert s.cmd(f"RCPT TO:<{rcpt}>") == (
        f"554 5.7.1 <{CLIENT}>: Client host rejected: Access denied")
    s.cmd("QUIT")
    assert (RCPT_LOG + f"554 5.7.1 <{CLIENT}>: Client host rejected: Access denied; "
            f"from=<a@example.org> to=<{rcpt}> proto=ESMTP helo=<client.example>") in server.log()


def test_client_list_refuses_the_connection_without_delay_reject(server_factory):
    server = server_factory("smtpd_client_restrictions=reject", "smtpd_delay_reject=no",
                            services=())
    s = server.raw()
    assert s.reply() == f"554 5.7.1 <{CLIENT}>: Client host rejected: Access denied"
    assert s.cmd("EHLO client.example") == f"503 5.7.0 Error: access denied for {CLIENT}"
    assert s.cmd("MAIL FROM:<a@example.org>") == (
        f"503 5.7.0 Error: access denied for {CLIENT}")
    assert s.cmd("QUIT").startswith("221")
    assert (f"NOQUEUE: reject: CONNECT from {CLIENT}: 554 5.7.1 <{CLIENT}>: Client host "
            "rejected: Access denied") in server.log()


@pytest.mark.parametrize("restriction, helo, reply", [
    ("reject_invalid_helo_hostname", "bad_host!",
     "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name"),
    ("reject_invalid_helo_hostname", "-a.example",
     "501 5.5.2 <-a.example>: Helo command rejected: Invalid name"),
    ("reject_non_fqdn_helo_hostname", "client",
     "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname"),
])
def test_helo_list_at_rcpt_and_at_helo(server_factory, restriction, helo, reply):
    delayed = server_factory(f"smtpd_helo_restrictions={restriction}", services=())
    s = session(delayed, helo=helo)
    assert s.cmd(f"RCPT TO:<{delayed.addr}>") == reply
    assert RCPT_LOG + reply + f"; from=<a@example.org> to=<{delayed.addr}>" in delayed.log()

    server = server_factory(f"smtpd_helo_restrictions={restriction}", "smtpd_delay_reject=no",
                            services=())
    s = server.raw()
    s.reply()
    assert s.cmd(f"EHLO {helo}") == reply
    assert f"NOQUEUE: reject: EHLO from {CLIENT}: {reply}" in server.log()
    # A good name passes; address literals are valid names.
    assert s.cmd("EHLO client.example").startswith("250")
    assert s.cmd("HELO [127.0.0.1]").startswith("250")


def test_helo_list_passes_good_names(server_factory):
    server = server_factory(
        "smtpd_helo_restrictions=reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
        services=())
    for helo in ("mail.example.org", "[192.0.2.1]", "[IPv6:2001:db8::1]", "Mail-1.Example.ORG."):
        s = session(server, helo=helo)
        assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok", helo
        s.cmd("QUIT")


def test_sender_list_at_rcpt_and_at_mail(server_factory):
    reply = "504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address"
    delayed = server_factory("smtpd_sender_restrictions=reject_non_fqdn_sender", services=())
    s = session(delayed, sender="a@localhost")
    assert s.cmd(f"RCPT TO:<{delayed.addr}>") == reply
    s.cmd("RSET")
    # The null sender is fully qualified enough.
    assert s.cmd("MAIL FROM:<>").startswith("250")
    assert s.cmd(f"RCPT TO:<{delayed.addr}>") == "250 2.1.5 Ok"

    server = server_factory("smtpd_sender_restrictions=reject_non_fqdn_sender",
                            "smtpd_delay_reject=no", services=())
    s = server.raw()
    s.reply()
    s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<a@localhost>") == reply
    assert (f"NOQUEUE: reject: MAIL from {CLIENT}: {reply}; from=<a@localhost> proto=ESMTP "
            "helo=<client.example>") in server.log()
    # The refused sender was not kept: RCPT needs a MAIL.
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("503")


@pytest.mark.parametrize("delay", ["yes", "no"])
def test_data_list_refuses_data_and_bdat(server_factory, delay):
    server = server_factory("smtpd_data_restrictions=reject", f"smtpd_delay_reject={delay}",
                            services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    assert s.cmd("DATA") == "554 5.7.1 <DATA>: Data command rejected: Access denied"
    s.send("BDAT 5 LAST\r\nhello")
    assert s.reply() == "554 5.7.1 <DATA>: Data command rejected: Access denied"
    s.cmd("QUIT")
    assert server.queued() == []
    assert (f"reject: DATA from {CLIENT}: 554 5.7.1 <DATA>: Data command rejected: "
            "Access denied") in server.log()


def test_end_of_data_list_refuses_before_commit(server_factory):
    server = server_factory("smtpd_end_of_data_restrictions=reject", services=())
    s = session(server)
    s.cmd(f"RCPT TO:<{server.addr}>")
    assert s.cmd("DATA").startswith("354")
    assert s.cmd("Subject: x\r\n\r\nbody\r\n.") == (
        "554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied")
    s.cmd("QUIT")
    assert server.queued() == []
    assert ": reject: END-OF-MESSAGE from " + CLIENT in server.log()


# ---- classes, warn_if_reject, defer_if_* ----

def test_restriction_class_in_a_list(server_factory):
    server = server_factory(
        "smtpd_restriction_classes=strict, lenient",
        "strict=reject_non_fqdn_sender, lenient",
        "lenient=reject_unlisted_sender, permit",
        "smtpd_sender_restrictions=strict, reject", services=())
    s = session(server, sender="a@localhost")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("504 5.5.2 <a@localhost>")
    s.cmd("RSET")
    s.cmd("MAIL FROM:<nobody-here@test.example>")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "550 5.1.0 <nobody-here@test.example>: Sender address rejected: User unknown in "
        "local recipient table")
    s.cmd("RSET")
    # The class permits: the final reject of the sender list is not reached.
    s.cmd("MAIL FROM:<a@example.org>")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"


def test_a_class_that_names_itself_is_a_configuration_error(server_factory):
    server = server_factory("smtpd_restriction_classes=loop", "loop=loop",
                            "smtpd_sender_restrictions=loop", services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "451 4.3.5 Server configuration error"
    assert "smtpd_sender_restrictions: restriction classes nested more than" in server.log()


def test_warn_if_reject_only_logs_the_next_reject(server_factory):
    server = server_factory(
        "smtpd_sender_restrictions=warn_if_reject, reject_non_fqdn_sender, "
        "reject_unlisted_sender", services=())
    sender = f"{server.login}@localhost"
    s = session(server, sender=sender)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    assert (f"NOQUEUE: reject_warning: RCPT from {CLIENT}: 504 5.5.2 <{sender}>: Sender "
            f"address rejected: need fully-qualified address; from=<{sender}> "
            f"to=<{server.addr}> proto=ESMTP helo=<client.example>") in server.log()
    # Only the next one: the restriction after it still rejects.
    s.cmd("RSET")
    s.cmd("MAIL FROM:<nobody-here@test.example>")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("550 5.1.0")


def test_defer_if_permit_defers_what_would_pass(server_factory):
    server = server_factory("mynetworks=127.0.0.2/32",
                            "smtpd_client_restrictions=defer_if_permit", services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        f"450 4.7.0 <{CLIENT}>: Client host rejected: defer_if_permit requested")
    # A reject stays a reject.
    assert s.cmd("RCPT TO:<u@remote.example>") == (
        "454 4.7.1 <u@remote.example>: Relay access denied")


def test_defer_if_reject_turns_a_reject_into_a_deferral(server_factory):
    server = server_factory(
        "smtpd_sender_restrictions=defer_if_reject, reject_non_fqdn_sender", services=())
    s = session(server, sender="a@localhost")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "450 4.5.2 <a@localhost>: Sender address rejected: need fully-qualified address")


def test_reject_and_defer_codes_come_from_main_cf(server_factory):
    server = server_factory("reject_code=550", "defer_code=451",
                            "smtpd_recipient_restrictions=reject_unauth_destination, "
                            "check_nothing_here", services=())
    s = session(server)
    # An unknown restriction is a configuration error, never a permit.
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "451 4.3.5 Server configuration error"
    assert ('smtpd_recipient_restrictions: unknown restriction "check_nothing_here"'
            in server.log())
    server = server_factory("reject_code=550", "defer_code=451",
                            "smtpd_helo_restrictions=defer", "smtpd_sender_restrictions=reject",
                            services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "451 4.7.1 <client.example>: Helo command rejected: Access denied")
    server = server_factory("reject_code=550", "smtpd_sender_restrictions=reject", services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "550 5.7.1 <a@example.org>: Sender address rejected: Access denied")


@pytest.mark.parametrize("param", ["smtpd_client_restrictions", "smtpd_data_restrictions"])
def test_unknown_restriction_in_any_list_is_a_configuration_error(server_factory, param):
    server = server_factory(f"{param}=permit_mynetworks, reject_everything_bad", services=())
    s = session(server)
    rcpt = s.cmd(f"RCPT TO:<{server.addr}>")
    if param == "smtpd_client_restrictions":
        assert rcpt == "451 4.3.5 Server configuration error"
    else:
        assert rcpt == "250 2.1.5 Ok"
        assert s.cmd("DATA") == "451 4.3.5 Server configuration error"
    assert f'{param}: unknown restriction "reject_everything_bad"' in server.log()


# ---- the other generic restrictions ----

def test_reject_unauth_pipelining_in_the_data_list(server_factory):
    server = server_factory("smtpd_forbid_unauth_pipelining=no",
                            "smtpd_data_restrictions=reject_unauth_pipelining", services=())
    s = session(server)
    s.cmd(f"RCPT TO:<{server.addr}>")
    # Content sent with DATA, before the 354.
    s.send("DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n")
    assert s.reply() == ("503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP "
                         "command pipelining")
    s.close()
    # A client that waits passes.
    s = session(server)
    s.cmd(f"RCPT TO:<{server.addr}>")
    assert s.cmd("DATA").startswith("354")


@pytest.mark.parametrize("restriction, text", [
    ("reject_unknown_client_hostname", "cannot find your hostname"),
    ("reject_unknown_reverse_client_hostname", "cannot find your reverse hostname"),
])
def test_clients_without_a_name(server_factory, restriction, text):
    # Without name lookup the client has no name at all.
    server = server_factory("smtpd_peername_lookup=no",
                            f"smtpd_client_restrictions={restriction}", services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        f"450 4.7.25 Client host rejected: {text}, [127.0.0.1]")
    # 127.0.0.1 is localhost, both ways.
    server = server_factory(f"smtpd_client_restrictions={restriction}", services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"


def test_unlisted_recipient_and_sender(server_factory):
    server = server_factory("smtpd_reject_unlisted_recipient=no",
                            "smtpd_reject_unlisted_sender=yes", services=())
    s = session(server, sender="ghost@test.example")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "550 5.1.0 <ghost@test.example>: Sender address rejected: User unknown in local "
        "recipient table")
    s.cmd("RSET")
    s.cmd("MAIL FROM:<a@example.org>")
    # Without the implicit check an unknown local user passes ...
    assert s.cmd("RCPT TO:<ghost@test.example>") == "250 2.1.5 Ok"
    server = server_factory("smtpd_reject_unlisted_recipient=no",
                            "smtpd_recipient_restrictions=reject_unlisted_recipient, "
                            "reject_unauth_destination", services=())
    s = session(server)
    # ... unless the list asks for it.
    assert s.cmd("RCPT TO:<ghost@test.example>") == (
        "550 5.1.1 <ghost@test.example>: Recipient address rejected: User unknown in local "
        "recipient table")


def test_helo_required(server_factory):
    server = server_factory("smtpd_helo_required=yes", services=())
    s = server.raw()
    s.reply()
    assert s.cmd("MAIL FROM:<a@example.org>") == "503 5.5.1 Error: send HELO/EHLO first"
    assert s.cmd("HELO client.example").startswith("250")
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250")


def test_no_list_combination_opens_the_relay(server_factory):
    # Every list permits, but neither relay nor recipient list can refuse.
    server = server_factory("mynetworks=127.0.0.2/32", "smtpd_client_restrictions=permit",
                            "smtpd_relay_restrictions=permit_auth_destination",
                            "smtpd_recipient_restrictions=permit", services=())
    s = session(server)
    assert s.cmd("RCPT TO:<u@remote.example>") == "451 4.3.5 Server configuration error"
    # A class that can refuse counts.
    server = server_factory("mynetworks=127.0.0.2/32", "smtpd_restriction_classes=guard",
                            "guard=reject_unauth_destination",
                            "smtpd_relay_restrictions=permit_mynetworks, guard",
                            "smtpd_recipient_restrictions=permit", services=())
    s = session(server)
    assert s.cmd("RCPT TO:<u@remote.example>") == (
        "554 5.7.1 <u@remote.example>: Relay access denied")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"


# ---- access tables ----

@pytest.fixture
def table():
    """write(name, text) -> path of a table source every user can read."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-access-"))
    d.chmod(0o755)

    def write(name, text):
        p = d / name
        p.write_text(text)
        p.chmod(0o644)
        return p
    yield write
    shutil.rmtree(d, ignore_errors=True)


# Values every access-table test uses, here and beside Postfix below.
COMMON_ACCESS = """\
reject@example.org      REJECT
custom@example.org      550 5.7.2 you are blocked
defer@example.org       DEFER try later
code@example.org        REJECT 5.7.9 with its own status
sub.example.net         REJECT domain blocked
anyuser@                REJECT any domain
<>                      550 no bounces here
ok@example.org          OK
dunno@example.org       DUNNO
dip@example.org         DEFER_IF_PERMIT checking later
"""

SENDER_TABLE = COMMON_ACCESS + """\
warn@example.org        WARN odd sender
digits@example.org      12345
class@example.org       strict
list@example.org        reject_unauth_destination, permit
bad@example.org         650 nonsense
tables@example.org      check_client_access texthash:/etc/passwd
"""


def sender_server(server_factory, table, *extra):
    path = table("access", SENDER_TABLE)
    return server_factory(f"smtpd_sender_restrictions=check_sender_access texthash:{path}, "
                          "reject_non_fqdn_sender", "smtpd_restriction_classes=strict",
                          "strict=reject", *extra, services=())


@pytest.mark.parametrize("sender, reply", [
    ("reject@example.org", "554 5.7.1 <reject@example.org>: Sender address rejected: "
     "Access denied"),
    ("Custom@Example.ORG", "550 5.7.2 <Custom@Example.ORG>: Sender address rejected: "
     "you are blocked"),
    ("defer@example.org", "450 4.7.1 <defer@example.org>: Sender address rejected: try later"),
    ("code@example.org", "554 5.7.9 <code@example.org>: Sender address rejected: with its "
     "own status"),
    # The domain, then its parents (parent_domain_matches_subdomains).
    ("x@sub.example.net", "554 5.7.1 <x@sub.example.net>: Sender address rejected: domain "
     "blocked"),
    ("x@deep.sub.example.net", "554 5.7.1 <x@deep.sub.example.net>: Sender address rejected: "
     "domain blocked"),
    # user@, then user+ext@ via the extension.
    ("anyuser@elsewhere.example", "554 5.7.1 <anyuser@elsewhere.example>: Sender address "
     "rejected: any domain"),
    ("anyuser+tag@elsewhere.example", "554 5.7.1 <anyuser+tag@elsewhere.example>: Sender "
     "address rejected: any domain"),
    ("", "550 5.7.1 <>: Sender address rejected: no bounces here"),
    # OK and all digits permit the list: reject_non_fqdn_sender is not reached.
    ("ok@example.org", None),
    ("digits@example.org", None),
    ("dunno@example.org", None),
    ("warn@example.org", None),
    ("class@example.org", "554 5.7.1 <class@example.org>: Sender address rejected: "
     "Access denied"),
    ("dip@example.org", "450 4.7.1 <dip@example.org>: Sender address rejected: "
     "checking later"),
    ("bad@example.org", "451 4.3.5 Server configuration error"),
    ("tables@example.org", "451 4.3.5 Server configuration error"),
])
def test_sender_access_actions(server_factory, table, sender, reply):
    server = sender_server(server_factory, table)
    s = session(server, sender=sender)
    got = s.cmd(f"RCPT TO:<{server.addr}>")
    assert got == (reply or "250 2.1.5 Ok")
    if reply and not reply.startswith("451"):
        assert (RCPT_LOG + reply + f"; from=<{sender}> to=<{server.addr}>") in server.log()


def test_access_ok_and_dunno_differ(server_factory, table):
    path = table("access", "ok.example OK\ndunno.example DUNNO\n")
    server = server_factory(f"smtpd_sender_restrictions=check_sender_access texthash:{path}, "
                            "reject", services=())
    s = session(server, sender="a@ok.example")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    s = session(server, sender="a@dunno.example")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("554 5.7.1 <a@dunno.example>")


def test_warn_and_restriction_list_results(server_factory, table):
    server = sender_server(server_factory, table, "mynetworks=127.0.0.2/32")
    s = session(server, sender="warn@example.org")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    assert (f"NOQUEUE: warn: RCPT from {CLIENT}: odd sender; from=<warn@example.org> "
            f"to=<{server.addr}>") in server.log()
    # "reject_unauth_destination, permit" as the value, judged per recipient.
    s = session(server, sender="list@example.org")
    assert s.cmd("RCPT TO:<u@remote.example>") == (
        "554 5.7.1 <u@remote.example>: Relay access denied")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"


def test_access_map_codes(server_factory, table):
    server = sender_server(server_factory, table, "access_map_reject_code=550",
                           "access_map_defer_code=451")
    s = session(server, sender="reject@example.org")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("550 5.7.1 <reject@example.org>")
    s = session(server, sender="defer@example.org")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("451 4.7.1 <defer@example.org>")


def test_client_access_by_name_address_and_prefix(server_factory, table):
    for line, reply in [
        ("127.0.0.1 REJECT by address", "by address"),
        ("127.0 REJECT by network", "by network"),
        ("localhost REJECT by name", "by name"),
    ]:
        path = table("clients", line + "\n")
        server = server_factory(f"smtpd_client_restrictions=check_client_access "
                                f"texthash:{path}", services=())
        s = session(server)
        assert s.cmd(f"RCPT TO:<{server.addr}>") == (
            f"554 5.7.1 <{CLIENT}>: Client host rejected: {reply}")
    # A cidr: table sees the address.
    path = table("clients.cidr", "127.0.0.0/8 550 5.7.3 loopback\n")
    server = server_factory(f"smtpd_client_restrictions=check_client_access cidr:{path}",
                            "smtpd_delay_reject=no", services=())
    s = server.raw()
    assert s.reply() == f"550 5.7.3 <{CLIENT}>: Client host rejected: loopback"


def test_reverse_client_and_helo_access(server_factory, table):
    path = table("names", "localhost 550 reverse name\nexample.com REJECT helo domain\n")
    server = server_factory(
        f"smtpd_client_restrictions=check_reverse_client_hostname_access texthash:{path}",
        services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        f"550 5.7.1 <{CLIENT}>: Client host rejected: reverse name")
    server = server_factory(f"smtpd_helo_restrictions=check_helo_access texthash:{path}",
                            services=())
    s = session(server, helo="mx.example.com")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "554 5.7.1 <mx.example.com>: Helo command rejected: helo domain")
    s = session(server, helo="mx.example.org")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"


def test_recipient_access_before_relay_control(server_factory, table):
    path = table("rcpts", "team@test.example REJECT no mail for the team\n"
                          "test.example DUNNO\n")
    server = server_factory(
        f"smtpd_recipient_restrictions=check_recipient_access texthash:{path}", services=())
    s = session(server)
    assert s.cmd("RCPT TO:<team@test.example>") == (
        "554 5.7.1 <team@test.example>: Recipient address rejected: no mail for the team")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"


def test_pattern_tables_see_the_whole_address_only(server_factory, table):
    path = table("senders.pcre", "/^example\\.org$/ REJECT domain key\n"
                                 "/@blocked\\.example$/ REJECT whole address\n")
    server = server_factory(f"smtpd_sender_restrictions=check_sender_access pcre:{path}",
                            services=())
    s = session(server, sender="a@example.org")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    s = session(server, sender="a@blocked.example")
    assert s.cmd(f"RCPT TO:<{server.addr}>").endswith("Sender address rejected: whole address")


def test_a_broken_table_defers_never_permits(server_factory, table):
    path = table("broken.pcre", "/unclosed( REJECT\n")
    server = server_factory(f"smtpd_sender_restrictions=check_sender_access pcre:{path}",
                            services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "451 4.3.0 <a@example.org>: Temporary lookup failure")
    assert f"smtpd_sender_restrictions: pcre:{path}" in server.log()
    server = server_factory("smtpd_client_restrictions=check_client_access "
                            f"hash:{path}.missing", services=())
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        f"451 4.3.0 <{CLIENT}>: Temporary lookup failure")


def test_hash_table_built_or_rebuilt_by_postmap_is_seen(server_factory, table):
    path = table("access", "blocked.example REJECT\n")
    server = server_factory(f"smtpd_sender_restrictions=check_sender_access hash:{path}",
                            services=())
    s = session(server, sender="x@mail.blocked.example")
    # No access.db yet: a lookup failure, never a permit.
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "451 4.3.0 <x@mail.blocked.example>: Temporary lookup failure")
    s.cmd("QUIT")

    def postmap():
        r = run_cmd([BIN / "postmap", "-c", server.dir, f"hash:{path}"])
        assert r.returncode == 0, r.stderr
        (path.parent / "access.db").chmod(0o644)
    postmap()
    s = session(server, sender="x@mail.blocked.example")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith("554 5.7.1 <x@mail.blocked.example>")
    s.cmd("QUIT")
    path.write_text("other.example REJECT\n")
    time.sleep(1.1)  # a new mtime
    postmap()
    s = session(server, sender="x@mail.blocked.example")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"


# ---- message actions through cleanup ----

ACTION_TABLE = """\
hold@example.org        HOLD
discard@example.org     DISCARD
redirect@example.org    REDIRECT team@test.example
filter@example.org      FILTER scan:[127.0.0.1]:10025
prepend@example.org     PREPEND X-Access: seen
"""


def send_one(server, sender):
    s = session(server, sender=sender)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    assert s.cmd("DATA").startswith("354")
    reply = s.cmd("Subject: actions\r\n\r\nbody\r\n.")
    s.cmd("QUIT")
    return reply


def test_hold_discard_redirect_filter_prepend(server_factory, table):
    path = table("actions", ACTION_TABLE)
    server = server_factory(f"smtpd_sender_restrictions=check_sender_access texthash:{path}",
                            services=())
    assert send_one(server, "hold@example.org").startswith("250 2.0.0 Ok: queued as")
    assert len(server.queued("hold")) == 1
    assert f"hold: RCPT from {CLIENT}: <hold@example.org>: Sender address triggers HOLD " \
           "action; from=<hold@example.org>" in server.log()

    assert send_one(server, "discard@example.org").startswith("250 ")
    assert server.queued() == []
    assert "discard: RCPT from " + CLIENT in server.log()

    send_one(server, "redirect@example.org")
    (qid,) = server.queued()
    text = server.postcat(qid)
    assert "team@test.example" in text
    assert "redirect: RCPT from " + CLIENT in server.log()

    send_one(server, "filter@example.org")
    qid = [q for q in server.queued() if q != qid][0]
    assert "content_filter" in server.postcat(qid) and "scan:[127.0.0.1]:10025" in \
        server.postcat(qid)

    send_one(server, "prepend@example.org")
    assert len([q for q in server.queued() if "X-Access: seen" in server.postcat(q)]) == 1


# ---- DNS: names that must exist, block and allow lists (dnsmasq) ----

DNS_RECORDS = (
    "--mx-host=exists.test,mx.exists.test,10", "--host-record=mx.exists.test,127.0.0.1",
    "--host-record=arec.test,127.0.0.1", "--mx-host=nullmx.test,.,0",
    # Block lists: the client 127.0.0.1 is listed in bl.test (127.0.0.2,
    # with a reason) and in bl4.test (127.0.0.4); allowed in wl.test.
    "--host-record=1.0.0.127.bl.test,127.0.0.2",
    "--txt-record=1.0.0.127.bl.test,listed for testing",
    "--host-record=1.0.0.127.bl4.test,127.0.0.4",
    "--host-record=1.0.0.127.wl.test,127.0.0.10",
    # Domain lists: the sender domain, the HELO name, the client's name.
    "--host-record=spammer.test.rhs.test,127.0.0.2",
    "--host-record=badhelo.test.rhs.test,127.0.0.2",
    "--host-record=localhost.rhs.test,127.0.0.2",
)


@pytest.fixture
def dns_server(server_factory, dnsmasq):
    """start(*settings): an instance whose DNS is dnsmasq with DNS_RECORDS."""
    port = dnsmasq(*DNS_RECORDS)

    def start(*settings):
        return server_factory(f"dns_servers=127.0.0.1:{port}", *settings, services=())
    return start


@pytest.mark.parametrize("zone, listed", [
    ("bl.test", True), ("bl.test=127.0.0.2", True), ("bl.test=127.0.0.3", False),
    ("bl4.test=127.0.0.[3..5]", True), ("bl4.test=127.0.[0..255].[1;2;10..20]", False),
    ("other.test", False),
])
def test_reject_rbl_client(dns_server, zone, listed):
    server = dns_server(f"smtpd_client_restrictions=reject_rbl_client {zone}")
    s = session(server)
    got = s.cmd(f"RCPT TO:<{server.addr}>")
    if not listed:
        assert got == "250 2.1.5 Ok"
        return
    name = zone.split("=")[0]
    reason = "; listed for testing" if name == "bl.test" else ""
    reply = (f"554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
             f"{name}{reason}")
    assert got == reply
    assert RCPT_LOG + reply + "; from=<a@example.org>" in server.log()


def test_permit_dnswl_client_and_rbl_reply_maps(dns_server, table):
    server = dns_server("smtpd_client_restrictions=permit_dnswl_client wl.test, "
                        "reject_rbl_client bl.test")
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok"
    path = table("rbl_replies", "bl.test 550 5.7.9 $rbl_what is on $rbl_domain ($rbl_reason)\n")
    server = dns_server("smtpd_client_restrictions=reject_rbl_client bl.test",
                        f"rbl_reply_maps=texthash:{path}")
    s = session(server)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "550 5.7.9 127.0.0.1 is on bl.test (listed for testing)")


@pytest.mark.parametrize("restriction, helo, sender, reply", [
    ("reject_rhsbl_sender rhs.test", "client.example", "x@spammer.test",
     "554 5.7.1 Service unavailable; Sender address [spammer.test] blocked using rhs.test"),
    ("reject_rhsbl_helo rhs.test", "badhelo.test", "a@example.org",
     "554 5.7.1 Service unavailable; Helo command [badhelo.test] blocked using rhs.test"),
    ("reject_rhsbl_client rhs.test", "client.example", "a@example.org",
     "554 5.7.1 Service unavailable; Client host [localhost] blocked using rhs.test"),
    ("reject_rhsbl_sender rhs.test", "client.example", "x@clean.test", None),
])
def test_reject_rhsbl(dns_server, restriction, helo, sender, reply):
    server = dns_server(f"smtpd_sender_restrictions={restriction}")
    s = session(server, helo=helo, sender=sender)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (reply or "250 2.1.5 Ok")


@pytest.mark.parametrize("sender, reply", [
    ("a@exists.test", None),
    ("a@arec.test", None),
    ("a@nosuch.test", "450 4.1.8 <a@nosuch.test>: Sender address rejected: Domain not found"),
    ("a@nullmx.test", "550 5.7.27 <a@nullmx.test>: Sender address rejected: Domain "
     "nullmx.test does not accept mail (nullMX)"),
    # Our own domains and address literals are not looked up.
    ("a@test.example", None),
    ("a@[127.0.0.1]", None),
])
def test_reject_unknown_sender_domain(dns_server, sender, reply):
    server = dns_server("smtpd_sender_restrictions=reject_unknown_sender_domain")
    s = session(server, sender=sender)
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (reply or "250 2.1.5 Ok")


def test_reject_unknown_recipient_domain_and_helo_hostname(dns_server):
    server = dns_server("mynetworks=127.0.0.0/8", "unknown_address_reject_code=550",
                        "smtpd_recipient_restrictions=reject_unknown_recipient_domain, "
                        "permit_mynetworks, reject")
    s = session(server)
    assert s.cmd("RCPT TO:<b@exists.test>") == "250 2.1.5 Ok"
    assert s.cmd("RCPT TO:<b@nosuch.test>") == (
        "550 5.1.2 <b@nosuch.test>: Recipient address rejected: Domain not found")
    assert s.cmd("RCPT TO:<b@nullmx.test>") == (
        "556 5.1.10 <b@nullmx.test>: Recipient address rejected: Domain nullmx.test does not "
        "accept mail (nullMX)")
    server = dns_server("smtpd_helo_restrictions=reject_unknown_helo_hostname")
    s = session(server, helo="nosuch.test")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (
        "450 4.7.1 <nosuch.test>: Helo command rejected: Host not found")
    for helo in ("arec.test", "exists.test", "[127.0.0.1]"):
        s = session(server, helo=helo)
        assert s.cmd(f"RCPT TO:<{server.addr}>") == "250 2.1.5 Ok", helo


@pytest.mark.parametrize("action, reply", [
    ("defer_if_permit", "450 4.1.8 <a@exists.test>: Sender address rejected: Domain not found"),
    ("defer", "450 4.1.8 <a@exists.test>: Sender address rejected: Domain not found"),
    # defer_if_reject: nothing else rejects, so the recipient passes.
    ("defer_if_reject", None),
])
def test_a_dns_failure_follows_unknown_address_tempfail_action(server_factory, action, reply):
    # No DNS server answers on this port.
    server = server_factory(f"dns_servers=127.0.0.1:{free_port()}", "dns_lookup_timeout=1s",
                            "smtpd_sender_restrictions=reject_unknown_sender_domain",
                            f"unknown_address_tempfail_action={action}", services=())
    s = session(server, sender="a@exists.test")
    assert s.cmd(f"RCPT TO:<{server.addr}>") == (reply or "250 2.1.5 Ok")


def test_reject_rbl_client_for_an_ipv6_client(server_factory, dnsmasq):
    # ::1 reversed in nibbles under the zone.
    nibbles = ".".join(reversed(f"{1:032x}"))
    port = dnsmasq(f"--host-record={nibbles}.bl6.test,127.0.0.2")
    server = server_factory(f"dns_servers=127.0.0.1:{port}",
                            "smtpd_client_restrictions=reject_rbl_client bl6.test",
                            services=(), listen="::1")
    s = session(server)
    got = s.cmd(f"RCPT TO:<{server.addr}>")
    assert got == "554 5.7.1 Service unavailable; Client host [::1] blocked using bl6.test"


def test_actions_found_at_mail_apply_to_the_message(server_factory, table):
    path = table("actions", ACTION_TABLE)
    server = server_factory(f"smtpd_sender_restrictions=check_sender_access texthash:{path}",
                            "smtpd_delay_reject=no", services=())
    assert send_one(server, "hold@example.org").startswith("250 2.0.0 Ok: queued as")
    assert len(server.queued("hold")) == 1
    assert f"NOQUEUE: hold: MAIL from {CLIENT}: <hold@example.org>" in server.log()


# ---- side by side with Postfix ----

SIDE_BY_SIDE_TABLE = COMMON_ACCESS + """\
plain@example.org       550 no status code
dir@example.org         DEFER_IF_REJECT
strict@example.org      strict
"""

SIDE_BY_SIDE_SENDERS = [
    "reject@example.org", "custom@example.org", "plain@example.org", "defer@example.org",
    "code@example.org", "x@sub.example.net", "x@deep.sub.example.net",
    "anyuser@elsewhere.example", "anyuser+tag@elsewhere.example", "", "ok@example.org",
    "dunno@example.org", "dip@example.org", "dir@example.org", "strict@example.org",
    "a@localhost", "nobody@example.org",
]
SIDE_BY_SIDE_HELOS = ["client.example", "bad_host!", "client", "[127.0.0.1]", "-a.example"]


def rcpt_replies(host, port, rcpt, senders, helos):
    """The EHLO, MAIL and RCPT replies for each sender (with a good HELO),
    then for each HELO."""
    out = []
    for sender, helo in [(x, "client.example") for x in senders] + [
            ("a@example.org", h) for h in helos]:
        c = smtplib.SMTP(host, port, local_hostname="x", timeout=30)
        replies = [c.ehlo(helo), c.mail(sender), c.rcpt(rcpt), c.docmd("DATA")]
        # The EHLO keywords differ; its code and first line do not.
        replies[0] = (replies[0][0], replies[0][1].split(b"\n")[0] if replies[0][0] != 250
                      else b"")
        out.append((sender, helo, [(code, text.decode()) for code, text in replies]))
        c.close()
    return out


@pytest.mark.parametrize("delay", ["yes", "no"])
def test_replies_match_postfix(server_factory, table, delay):
    if not PrivatePostfix.available:
        pytest.skip("needs root and Debian's postfix")
    path = table("side", SIDE_BY_SIDE_TABLE)
    settings = (f"smtpd_delay_reject={delay}", "smtpd_data_restrictions=reject_unauth_pipelining",
                f"smtpd_sender_restrictions=check_sender_access texthash:{path}, "
                "reject_non_fqdn_sender, defer_if_reject, reject_unlisted_sender",
                "smtpd_helo_restrictions=reject_invalid_helo_hostname, "
                "reject_non_fqdn_helo_hostname",
                "smtpd_restriction_classes=strict", "strict=reject_unauth_destination, reject",
                "recipient_delimiter=+")
    server = server_factory(*settings, services=())

    def talk(port, rcpt, log):
        before = len(log())
        replies = rcpt_replies("127.0.0.1", port, rcpt, SIDE_BY_SIDE_SENDERS, SIDE_BY_SIDE_HELOS)
        n = len(SIDE_BY_SIDE_SENDERS) + len(SIDE_BY_SIDE_HELOS)
        assert wait_until(lambda: log()[before:].count("disconnect from") >= n)
        lines = [re.sub(r"to=<[^>]*>", "to=<R>", line[line.index(" reject"):])
                 for line in log()[before:].splitlines() if ": reject" in line]
        return replies, lines
    pf = PrivatePostfix()
    try:
        pf.start(*settings, "smtpd_error_sleep_time=0")
        theirs, their_log = talk(pf.port, "rcpt@pf.example", pf.maillog)
    finally:
        pf.stop()
    ours, our_log = talk(server.port, server.addr, server.log)
    for mine, postfix in zip(ours, theirs):
        assert mine == postfix
    assert our_log == their_log


def dialogue(port, rcpt):
    """Greeting, EHLO, MAIL, RCPT, DATA, content, QUIT over a raw socket:
    each reply's code, and its text when it is a refusal."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")

    def reply():
        lines = []
        while True:
            line = f.readline().decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        code = lines[0][:3]
        return code if code < "400" else lines[0]
    out = [reply()]
    for cmd in ("EHLO client.example", "MAIL FROM:<a@example.org>", f"RCPT TO:<{rcpt}>",
                "DATA", "Subject: x\r\n\r\nbody\r\n.", "QUIT"):
        s.sendall(cmd.encode() + b"\r\n")
        out.append(reply())
        if out[-1] in ("221", "") or (cmd == "DATA" and out[-1] != "354"):
            break
    s.close()
    return out


@pytest.mark.parametrize("clients", [
    "127.0 REJECT by network\n",
    "localhost DUNNO\n127 REJECT never reached\n",
    "127.0.0 DEFER_IF_PERMIT later\n",
    "127.0.0.1 WARN odd\n127 REJECT never reached\n",
])
def test_client_access_key_order_matches_postfix(server_factory, table, clients):
    if not PrivatePostfix.available:
        pytest.skip("needs root and Debian's postfix")
    path = table("clients", clients)
    settings = (f"smtpd_client_restrictions=check_client_access texthash:{path}",)
    server = server_factory(*settings, services=())
    pf = PrivatePostfix()
    try:
        pf.start(*settings, "smtpd_error_sleep_time=0")
        theirs = dialogue(pf.port, "rcpt@pf.example")
    finally:
        pf.stop()
    assert dialogue(server.port, server.addr) == theirs


@pytest.mark.parametrize("delay", ["yes", "no"])
@pytest.mark.parametrize("restrictions", [
    ("smtpd_client_restrictions=check_client_access texthash:{t}",),
    ("smtpd_client_restrictions=warn_if_reject, reject, check_client_access texthash:{t}",),
    ("smtpd_client_restrictions=defer_if_permit",),
    ("smtpd_data_restrictions=reject",),
    ("smtpd_end_of_data_restrictions=check_client_access texthash:{t}",),
])
def test_client_and_data_stages_match_postfix(server_factory, table, delay, restrictions):
    if not PrivatePostfix.available:
        pytest.skip("needs root and Debian's postfix")
    path = table("clients", "127.0.0.1 550 5.7.3 go away\n")
    settings = (f"smtpd_delay_reject={delay}", *(r.format(t=path) for r in restrictions))
    server = server_factory(*settings, services=())

    def talk(port, rcpt, log):
        """The dialogue's replies, and the reject lines it logged from
        "reject" on (the recipient made equal)."""
        before = len(log())
        replies = dialogue(port, rcpt)
        assert wait_until(lambda: "disconnect from" in log()[before:])
        return replies, [re.sub(r"to=<[^>]*>", "to=<R>", line[line.index(" reject"):])
                         for line in log()[before:].splitlines() if ": reject" in line]
    pf = PrivatePostfix()
    try:
        pf.start(*settings, "smtpd_error_sleep_time=0")
        theirs = talk(pf.port, "rcpt@pf.example", pf.maillog)
    finally:
        pf.stop()
    assert talk(server.port, server.addr, server.log) == theirs


RECIPIENT_TABLE = """\
blocked@remote.example  REJECT
remote.example          DUNNO
.remote.example         550 5.7.4 subdomain
sub.other.example       450 4.2.0 later
user@                   REJECT user anywhere
"""
RECIPIENTS = ["blocked@remote.example", "free@remote.example", "u@x.remote.example",
              "u@sub.other.example", "u@deep.sub.other.example", "user@remote.example",
              "user+tag@elsewhere.example", "u@localhost", "u", "<>"]


def rcpt_replies_ours_and_postfix(server_factory, settings, rcpts):
    """The replies to MAIL and one RCPT per address of rcpts ("<>" for the
    null address), from Postern and from a private Postfix with the same
    settings: (ours, theirs)."""
    def replies(port):
        c = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=30)
        c.mail("a@example.org")
        out = [c.docmd(f"RCPT TO:<{r}>" if r != "<>" else "RCPT TO:<>") for r in rcpts]
        c.close()
        return [(code, text.decode()) for code, text in out]
    server = server_factory(*settings, services=())
    pf = PrivatePostfix()
    try:
        pf.start(*settings, "smtpd_error_sleep_time=0")
        theirs = replies(pf.port)
    finally:
        pf.stop()
    return replies(server.port), theirs


@pytest.mark.parametrize("parent", ["", "smtpd_access_maps"])
def test_recipient_access_matches_postfix(server_factory, table, parent):
    if not PrivatePostfix.available:
        pytest.skip("needs root and Debian's postfix")
    path = table("rcpts", RECIPIENT_TABLE)
    settings = (f"smtpd_recipient_restrictions=check_recipient_access texthash:{path}, "
                "reject_non_fqdn_recipient, permit_mynetworks, reject_unauth_destination",
                f"parent_domain_matches_subdomains={parent}", "recipient_delimiter=+")
    ours, theirs = rcpt_replies_ours_and_postfix(server_factory, settings, RECIPIENTS)
    assert ours == theirs
    # Not a comparison of two servers that accept everything.
    assert len({code for code, _ in ours}) >= 4, ours


def test_action_log_lines_match_postfix(server_factory, table):
    if not PrivatePostfix.available:
        pytest.skip("needs root and Debian's postfix")
    path = table("actions", "warn@example.org WARN odd sender\nhold@example.org HOLD\n"
                            "hold2@example.org HOLD held for review\n"
                            "redir@example.org REDIRECT x@pf.example\n"
                            "disc@example.org DISCARD\nfilt@example.org FILTER smtp:[::1]:25\n")
    settings = (f"smtpd_sender_restrictions=check_sender_access texthash:{path}",
                "smtpd_client_restrictions=warn_if_reject, reject")
    senders = ["warn@example.org", "hold@example.org", "hold2@example.org", "redir@example.org",
               "disc@example.org", "filt@example.org"]

    def actions(port, rcpt, log):
        for sender in senders:
            c = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=30)
            c.mail(sender)
            assert c.rcpt(rcpt)[0] == 250
            c.quit()
        # What the line says, up to the envelope fields (the rest differs in proto=).
        return [line.split("NOQUEUE: ", 1)[1].split("; from=")[0]
                for line in wait_lines(log, len(senders) * 2)]

    def wait_lines(log, n):
        assert wait_until(lambda: len([x for x in log().splitlines() if "NOQUEUE: " in x]) >= n)
        return [x for x in log().splitlines() if "NOQUEUE: " in x]
    server = server_factory(*settings, services=())
    pf = PrivatePostfix()
    try:
        pf.start(*settings, "smtpd_error_sleep_time=0")
        theirs = actions(pf.port, "rcpt@pf.example", pf.maillog)
    finally:
        pf.stop()
    assert actions(server.port, server.addr, server.log) == theirs


def test_a_bare_table_is_the_lists_own_access_check(server_factory, table):
    path = table("access", "reject@example.org REJECT\n")
    server = server_factory(f"smtpd_sender_restrictions=texthash:{path}", services=())
    s = session(server, sender="reject@example.org")
    assert s.cmd(f"RCPT TO:<{server.addr}>").startswith(
        "554 5.7.1 <reject@example.org>: Sender address rejected")
    # Not in a list without an implicit check.
    server = server_factory(f"smtpd_data_restrictions=texthash:{path}", services=())
    s = session(server)
    s.cmd(f"RCPT TO:<{server.addr}>")
    assert s.cmd("DATA") == "451 4.3.5 Server configuration error"


@pytest.mark.parametrize("special", ["yes", "no"])
def test_recipient_access_honours_owner_request_special_like_postfix(server_factory, table,
                                                                     special):
    if not PrivatePostfix.available:
        pytest.skip("needs root and Debian's postfix")
    path = table("owners", "owner@remote.example REJECT split owner\n"
                           "list@remote.example REJECT split list\n")
    settings = (f"smtpd_recipient_restrictions=check_recipient_access texthash:{path}, "
                "permit_mynetworks, reject_unauth_destination",
                "recipient_delimiter=-", f"owner_request_special={special}")
    rcpts = ["owner-list@remote.example", "list-request@remote.example",
             "list-x@remote.example", "other@remote.example"]
    ours, theirs = rcpt_replies_ours_and_postfix(server_factory, settings, rcpts)
    assert ours == theirs
    # With the special names kept whole only list-x is split.
    assert sum(code == 554 for code, _ in theirs) == (1 if special == "yes" else 3), theirs

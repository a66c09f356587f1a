"""System tests for smtpd's access policy: the restriction lists, their
stages with smtpd_delay_reject yes and no, restriction classes,
warn_if_reject and defer_if_*, and the NOQUEUE log lines.

Each test starts a real instance (test_smtpd's server_factory: master,
smtpd on a loopback port of the test's choosing) and talks to it over a
real socket. The client is 127.0.0.1, named localhost by its PTR.
"""

import pytest

from live import server_factory  # noqa: F401 (a fixture)

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
    assert f"NOQUEUE: reject: HELO from {CLIENT}: {reply}" in server.log()
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
        f"450 4.7.1 <{CLIENT}>: Client host rejected: defer_if_permit requested")
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

"""The smtp client's TLS (STARTTLS) against real peers.

A throwaway CA is made with the openssl command in a temporary directory;
a private Postfix instance (live.PrivatePostfix) presents a certificate
for mx.tls.test signed by it. dnsmasq on a loopback port gives
mx.tls.test and other.tls.test the address 127.0.0.1, so the client
checks the name it connected to. Postfix's smtp-sink serves as the peer
without STARTTLS. Postern's own smtpd (live.server_factory) is the peer
for wrapper mode (port 465) and session resumption.
"""

import re
import subprocess

import pytest

from live import (PrivatePostfix, dnsmasq, free_port, mail,  # noqa: F401 (fixtures)
                  pki, relay_factory, server_factory, smtp_sink, wait_log, wait_until)


@pytest.fixture(scope="module")
def tls_postfix(pki):
    """Postfix offering STARTTLS with mx.tls.test's certificate."""
    if not PrivatePostfix.available:
        pytest.skip("needs root and the postfix package")
    pf = PrivatePostfix()
    pf.start("smtpd_tls_security_level=may", f"smtpd_tls_cert_file={pki}/mx.crt",
             f"smtpd_tls_key_file={pki}/mx.key", "smtpd_tls_loglevel=1",
             "smtpd_tls_received_header=yes")
    yield pf
    pf.stop()


@pytest.fixture
def names(dnsmasq):
    return dnsmasq("--host-record=mx.tls.test,127.0.0.1", "--host-record=other.tls.test,127.0.0.1")


def test_verify_delivers_to_postfix_with_a_certificate_from_the_test_ca(relay_factory, pki,
                                                                        tls_postfix, names):
    port = tls_postfix.port
    lv = relay_factory(f"dns_servers=127.0.0.1:{names}", f"relayhost=[mx.tls.test]:{port}",
                       "smtp_tls_security_level=verify", f"smtp_tls_CAfile={pki}/ca.crt",
                       "smtp_tls_loglevel=1", "smtp_tls_servername=hostname")
    lv.sendmail(["rcpt@pf.example"], mail("verified"))
    wait_log(lv, rf"Verified TLS connection established to mx\.tls\.test\[127\.0\.0\.1\]:{port}: "
                 r"TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\)")
    wait_log(lv, rf"to=<rcpt@pf\.example>, relay=mx\.tls\.test\[127\.0\.0\.1\]:{port}, "
                 r".*dsn=2\.0\.0, status=sent")
    assert wait_until(lambda: tls_postfix.maildir("rcpt"), timeout=30), tls_postfix.maillog()
    got = [m for m in tls_postfix.maildir("rcpt") if b"Subject: verified" in m]
    assert len(got) == 1
    # Postfix saw TLS: its Received: line says so.
    assert re.search(rb"\(using TLSv1\.3 with cipher", got[0]), got[0]
    assert b"with ESMTPS id" in got[0]


def test_verify_defers_4_7_5_when_the_name_does_not_match(relay_factory, pki, tls_postfix,
                                                          names):
    port = tls_postfix.port
    lv = relay_factory(f"dns_servers=127.0.0.1:{names}", f"relayhost=[other.tls.test]:{port}",
                       "smtp_tls_security_level=verify", f"smtp_tls_CAfile={pki}/ca.crt",
                       "smtp_tls_loglevel=1")
    lv.sendmail(["rcpt@pf.example"], mail("wrong name"))
    wait_log(lv, rf"Trusted TLS connection established to other\.tls\.test\[127\.0\.0\.1\]:{port}")
    wait_log(lv, r"to=<rcpt@pf\.example>, relay=other\.tls\.test\[127\.0\.0\.1\]:\d+, .*"
                 r"dsn=4\.7\.5, status=deferred \(Server certificate not verified \(host "
                 r"other\.tls\.test\[127\.0\.0\.1\]:\d+: name mismatch in the certificate\)\)")


def test_verify_defers_4_7_5_when_the_ca_is_unknown(relay_factory, pki, tls_postfix, names):
    port = tls_postfix.port
    lv = relay_factory(f"dns_servers=127.0.0.1:{names}", f"relayhost=[mx.tls.test]:{port}",
                       "smtp_tls_security_level=verify", f"smtp_tls_CAfile={pki}/otherca.crt",
                       "smtp_tls_loglevel=1")
    lv.sendmail(["rcpt@pf.example"], mail("unknown ca"))
    wait_log(lv, rf"Untrusted TLS connection established to mx\.tls\.test\[127\.0\.0\.1\]:{port}")
    wait_log(lv, r"to=<rcpt@pf\.example>, .*dsn=4\.7\.5, status=deferred \(Server certificate "
                 r"not verified \(host mx\.tls\.test\[127\.0\.0\.1\]:\d+: untrusted certificate\)\)")


def test_policy_table_secure_with_match_overrides_the_default_level(relay_factory, pki,
                                                                    tls_postfix, names):
    port = tls_postfix.port
    # The name connected to is other.tls.test; the entry says which name
    # the certificate must carry instead.
    (pki / "policy").write_text(f"[other.tls.test]:{port} secure match=mx.tls.test "
                                "protocols=>=TLSv1.2\n")
    (pki / "policy").chmod(0o644)
    lv = relay_factory(f"dns_servers=127.0.0.1:{names}", f"relayhost=[other.tls.test]:{port}",
                       "smtp_tls_security_level=none", f"smtp_tls_CAfile={pki}/ca.crt",
                       f"smtp_tls_policy_maps=texthash:{pki}/policy", "smtp_tls_loglevel=1")
    lv.sendmail(["rcpt@pf.example"], mail("policy"))
    wait_log(lv, rf"Verified TLS connection established to other\.tls\.test\[127\.0\.0\.1\]:"
                 rf"{port}")
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent")


def test_encrypt_defers_when_the_server_offers_no_starttls(relay_factory, smtp_sink):
    port = free_port()
    smtp_sink(port)
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "smtp_tls_security_level=encrypt")
    lv.sendmail(["bob@remote.test"], mail("must encrypt"))
    wait_log(lv, r"to=<bob@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*"
                 r"dsn=4\.7\.5, status=deferred \(TLS is required, but was not offered by host "
                 r"127\.0\.0\.1\[127\.0\.0\.1\]:\d+\)")


def test_may_is_plaintext_without_starttls_and_tls_with_it(relay_factory, smtp_sink,
                                                           tls_postfix):
    port = free_port()
    dump = smtp_sink(port)
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "smtp_tls_security_level=may",
                       "smtp_tls_loglevel=1")
    lv.sendmail(["carl@remote.test"], mail("plain"))
    wait_log(lv, r"to=<carl@remote\.test>, .*status=sent")
    assert "TLS connection established" not in lv.log()
    assert [p for p in dump.rglob("*") if p.is_file()]

    lv2 = relay_factory(f"relayhost=[127.0.0.1]:{tls_postfix.port}", "smtp_tls_security_level=may",
                        "smtp_tls_loglevel=1")
    lv2.sendmail(["rcpt@pf.example"], mail("opportunistic"))
    # No CA file: the certificate cannot be checked, and may does not care.
    wait_log(lv2, rf"Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                  rf"{tls_postfix.port}: TLSv1\.3 with cipher")
    wait_log(lv2, r"to=<rcpt@pf\.example>, .*status=sent")


def test_may_retries_in_plaintext_after_a_failed_handshake(relay_factory, tls_postfix):
    # Postfix speaks TLS 1.2 and 1.3; a client held to TLS 1.1 cannot agree.
    lv = relay_factory(f"relayhost=[127.0.0.1]:{tls_postfix.port}", "smtp_tls_security_level=may",
                       "smtp_tls_protocols=<=TLSv1.1", "smtp_tls_loglevel=1")
    lv.sendmail(["rcpt@pf.example"], mail("fallback to plaintext"))
    wait_log(lv, r"Cannot start TLS: handshake failure with 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: .*; "
                 r"trying 127\.0\.0\.1\[127\.0\.0\.1\]:\d+ again without TLS")
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent")
    assert "TLS connection established" not in lv.log()


# ---- wrapper mode, session resumption, STARTTLS offers ----

def postern_tls_server(server_factory, pki, *settings):  # noqa: F811
    """Postern's smtpd with mx.tls.test's certificate (the instance runs
    as an unprivileged user, who must read the key)."""
    (pki / "mx.key").chmod(0o644)
    return server_factory(f"smtpd_tls_cert_file={pki}/mx.crt", f"smtpd_tls_key_file={pki}/mx.key",
                          "smtpd_tls_loglevel=1", "smtpd_tls_received_header=yes", *settings)


def sent_pids(lv, rcpt):
    return re.findall(rf"smtp\[(\d+)\]: \w+: to=<{re.escape(rcpt)}>, .*status=sent", lv.log())


def test_wrappermode_relays_over_tls_from_the_first_byte(relay_factory, server_factory, pki,
                                                         names):  # noqa: F811
    srv = postern_tls_server(server_factory, pki, "smtpd_tls_wrappermode=yes")
    # mydestination empty: everything goes to the relay host, also the
    # server's test.example.
    lv = relay_factory("mydestination=", f"dns_servers=127.0.0.1:{names}",
                       f"relayhost=[mx.tls.test]:{srv.port}", "smtp_tls_wrappermode=yes",
                       "smtp_tls_security_level=encrypt", "smtp_tls_loglevel=1")
    lv.sendmail([srv.addr], mail("implicit TLS"))
    wait_log(lv, rf"Untrusted TLS connection established to mx\.tls\.test\[127\.0\.0\.1\]:"
                 rf"{srv.port}: TLSv1\.3 with cipher")
    wait_log(lv, rf"to=<{re.escape(srv.addr)}>, relay=mx\.tls\.test\[127\.0\.0\.1\]:{srv.port}, "
                 r".*dsn=2\.0\.0, status=sent")
    assert wait_until(lambda: srv.messages(), timeout=30), srv.log()
    got = [m for m in srv.messages() if m["Subject"] == "implicit TLS"]
    assert len(got) == 1
    assert "with ESMTPS id" in str(got[0]["Received"]), got[0]["Received"]
    # The server saw TLS at once: no STARTTLS command in its session.
    assert re.search(r"Anonymous TLS connection established from \S+\[127\.0\.0\.1\]: TLSv1\.3",
                     srv.log()), srv.log()
    assert wait_until(lambda: re.search(r"disconnect from \S+ ehlo=1 mail=1 rcpt=1 data=1 quit=1 "
                                        r"commands=5$", srv.log(), re.M), timeout=10), srv.log()


def test_wrappermode_never_speaks_plaintext_to_a_plaintext_server(relay_factory,  # noqa: F811
                                                                   smtp_sink):  # noqa: F811
    port = free_port()
    smtp_sink(port)
    lv = relay_factory(f"relayhost=[127.0.0.1]:{port}", "smtp_tls_wrappermode=yes",
                       "smtp_tls_security_level=may")
    lv.sendmail(["dan@remote.test"], mail("no plaintext"))
    # may is raised to encrypt: a wrapper-mode server has no plaintext.
    wait_log(lv, r"to=<dan@remote\.test>, .*dsn=4\.7\.5, status=deferred \(Cannot start TLS: "
                 r"handshake failure with 127\.0\.0\.1\[127\.0\.0\.1\]:\d+")


def test_second_connection_resumes_the_tls_session(relay_factory, server_factory,  # noqa: F811
                                                   pki):
    srv = postern_tls_server(server_factory, pki, "smtpd_tls_security_level=may")
    lv = relay_factory("mydestination=", f"relayhost=[127.0.0.1]:{srv.port}",
                       "smtp_tls_security_level=encrypt", "smtp_tls_loglevel=2",
                       "smtp_connection_cache_on_demand=no")
    for n in (1, 2):
        lv.sendmail([srv.addr], mail(f"resume {n}"))
        assert wait_until(lambda: len(sent_pids(lv, srv.addr)) == n, timeout=30), lv.log()
    pids = sent_pids(lv, srv.addr)
    assert pids[0] == pids[1], lv.log()  # one smtp process, two connections
    assert lv.log().count("TLS connection established to") == 2, lv.log()
    reuse = re.findall(rf"smtp\[{pids[0]}\]: 127\.0\.0\.1\[127\.0\.0\.1\]:{srv.port}: "
                       r"Reusing old session", lv.log())
    assert len(reuse) == 1, lv.log()
    # The resumed handshake is the second one.
    log = lv.log()
    handshakes = [m.start() for m in re.finditer("TLS connection established to", log)]
    assert handshakes[0] < log.index("Reusing old session") < handshakes[1], log

    # smtp_tls_session_cache_timeout = 0: every handshake is a full one.
    lv2 = relay_factory("mydestination=", f"relayhost=[127.0.0.1]:{srv.port}",
                        "smtp_tls_security_level=encrypt", "smtp_tls_loglevel=2",
                        "smtp_connection_cache_on_demand=no", "smtp_tls_session_cache_timeout=0")
    for n in (1, 2):
        lv2.sendmail([srv.addr], mail(f"no resume {n}"))
        assert wait_until(lambda: len(sent_pids(lv2, srv.addr)) == n, timeout=30), lv2.log()
    assert lv2.log().count("TLS connection established to") == 2, lv2.log()
    assert "Reusing old session" not in lv2.log()


def test_note_starttls_offer_logs_a_server_offering_unused_tls(relay_factory, tls_postfix):
    lv = relay_factory(f"relayhost=[127.0.0.1]:{tls_postfix.port}",
                       "smtp_tls_security_level=none", "smtp_tls_note_starttls_offer=yes")
    lv.sendmail(["rcpt@pf.example"], mail("noted"))
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent")
    assert "Host offered STARTTLS: [127.0.0.1]" in lv.log()
    assert "TLS connection established" not in lv.log()

"""System tests for SMTP AUTH in the smtp(8) client.

Postern relays through a relayhost that is a real Postfix (a private
instance on a loopback port, live.PrivatePostfix) with Cyrus SASL and a
sasldb user. Postfix accepts mail only from authenticated clients
(smtpd_client_restrictions = permit_sasl_authenticated, reject), so a
delivery proves the login, and Postfix's own log says which mechanism
and user it saw.
"""

import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

from live import PrivatePostfix, mail, send, wait_log, wait_until
from live import pki, relay_factory  # noqa: F401 (fixtures)

USER, PASSWORD = "relayuser", "relay pw:1"


@pytest.fixture
def sasl_postfix():
    """Start with the mechanisms Postfix offers; returns the instance."""
    if not PrivatePostfix.available or shutil.which("saslpasswd2") is None:
        pytest.skip("needs root, the postfix package and sasl2-bin")
    pf = PrivatePostfix()

    def start(mechs, *settings):
        sasl = pf.etc / "sasl"  # Debian's Postfix reads $config_directory/sasl/smtpd.conf
        sasl.mkdir()
        db = sasl / "sasldb2"
        r = subprocess.run(["saslpasswd2", "-p", "-c", "-f", str(db), "-u", "pf.example", USER],
                           input=PASSWORD, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        shutil.chown(db, "postfix", "postfix")
        (sasl / "smtpd.conf").write_text(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                                         f"sasldb_path: {db}\nmech_list: {mechs}\n")
        pf.start("smtpd_sasl_auth_enable=yes", "smtpd_sasl_local_domain=pf.example",
                 "mynetworks=192.0.2.0/24",
                 "smtpd_client_restrictions=permit_sasl_authenticated, reject", *settings)
        return pf

    yield start
    pf.stop()


@pytest.fixture
def password_map():
    """A texthash: table the instance's unprivileged user can read."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-saslpw-"))
    d.chmod(0o755)

    def make(text):
        # A new file renamed into place, as postmap does: a rewrite in
        # place within the same second would look unchanged (mtime, inode).
        f, tmp = d / "sasl_passwd", d / "sasl_passwd.tmp"
        tmp.write_text(text)
        tmp.chmod(0o644)
        os.replace(tmp, f)
        return f"texthash:{f}"

    yield make
    shutil.rmtree(d, ignore_errors=True)


def relay_settings(pf, table, *more):
    return (f"relayhost=[127.0.0.1]:{pf.port}", "smtp_sasl_auth_enable=yes",
            f"smtp_sasl_password_maps={table}", *more)


def test_postern_logs_in_to_postfix_with_plain_when_plaintext_is_allowed(
        relay_factory, sasl_postfix, password_map):
    pf = sasl_postfix("PLAIN LOGIN")
    # No TLS on loopback: plaintext mechanisms must be allowed explicitly.
    lv = relay_factory(*relay_settings(pf, password_map(f"[127.0.0.1]:{pf.port} "
                                                        f"{USER}:{PASSWORD}\n"),
                                       "smtp_sasl_security_options=noanonymous"))
    send(lv, ["rcpt@pf.example"], mail("authenticated relay"))
    wait_log(lv, r"to=<rcpt@pf\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*"
                 r"dsn=2\.0\.0, status=sent")
    assert wait_until(lambda: pf.maildir("rcpt"), timeout=60), pf.maillog()
    assert re.search(rf"client=localhost\[127\.0\.0\.1\], sasl_method=PLAIN, "
                     rf"sasl_username={USER}\b", pf.maillog()), pf.maillog()


def test_cram_md5_needs_no_permission_for_plaintext(relay_factory, sasl_postfix, password_map):
    pf = sasl_postfix("PLAIN LOGIN CRAM-MD5")
    # The host name alone (no brackets, no port) is also a key.
    lv = relay_factory(*relay_settings(pf, password_map(f"127.0.0.1 {USER}:{PASSWORD}\n")))
    send(lv, ["rcpt@pf.example"], mail("cram"))
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent")
    assert "sasl_method=CRAM-MD5" in pf.maillog(), pf.maillog()


def test_scram_sha_256_with_the_servers_final_signature(relay_factory, sasl_postfix,
                                                       password_map):
    if not any(pathlib.Path("/usr/lib/x86_64-linux-gnu/sasl2").glob("libscram.so*")):
        pytest.skip("libsasl2-modules has no SCRAM here")
    pf = sasl_postfix("SCRAM-SHA-256 CRAM-MD5 PLAIN")
    lv = relay_factory(*relay_settings(pf, password_map(f"127.0.0.1 {USER}:{PASSWORD}\n")))
    send(lv, ["rcpt@pf.example"], mail("scram"))
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent")
    assert "sasl_method=SCRAM-SHA-256" in pf.maillog(), pf.maillog()


def test_by_default_no_password_goes_out_in_the_clear_and_the_mail_is_deferred(
        relay_factory, sasl_postfix, password_map):
    pf = sasl_postfix("PLAIN LOGIN")
    lv = relay_factory(*relay_settings(pf, password_map(f"[127.0.0.1]:{pf.port} "
                                                        f"{USER}:{PASSWORD}\n")))
    send(lv, ["rcpt@pf.example"], mail("not in the clear"))
    m = wait_log(lv, r"to=<rcpt@pf\.example>, .*dsn=4\.7\.0, status=deferred \((.*)\)$")
    assert "SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]" \
        in m.group(1), m.group(1)
    assert "smtp_sasl_security_options" in m.group(1)
    # Postfix saw no AUTH command at all, and no mail.
    assert wait_until(lambda: "disconnect from localhost[127.0.0.1]" in pf.maillog()), \
        pf.maillog()
    assert not re.search(r"auth=|AUTH|authentication failed", pf.maillog()), pf.maillog()
    assert pf.maildir("rcpt") == []


def test_a_wrong_password_defers_with_the_servers_reply(relay_factory, sasl_postfix,
                                                       password_map):
    pf = sasl_postfix("PLAIN LOGIN")
    lv = relay_factory(*relay_settings(pf, password_map(f"[127.0.0.1]:{pf.port} {USER}:wrong\n"),
                                       "smtp_sasl_security_options=noanonymous"))
    send(lv, ["rcpt@pf.example"], mail("wrong password"))
    m = wait_log(lv, r"to=<rcpt@pf\.example>, .*dsn=4\.7\.8, status=deferred \((.*)\)$")
    assert re.match(r"SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\]:\d+ said: "
                    r"535 5\.7\.8 Error: authentication failed", m.group(1)), m.group(1)


def test_without_soft_bounce_a_refused_login_bounces(relay_factory, sasl_postfix, password_map):
    pf = sasl_postfix("PLAIN LOGIN")
    lv = relay_factory(*relay_settings(pf, password_map(f"[127.0.0.1]:{pf.port} {USER}:wrong\n"),
                                       "smtp_sasl_security_options=noanonymous",
                                       "smtp_sasl_auth_soft_bounce=no"))
    send(lv, ["rcpt@pf.example"], mail("bounce it"))
    m = wait_log(lv, r"to=<rcpt@pf\.example>, .*dsn=5\.7\.8, status=bounced \((.*)\)$")
    assert "SASL authentication failed; server 127.0.0.1[127.0.0.1]" in m.group(1), m.group(1)


def test_a_corrected_password_table_is_used_by_the_next_attempt(relay_factory, sasl_postfix,
                                                                password_map):
    pf = sasl_postfix("PLAIN LOGIN")
    key = f"[127.0.0.1]:{pf.port}"
    lv = relay_factory(*relay_settings(pf, password_map(f"{key} {USER}:wrong\n"),
                                       "smtp_sasl_security_options=noanonymous"))
    send(lv, ["rcpt@pf.example"], mail("fixed later"))
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=deferred")
    password_map(f"{key} {USER}:{PASSWORD}\n")
    r = lv.inst.postern("flush")
    assert r.returncode == 0, r.stderr
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent", timeout=60)
    assert "sasl_method=PLAIN" in pf.maillog()


def test_without_a_password_for_the_relayhost_no_auth_is_tried(relay_factory, sasl_postfix,
                                                               password_map):
    pf = sasl_postfix("PLAIN LOGIN")
    lv = relay_factory(*relay_settings(pf, password_map("[other.example]:587 u:p\n"),
                                       "smtp_sasl_security_options=noanonymous"))
    send(lv, ["rcpt@pf.example"], mail("no password"))
    # Postfix refuses the unauthenticated client.
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=bounced \(host .* said: 554 5\.7\.1 ")
    assert "sasl_method" not in pf.maillog()


def test_sender_dependent_password(relay_factory, sasl_postfix, password_map):
    pf = sasl_postfix("PLAIN LOGIN")
    lv = relay_factory(*relay_settings(pf, password_map(
        f"[127.0.0.1]:{pf.port} {USER}:wrong\n@test.example {USER}:{PASSWORD}\n"),
        "smtp_sasl_security_options=noanonymous", "smtp_sender_dependent_authentication=yes"))
    send(lv, ["rcpt@pf.example"], mail("by sender"))
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent")


def test_after_starttls_plain_is_allowed_by_the_tls_security_options(relay_factory, sasl_postfix,
                                                                     password_map, pki):
    # Postfix offers AUTH only after STARTTLS; Postern keeps the default
    # (noplaintext) without TLS and allows PLAIN over TLS.
    pf = sasl_postfix("PLAIN LOGIN", "smtpd_tls_security_level=may", "smtpd_tls_auth_only=yes",
                      f"smtpd_tls_cert_file={pki}/mx.crt", f"smtpd_tls_key_file={pki}/mx.key",
                      "smtpd_tls_loglevel=1")
    lv = relay_factory(*relay_settings(pf, password_map(f"[127.0.0.1]:{pf.port} "
                                                        f"{USER}:{PASSWORD}\n"),
                                       "smtp_tls_security_level=encrypt",
                                       "smtp_sasl_tls_security_options=noanonymous"))
    send(lv, ["rcpt@pf.example"], mail("over tls"))
    wait_log(lv, r"to=<rcpt@pf\.example>, .*status=sent")
    log = pf.maillog()
    assert "TLS connection established from localhost[127.0.0.1]" in log, log
    assert "sasl_method=PLAIN" in log, log

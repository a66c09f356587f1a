"""System tests for content checks: header_checks, mime_header_checks,
nested_header_checks and body_checks, applied by the queue-file writer
(global/cleanup) inside smtpd and pickup.

Each test starts a real instance (smtpd on a loopback port of its own,
qmgr, local, pickup) with pcre: tables, sends with smtplib, raw SMTP
(BDAT) or sendmail, and looks at the replies, the log lines, the queue
(postqueue -p, postcat) and the delivered mbox.
"""

import re
import smtplib
import time

import pytest

from conftest import run as run_cmd
from live import BIN, queued_ids, wait_until
from live import server_factory  # noqa: F401  (fixture)

SERVICES = ("qmgr", "local", "pickup")


@pytest.fixture
def checks(server_factory, unprivileged_dir):  # noqa: F811
    """start(tables={"header_checks": "pcre text", ...}, more settings)."""
    base, _ = unprivileged_dir
    count = [0]

    def start(tables, *settings):
        settings = list(settings)
        for param, text in tables.items():
            count[0] += 1
            path = base / f"table{count[0]}.pcre"
            path.write_text(text)
            path.chmod(0o644)
            settings.append(f"{param}=pcre:{path}")
        return server_factory(*settings, services=SERVICES)
    return start


def send(srv, body, rcpt=None, sender="sender@example.org"):
    """(code, text) of the reply to the end of DATA."""
    c = srv.smtp()
    c.ehlo()
    c.mail(sender)
    c.rcpt(rcpt or srv.addr)
    try:
        code, text = c.data(body.encode() if isinstance(body, str) else body)
    except smtplib.SMTPDataError as e:
        code, text = e.smtp_code, e.smtp_error
    c.quit()
    return code, text.decode(errors="replace")


def delivered(srv, n=1):
    assert wait_until(lambda: len(srv.messages()) >= n and srv.queue_empty()), srv.log()
    return srv.messages()


def nothing_queued(srv):
    return all(not srv.queued(q) for q in ("incoming", "active", "deferred", "hold"))


MULTIPART = (
    "From: a@example.org\r\n"
    "Subject: parts\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "first part\r\n"
    "--outer\r\n"
    "Content-Type: application/x-evil; name=\"evil.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "TVqQAAMAAAAEAAAA\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: inner@example.net\r\n"
    "Subject: inner message\r\n"
    "X-Inner-Flag: set\r\n"
    "\r\n"
    "inner body\r\n"
    "--outer--\r\n"
    "epilogue\r\n")


# ---- REJECT ----

def test_header_reject_answers_550_with_its_text_and_logs_like_postfix(checks):
    srv = checks({"header_checks": "/^Subject:.*viagra/ REJECT no pills here\n"})
    code, text = send(srv, "From: a@example.org\r\nSubject: cheap viagra\r\n\r\nx\r\n")
    assert code == 550 and text == "5.7.1 no pills here", (code, text)
    assert nothing_queued(srv)
    log = srv.log()
    m = re.search(r"(\w+): reject: header Subject: cheap viagra from localhost\[127\.0\.0\.1\]; "
                  rf"from=<sender@example\.org> to=<{re.escape(srv.addr)}> proto=ESMTP "
                  r"helo=<client\.example>: 5\.7\.1 no pills here", log)
    assert m, log
    # Without text: Postfix's default.
    srv2 = checks({"body_checks": "/^bad line/ REJECT\n"})
    code, text = send(srv2, "Subject: x\r\n\r\nok\r\nbad line here\r\n")
    assert (code, text) == (550, "5.7.1 message content rejected")
    assert "reject: body bad line here from localhost[127.0.0.1];" in srv2.log()


def test_bdat_reject_comes_at_the_last_chunk(checks):
    srv = checks({"body_checks": "/^forbidden/ REJECT go away\n"})
    s = srv.raw()
    assert s.reply().startswith("220 ")
    assert s.cmd("EHLO client.example").startswith("250-")
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250 ")
    assert s.cmd(f"RCPT TO:<{srv.addr}>").startswith("250 ")
    part1 = b"Subject: chunks\r\n\r\nforbidden words\r\n"
    part2 = b"more text\r\n"
    s.send(b"BDAT %d\r\n" % len(part1) + part1)
    assert s.reply().startswith("250 "), "a middle chunk is accepted"
    s.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    assert s.reply() == "550 5.7.1 go away"
    assert s.cmd("QUIT").startswith("221")
    s.close()
    assert nothing_queued(srv)


def test_local_submission_rejected_by_a_check_bounces_to_the_sender(checks):
    """As Postfix: sendmail has nobody to answer 550 to, so the sender gets
    a bounce with the reason."""
    srv = checks({"header_checks": "/^Subject: forbidden/ REJECT not from here\n"})
    r = run_cmd([BIN / "sendmail", "-C", srv.dir, "-f", srv.addr, "--", "someone@test.example"],
                user=srv.inst.user, input="Subject: forbidden\n\nbody\n", timeout=60)
    assert r.returncode == 0, r.stderr
    msgs = delivered(srv)
    (dsn,) = [m for m in msgs if m.get_content_type() == "multipart/report"]
    assert "not from here" in dsn.as_string()
    assert re.search(r"reject: header Subject: forbidden from local; "
                     rf"from=<{re.escape(srv.addr)}> to=<someone@test\.example>", srv.log())


# ---- actions that change the message ----

def test_header_and_body_edits_warn_ignore_prepend_replace(checks):
    srv = checks({"header_checks": "/^X-Secret:/ IGNORE\n"
                                   "/^Subject: (.*)old(.*)/ REPLACE Subject: ${1}new${2}\n"
                                   "/^X-Mailer:/ PREPEND X-Checked: mailer seen\n"
                                   "/^X-Watch:/ WARN watched header\n",
                  "body_checks": "/^password: / REPLACE password: [removed]\n"
                                 "/^tracking pixel/ IGNORE\n"
                                 "/^signature/ PREPEND -- sig below\n"})
    code, text = send(srv, "From: a@example.org\r\nSubject: the old way\r\nX-Secret: 42\r\n"
                           " folded secret\r\nX-Mailer: mutt\r\nX-Watch: yes\r\n\r\n"
                           "password: hunter2\r\ntracking pixel\r\nsignature\r\n")
    assert code == 250, text
    (m,) = delivered(srv)
    assert m["Subject"] == "the new way"
    assert m["X-Secret"] is None and "folded secret" not in m.as_string()
    headers = [k for k, _ in m.items()]
    assert headers.index("X-Checked") + 1 == headers.index("X-Mailer")
    assert m.get_payload() == "password: [removed]\n-- sig below\nsignature\n"
    assert re.search(r": warning: header X-Watch: yes from localhost\[127\.0\.0\.1\]; "
                     r"from=<sender@example\.org> .*: watched header", srv.log())


def test_hold_goes_to_the_hold_queue_listed_with_a_bang_and_release_delivers(checks):
    srv = checks({"header_checks": "/^Subject: hold me/ HOLD needs a look\n"})
    code, text = send(srv, "Subject: hold me\r\n\r\nbody\r\n")
    assert code == 250
    (qid,) = queued_ids(f"250 {text}")
    assert srv.queued("hold") == [qid]
    log = srv.log()
    assert re.search(rf"{qid}: hold: header Subject: hold me from localhost\[127\.0\.0\.1\]; "
                     r"from=<sender@example\.org> .* helo=<client\.example>: needs a look", log)
    r = run_cmd([BIN / "postqueue", "-c", srv.dir, "-p"], user=srv.inst.user)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^{qid}!", r.stdout, re.M), r.stdout
    time.sleep(1)
    assert srv.messages() == [], "a held message is not delivered"
    r = run_cmd([BIN / "postsuper", "-c", srv.dir, "-H", qid], user=srv.inst.user)
    assert r.returncode == 0, r.stderr
    run_cmd([BIN / "postqueue", "-c", srv.dir, "-f"], user=srv.inst.user)
    (m,) = delivered(srv)
    assert m["Subject"] == "hold me"


def test_discard_answers_250_and_delivers_nothing(checks):
    srv = checks({"body_checks": "/^unsubscribe now/ DISCARD bulk\n"})
    code, text = send(srv, "Subject: offer\r\n\r\nunsubscribe now\r\n")
    assert code == 250, text
    (qid,) = queued_ids(f"250 {text}")
    assert wait_until(lambda: f"{qid}: discard: body unsubscribe now from " in srv.log())
    # A normal message after it is delivered: the discarded one never is.
    assert send(srv, "Subject: normal\r\n\r\nhi\r\n")[0] == 250
    (m,) = delivered(srv)
    assert m["Subject"] == "normal"
    assert nothing_queued(srv)


def test_redirect_delivers_to_the_new_address_keeping_the_original(checks):
    srv = checks({"header_checks": "/^Subject: to the team/ REDIRECT team@test.example\n"})
    code, text = send(srv, "Subject: to the team\r\n\r\nbody\r\n", rcpt="postmaster@test.example")
    assert code == 250, text
    (qid,) = queued_ids(f"250 {text}")
    (m,) = delivered(srv)
    assert m["Subject"] == "to the team"
    log = srv.log()
    assert f"{qid}: redirect: header Subject: to the team from localhost[127.0.0.1];" in log
    # Delivered to the alias team's target; the address given at RCPT is
    # still the original recipient.
    assert re.search(rf"{qid}: to=<{re.escape(srv.addr)}>, orig_to=<postmaster@test\.example>",
                     log), log


def test_filter_is_written_as_the_content_filter_attribute(checks):
    """HOLD keeps the file still so that postcat can show it."""
    srv = checks({"header_checks": "/^X-Scan:/ FILTER scanner:[127.0.0.1]:10025\n"
                                   "/^Subject: keep/ HOLD\n"})
    code, text = send(srv, "X-Scan: yes\r\nSubject: keep\r\n\r\nbody\r\n")
    assert code == 250, text
    (qid,) = queued_ids(f"250 {text}")
    r = run_cmd([BIN / "postcat", "-c", srv.dir, "-q", qid], user=srv.inst.user)
    assert r.returncode == 0, r.stderr
    assert "named_attribute: content_filter=scanner:[127.0.0.1]:10025" in r.stdout, r.stdout
    assert f"{qid}: filter: header X-Scan: yes from localhost[127.0.0.1];" in srv.log()


# ---- MIME ----

def test_mime_header_checks_see_part_headers_inside_a_multipart(checks):
    srv = checks({"header_checks": "/^Content-Type:/ REJECT header_checks saw a MIME header\n",
                  "mime_header_checks": "/^Content-Type: application\\/x-evil/ "
                                        "REPLACE Content-Type: text/plain; name=\"removed.txt\"\n"})
    code, text = send(srv, MULTIPART)
    assert code == 250, text
    (m,) = delivered(srv)
    types = [p.get_content_type() for p in m.walk()]
    assert "application/x-evil" not in types
    assert 'Content-Type: text/plain; name="removed.txt"' in m.as_string()


def test_nested_header_checks_see_an_attached_messages_headers(checks):
    srv = checks({"nested_header_checks": "/^X-Inner-Flag:/ REJECT attached message refused\n",
                  "header_checks": "/^X-Inner-Flag:/ REJECT wrong table\n"})
    code, text = send(srv, MULTIPART)
    assert (code, text) == (550, "5.7.1 attached message refused")
    # The same header at the top is header_checks' business.
    code, text = send(srv, "X-Inner-Flag: top\r\n\r\nbody\r\n")
    assert (code, text) == (550, "5.7.1 wrong table")


def test_mime_disabled_treats_parts_as_body(checks):
    srv = checks({"mime_header_checks": "/^Content-Type: application/ REJECT part seen\n"},
                 "disable_mime_input_processing=yes")
    code, text = send(srv, MULTIPART)
    assert code == 250, text


def test_body_checks_size_limit_stops_inspection_per_part(checks):
    srv = checks({"body_checks": "/^needle/ REJECT found\n"}, "body_checks_size_limit=100")
    filler = "x" * 60 + "\r\n"
    code, _ = send(srv, "Subject: a\r\n\r\n" + filler * 2 + "needle\r\n")
    assert code == 250, "past the limit the body is not inspected"
    code, text = send(srv, "Subject: b\r\n\r\n" + filler + "needle\r\n")
    assert (code, text) == (550, "5.7.1 found")
    # Each part starts a new count.
    mp = ("Subject: c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" +
          filler * 2 + "--b\r\n\r\nneedle\r\n--b--\r\n")
    assert send(srv, mp)[:2] == (550, "5.7.1 found")


# ---- failures ----

def test_unreadable_table_defers_with_451_and_queues_nothing(checks, unprivileged_dir):
    base, _ = unprivileged_dir
    srv = checks({}, f"header_checks=pcre:{base}/missing.pcre")
    code, text = send(srv, "Subject: x\r\n\r\nbody\r\n")
    assert code == 451 and text.startswith("4.3.0"), (code, text)
    assert nothing_queued(srv)
    assert "missing.pcre" in srv.log()
    # Once the table exists the same message passes (a new session reopens it).
    (base / "missing.pcre").write_text("/^X-Nothing:/ WARN\n")
    (base / "missing.pcre").chmod(0o644)
    code, text = send(srv, "Subject: x\r\n\r\nbody\r\n")
    assert code == 250, text
    delivered(srv)


def test_pcre_syntax_error_keeps_sendmail_mail_until_the_table_is_fixed(checks, unprivileged_dir):
    """The issue's acceptance test: a broken table defers with a log line
    naming file and line; nothing is lost; fixing it lets the mail through.
    Over SMTP the client gets 451 and keeps the message; from sendmail it
    waits in the maildrop and pickup tries again."""
    base, _ = unprivileged_dir
    table = base / "broken.pcre"
    table.write_text("/^X-Ok:/ WARN fine\n/^Subject: (unclosed/ REJECT\n")
    table.chmod(0o644)
    srv = checks({}, f"header_checks=pcre:{table}")
    code, text = send(srv, "Subject: over smtp\r\n\r\nbody\r\n")
    assert code == 451 and text.startswith("4.3.0"), (code, text)
    r = run_cmd([BIN / "sendmail", "-C", srv.dir, "-f", srv.addr, "--", srv.addr],
                user=srv.inst.user, input="Subject: from sendmail\n\nbody\n", timeout=60)
    assert r.returncode == 0, r.stderr
    assert wait_until(lambda: "message deferred" in srv.log()), srv.log()
    assert re.search(rf"{re.escape(str(table))}, line 2: .*missing closing parenthesis",
                     srv.log()), srv.log()
    assert srv.queued("maildrop"), "the mail waits in the maildrop"
    assert nothing_queued(srv) and srv.messages() == []
    table.write_text("/^X-Ok:/ WARN fine\n/^Subject: (unclosed)/ REJECT\n")
    (m,) = delivered(srv)  # pickup's next try, with the table opened again
    assert m["Subject"] == "from sendmail"
    assert not srv.queued("maildrop")

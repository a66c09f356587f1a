"""sendmail, postdrop, mailq and newaliases: submission into maildrop.

Most tests run with the daemons down, as a user would find a freshly
made instance: sendmail hands the message to postdrop, postdrop commits it
to maildrop/ and its trigger finds nobody listening, which is no error.
The maildrop files are then read back record by record (the format of
docs/PROTOCOLS.md, with test_qmgr's reader) and with postcat. Hostile streams are fed to postdrop
directly. mailq is checked on queue files made by the qmgr_inject helper,
with a defer log written here in the dsn_log format.
"""

import os
import shutil
import stat
import subprocess
import time

import pytest

from conftest import IS_ROOT, NOBODY, NOGROUP, program, run
from test_qmgr import inject_helper, read_records  # noqa: F401

EX_USAGE, EX_DATAERR, EX_NOUSER, EX_UNAVAILABLE = 64, 65, 67, 69
EX_IOERR, EX_TEMPFAIL, EX_NOPERM, EX_CONFIG = 74, 75, 77, 78


# ---- records (docs/PROTOCOLS.md) ----

def rec(rtype, payload=b""):
    """One record: type byte, length in 7-bit groups (low first), payload."""
    if isinstance(payload, str):
        payload = payload.encode()
    n, length = len(payload), b""
    while True:
        if n < 0x80:
            length += bytes([n])
            break
        length += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return rtype.encode() + length + payload


def good_stream(rcpt="user@example.com", body=(b"Subject: x", b"", b"hello")):
    return (rec("V", "1") + rec("T", "1700000000.000000") + rec("F", "sender@example.com")
            + rec("R", rcpt) + rec("M") + b"".join(rec("L", line) for line in body) + rec("E"))


def content(recs):
    """The message as delivered: L ends a line, P continues it."""
    text, started = b"", False
    for rtype, payload in recs:
        if rtype == "M":
            started = True
        elif started and rtype == "L":
            text += payload + b"\n"
        elif started and rtype == "P":
            text += payload
    return text


def attrs(recs):
    return dict(p.decode().split("=", 1) for t, p in recs if t == "A")


# ---- fixtures and helpers ----

def maildrop_files(inst):
    return sorted(p for p in (inst.spool / "maildrop").iterdir())


def sendmail(inst, *args, input=b"Subject: test\n\nhello\n", prog="sendmail", env=None,
             user=None):
    """Run sendmail (or a link to it) on inst; bytes in, text out."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("MAIL_CONFIG", "NAME")}
    if env:
        full_env.update(env)
    cmd = [str(program(prog)), "-C", str(inst.dir), *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={NOGROUP}", "--clear-groups", "--"] + cmd
    r = subprocess.run(cmd, input=input, capture_output=True, timeout=60, env=full_env)
    r.stdout = r.stdout.decode("utf-8", "replace")
    r.stderr = r.stderr.decode("utf-8", "replace")
    return r


def postdrop(inst, stream, *args):
    r = subprocess.run([str(program("postdrop")), "-c", str(inst.dir), *args], input=stream,
                       capture_output=True, timeout=60)
    return r.returncode, r.stderr.decode("utf-8", "replace")


def submitted(inst):
    """The records of the one file in maildrop (asserting there is one)."""
    files = maildrop_files(inst)
    assert len(files) == 1, files
    assert not files[0].name.startswith(".")
    return read_records(files[0])


@pytest.fixture
def inst(instance):
    return instance


# ---- exit codes and reasons ----

def test_no_recipients_is_a_usage_error(inst):
    r = sendmail(inst)
    assert r.returncode == EX_USAGE
    assert r.stderr.strip().endswith("sendmail: fatal: no recipients specified")
    assert maildrop_files(inst) == []


def test_unknown_option_is_a_usage_error(inst):
    r = sendmail(inst, "-Z", "user@example.com")
    assert r.returncode == EX_USAGE
    assert "sendmail: fatal: invalid option -Z" in r.stderr
    r = sendmail(inst, "-bd")
    assert r.returncode == EX_USAGE
    assert "daemon mode is not supported" in r.stderr
    r = sendmail(inst, "-N", "sometimes", "user@example.com")
    assert r.returncode == EX_USAGE
    r = sendmail(inst, "-f")
    assert r.returncode == EX_USAGE
    assert "option -f requires an argument" in r.stderr


def test_bad_main_cf_is_a_configuration_error(inst):
    inst.append_main_cf("message_size_limit = lots\n")
    r = sendmail(inst, "user@example.com")
    assert r.returncode == EX_CONFIG
    assert "message_size_limit" in r.stderr
    r = sendmail(inst, "-C", str(inst.dir / "nonexistent"), "user@example.com")
    assert r.returncode == EX_CONFIG


def test_missing_maildrop_is_a_temporary_failure_and_leaves_nothing(inst):
    (inst.spool / "maildrop").rename(inst.spool / "maildrop.away")
    r = sendmail(inst, "user@example.com")
    assert r.returncode == EX_TEMPFAIL
    assert "postdrop: fatal: cannot queue the message" in r.stderr
    assert list((inst.spool / "maildrop.away").iterdir()) == []


def test_unwritable_maildrop_is_a_temporary_failure(unprivileged_dir):
    base, user = unprivileged_dir
    from conftest import Instance
    inst = Instance(base / "instance", user=user)
    inst.init()
    (inst.spool / "maildrop").chmod(0o500)
    r = sendmail(inst, "user@example.com", user=user)
    assert r.returncode == EX_TEMPFAIL, r.stderr
    assert "Permission denied" in r.stderr


def test_authorized_user_lists_are_enforced(unprivileged_dir):
    base, user = unprivileged_dir
    from conftest import Instance
    import pwd
    inst = Instance(base / "instance", user=user)
    inst.init()
    login = user or pwd.getpwuid(os.getuid()).pw_name
    uid = pwd.getpwnam(login).pw_uid
    inst.append_main_cf("authorized_submit_users = !%s, static:anyone\n"
                        "authorized_mailq_users = root\nauthorized_flush_users =\n" % login)
    r = sendmail(inst, "bob@x", user=user)
    assert r.returncode == EX_NOPERM, r.stderr
    assert f"postdrop: fatal: User {login}({uid}) is not allowed to submit mail" in r.stderr
    assert maildrop_files(inst) == []
    r = sendmail(inst, "-bp", user=user, input=b"")
    assert r.returncode == EX_NOPERM
    assert f"User {login}({uid}) is not allowed to view the mail queue" in r.stderr
    r = sendmail(inst, "-q", user=user, input=b"")
    assert r.returncode == EX_NOPERM
    assert "not allowed to flush the mail queue" in r.stderr
    session = ("HELO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n")
    r = sendmail(inst, "-bs", user=user, input=session.encode())
    assert "550 5.7.1 Error: not allowed to submit mail\r\n" in r.stdout
    inst.append_main_cf("authorized_submit_users = %s\n" % login)
    assert sendmail(inst, "bob@x", user=user).returncode == 0


def test_missing_postdrop_is_unavailable(inst, tmp_path):
    # A sendmail with no postdrop beside it, and none in command_directory.
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(program("sendmail"), lonely / "sendmail")
    inst.append_main_cf(f"command_directory = {tmp_path}/empty\n")
    r = subprocess.run([str(lonely / "sendmail"), "-C", str(inst.dir), "bob@x"], input=b"hi\n",
                       capture_output=True, timeout=60)
    assert r.returncode == EX_UNAVAILABLE
    assert f"cannot run {tmp_path}/empty/postdrop: No such file or directory" in r.stderr.decode()
    assert maildrop_files(inst) == []


def test_postdrop_beside_sendmail_comes_before_command_directory(inst, tmp_path):
    # Another mail system's programs in command_directory are not used.
    other = tmp_path / "other"
    other.mkdir()
    for name in ("postdrop", "postqueue"):
        (other / name).write_text("#!/bin/sh\necho wrong program >&2\nexit 1\n")
        (other / name).chmod(0o755)
    inst.append_main_cf(f"command_directory = {other}\n")
    r = sendmail(inst, "bob@x")
    assert r.returncode == 0, r.stderr
    r = sendmail(inst, "-bp", input=b"")
    assert r.returncode == 0, r.stderr
    assert "wrong program" not in r.stderr


def test_message_over_the_size_limit_is_refused(inst):
    inst.append_main_cf("message_size_limit = 1000\n")
    r = sendmail(inst, "user@example.com", input=b"Subject: big\n\n" + b"x" * 2000 + b"\n")
    assert r.returncode == EX_DATAERR
    assert "message too large" in r.stderr
    assert maildrop_files(inst) == []


# ---- what a submission leaves in maildrop ----

def test_submission_with_daemons_down_leaves_a_valid_maildrop_file(inst):
    r = sendmail(inst, "-f", "alice@example.com", "bob@example.com", "carol")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    # The failed trigger is noted in the mail log only.
    assert "postdrop" in (inst.dir / "maillog").read_text()
    assert "cannot wake up pickup (the mail waits in maildrop)" in (inst.dir / "maillog").read_text()
    recs = submitted(inst)
    assert [t for t, _ in recs][:3] == ["V", "T", "F"]
    assert recs[2] == ("F", b"alice@example.com")
    assert [p for t, p in recs if t == "R"] == [b"bob@example.com", b"carol"]
    assert recs[-1] == ("E", b"")
    assert content(recs) == b"Subject: test\n\nhello\n"
    path = maildrop_files(inst)[0]
    st = path.stat()
    assert st.st_uid == os.getuid()
    assert stat.S_IMODE(st.st_mode) == 0o644
    # The arrival time is postdrop's own, close to now.
    assert abs(float(dict(recs)["T"].decode()) - time.time()) < 60
    p = run([program("postcat"), "-c", inst.dir, path])
    assert p.returncode == 0, p.stderr
    assert "sender: alice@example.com" in p.stdout
    assert "recipient: bob@example.com" in p.stdout


def test_sender_defaults_to_the_login_name(inst):
    assert sendmail(inst, "bob@example.com").returncode == 0
    import pwd
    assert dict(submitted(inst))["F"] == pwd.getpwuid(os.getuid()).pw_name.encode()


@pytest.mark.parametrize("sender", ["<>", "", " <> "])
def test_null_sender(inst, sender):
    r = sendmail(inst, "-f", sender, "bob@example.com")
    assert r.returncode == 0, r.stderr
    assert dict(submitted(inst))["F"] == b""


def test_sender_and_recipients_in_external_form(inst):
    r = sendmail(inst, "-r", "Alice <\"a b\"@example.com>", "x@example.com, Y <y@example.org>")
    assert r.returncode == 0, r.stderr
    recs = submitted(inst)
    assert dict(recs)["F"] == b"a b@example.com"
    assert [p for t, p in recs if t == "R"] == [b"x@example.com", b"y@example.org"]


def test_full_name_and_dsn_options_become_attributes(inst):
    r = sendmail(inst, "-F", "Alice Smith", "-N", "success,delay", "-R", "hdrs", "-V", "env-1",
                 "-B", "8bitmime", "bob@example.com")
    assert r.returncode == 0, r.stderr
    recs = submitted(inst)
    a = attrs(recs)
    assert a["full_name"] == "Alice Smith"
    assert a["dsn_ret"] == "HDRS"
    assert a["dsn_envid"] == "env-1"
    assert a["body_type"] == "8BITMIME"
    assert "flags" not in a and "uid" not in a
    assert ("n", b"10") in recs  # success (2) + delay (8), before the R


def test_extract_recipients(inst):
    body = b"To: a@example.com\nBcc: b@example.com\nSubject: t\n\nhi\n"
    r = sendmail(inst, "-t", input=body)
    assert r.returncode == 0, r.stderr
    recs = submitted(inst)
    assert attrs(recs)["flags"] == "1"
    assert [p for t, p in recs if t == "R"] == []
    assert content(recs) == body


def test_extract_recipients_adds_command_line_ones(inst):
    r = sendmail(inst, "-t", "c@example.com", input=b"To: a@example.com\n\nhi\n")
    assert r.returncode == 0, r.stderr
    recs = submitted(inst)
    assert attrs(recs)["flags"] == "1"
    assert [p for t, p in recs if t == "R"] == [b"c@example.com"]


@pytest.mark.parametrize("body", [b"Subject: nobody\n\nTo: in-the-body@example.com\n",
                                  b"To: a@example.com\nResent-To:\n\nhi\n", b""])
def test_extract_recipients_with_nobody_in_the_headers_is_refused(inst, body):
    r = sendmail(inst, "-t", input=body)
    assert r.returncode == EX_USAGE
    assert "sendmail: fatal: no recipient addresses found in message header" in r.stderr
    assert maildrop_files(inst) == []  # postdrop's temporary file is gone too


def test_a_dot_line_ends_the_message_without_i(inst):
    assert sendmail(inst, "bob@x", input=b"a\n.\nb\n").returncode == 0
    assert content(submitted(inst)) == b"a\n"


@pytest.mark.parametrize("flag", ["-i", "-oi"])
def test_with_i_a_dot_line_is_content(inst, flag):
    assert sendmail(inst, flag, "bob@x", input=b"a\n.\n..\nb\n").returncode == 0
    assert content(submitted(inst)) == b"a\n.\n..\nb\n"


def test_crlf_input_is_stored_like_lf_input(inst):
    assert sendmail(inst, "bob@x", input=b"Subject: crlf\r\n\r\nline\r\nbare\rcr\r\nlast").returncode == 0
    assert content(submitted(inst)) == b"Subject: crlf\n\nline\nbare\rcr\nlast\n"


def test_a_two_megabyte_line_arrives_whole(inst):
    line = bytes(range(33, 127)) * (2 * 1024 * 1024 // 94 + 1)
    assert sendmail(inst, "bob@x", input=b"Subject: long\n\n" + line + b"\r\nend\n").returncode == 0
    recs = submitted(inst)
    assert content(recs) == b"Subject: long\n\n" + line + b"\nend\n"
    assert any(t == "P" for t, _ in recs)
    assert max(len(p) for _, p in recs) <= 1024 * 1024


def test_eight_bit_and_nul_bytes_pass_unchanged(inst):
    body = "Subject: Grüße\n\nçà ∑ 日本\n".encode() + b"\xff\xfe\x00\x01\n"
    assert sendmail(inst, "bob@x", input=body).returncode == 0
    assert content(submitted(inst)) == body


def test_leading_mbox_from_lines_are_dropped(inst):
    body = b"From alice Mon Nov 30 10:00:00 2026\n>From x\nSubject: s\n\nFrom the body\n"
    assert sendmail(inst, "bob@x", input=body).returncode == 0
    assert content(submitted(inst)) == b"Subject: s\n\nFrom the body\n"


def test_empty_message(inst):
    assert sendmail(inst, "bob@x", input=b"").returncode == 0
    assert content(submitted(inst)) == b""


def test_ignored_sendmail_options_are_accepted(inst):
    r = sendmail(inst, "-odb", "-odi", "-om", "-oem", "-oee", "-oep", "-o7", "-o8", "-oAx",
                 "-U", "-G", "-L", "label", "-h", "10", "-bm", "--", "bob@x")
    assert r.returncode == 0, r.stderr
    assert [p for t, p in submitted(inst) if t == "R"] == [b"bob@x"]


def test_a_caller_that_ignores_sigchld_still_learns_the_verdict(inst):
    import signal
    ignore = lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # noqa: E731
    r = subprocess.run([str(program("sendmail")), "-C", str(inst.dir), "bob@x"], input=b"hi\n",
                       capture_output=True, timeout=60, preexec_fn=ignore)
    assert r.returncode == 0, r.stderr
    session = b"HELO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"
    r = subprocess.run([str(program("sendmail")), "-C", str(inst.dir), "-bs"], input=session,
                       capture_output=True, timeout=60, preexec_fn=ignore)
    assert b"250 2.0.0 Ok: queued\r\n" in r.stdout, r.stdout + r.stderr
    assert len(maildrop_files(inst)) == 2


def test_config_option_may_name_main_cf(inst):
    r = subprocess.run([str(program("sendmail")), "-C", str(inst.main_cf), "bob@x"],
                       input=b"hi\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(maildrop_files(inst)) == 1


def test_mail_config_environment_selects_the_instance(inst):
    full_env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
    full_env["MAIL_CONFIG"] = str(inst.dir)
    r = subprocess.run([str(program("sendmail")), "bob@x"], input=b"hi\n", env=full_env,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(maildrop_files(inst)) == 1


# ---- postdrop and hostile streams ----

def test_postdrop_accepts_a_good_stream(inst):
    code, err = postdrop(inst, good_stream())
    assert code == 0, err
    assert content(submitted(inst)) == b"Subject: x\n\nhello\n"


@pytest.mark.parametrize("stream,reason", [
    (good_stream()[:-2], "end record"),                                 # no E
    (good_stream()[:-1], "ends inside a record"),                        # E cut
    (good_stream()[:20], "offset"),                                      # truncated
    (good_stream().replace(b"R\x10user", b"Z\x10user"), "unknown record type"),
    (good_stream() + rec("L", "after"), "offset"),                        # data after E
    (rec("T", "1.000000") + good_stream(), "version"),                   # no V first
    (rec("V", "1") + rec("T", "x") + rec("F", "a") + rec("M") + rec("E"), "time"),
    (good_stream(rcpt="bad\x01addr"), "control character"),
    (rec("V", "1") + rec("T", "1.000000") + rec("F", "a") + rec("M") + rec("E"), "recipient"),
    (b"V\xff\xff\xff\xff\x7f", "length"),
    (b"", "end record"),
])
def test_postdrop_refuses_a_hostile_stream_and_leaves_no_file(inst, stream, reason):
    code, err = postdrop(inst, stream)
    assert code == EX_DATAERR, err
    assert err.startswith("postdrop: fatal: invalid maildrop stream: offset ")
    assert reason.lower() in err.lower()
    assert len(err.splitlines()) == 1
    assert maildrop_files(inst) == []


def test_postdrop_usage_error(inst):
    code, err = postdrop(inst, good_stream(), "extra")
    assert code == EX_USAGE
    assert "usage: postdrop" in err


def test_setgid_postdrop_refuses_an_untrusted_configuration(inst, tmp_path):
    if not IS_ROOT:
        pytest.skip("needs root to make a set-gid copy of postdrop")
    d = tmp_path / "bin"
    d.mkdir()
    d.chmod(0o755)
    tmp_path.chmod(0o755)
    copy = d / "postdrop"
    shutil.copy(program("postdrop"), copy)
    # A group that nobody is not in, so the copy really gains a privilege.
    shutil.chown(copy, "root", "mail")
    copy.chmod(0o2755)
    # LeakSanitizer cannot run in a set-gid process: a sanitizer build then
    # exits 1 after postdrop's own exit, with a notice after its message.
    lsan = "LeakSanitizer has encountered a fatal error"

    def status(r):
        return EX_NOPERM if r.returncode == 1 and lsan in r.stderr else r.returncode

    for args, env in ((["-c", str(inst.dir)], {}), ([], {"MAIL_CONFIG": str(inst.dir)})):
        r = run([copy, *args], user=NOBODY, env=env, input=good_stream().decode())
        assert status(r) == EX_NOPERM, r.stderr
        assert "untrusted configuration directory" in r.stderr
        assert "alternate_config_directories" in r.stderr
    assert maildrop_files(inst) == []
    # root may use any directory with the set-gid copy.
    r = run([copy, "-c", inst.dir], input=good_stream().decode())
    assert r.returncode == 0 or (r.returncode == 1 and lsan in r.stderr), r.stderr
    assert len(maildrop_files(inst)) == 1


# ---- -bs ----

class Session:
    """sendmail -bs driven line by line."""

    def __init__(self, inst):
        env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
        self.proc = subprocess.Popen([str(program("sendmail")), "-C", str(inst.dir), "-bs"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)

    def reply(self):
        lines = []
        while True:
            line = self.proc.stdout.readline().decode()
            assert line.endswith("\r\n"), lines + [line]
            lines.append(line[:-2])
            if line[3] == " ":
                return lines

    def send(self, text):
        self.proc.stdin.write(text.encode() + b"\r\n")
        self.proc.stdin.flush()

    def cmd(self, text):
        self.send(text)
        return self.reply()

    def close(self):
        self.proc.stdin.close()
        code = self.proc.wait(timeout=30)
        err = self.proc.stderr.read().decode()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code, err


def test_smtp_session_queues_each_message(inst):
    s = Session(inst)
    assert s.reply()[0].startswith("220 ")
    ehlo = s.cmd("EHLO client.example")
    assert ehlo[0].startswith("250-")
    assert "250-PIPELINING" in ehlo and "250 ENHANCEDSTATUSCODES" in ehlo
    assert s.cmd("VRFY root") == ["502 5.5.1 VRFY command is disabled"]
    assert s.cmd("RCPT TO:<a@x>") == ["503 5.5.1 Error: need MAIL command"]
    assert s.cmd("DATA") == ["503 5.5.1 Error: need RCPT command"]
    assert s.cmd("MAIL FROM:<alice@example.com>") == ["250 2.1.0 Ok"]
    assert s.cmd("MAIL FROM:<alice@example.com>") == ["503 5.5.1 Error: nested MAIL command"]
    assert s.cmd("RCPT TO:<\"b c\"@example.com>") == ["250 2.1.5 Ok"]
    assert s.cmd("RCPT TO:<>") == ["501 5.1.3 Bad recipient address syntax"]
    assert s.cmd("NOOP") == ["250 2.0.0 Ok"]
    assert s.cmd("DATA")[0].startswith("354 ")
    assert s.cmd("Subject: one\r\n\r\n..leading dot\r\n.") == ["250 2.0.0 Ok: queued"]
    # The second message in the same session, then RSET in between.
    assert s.cmd("MAIL FROM:<>") == ["250 2.1.0 Ok"]
    assert s.cmd("RSET") == ["250 2.0.0 Ok"]
    assert s.cmd("DATA") == ["503 5.5.1 Error: need RCPT command"]
    assert s.cmd("MAIL FROM:<> BODY=8BITMIME") == ["250 2.1.0 Ok"]
    assert s.cmd("RCPT TO:<d@example.com>") == ["250 2.1.5 Ok"]
    assert s.cmd("DATA")[0].startswith("354 ")
    s.send("Subject: two\r\n\r\nbody")
    assert s.cmd(".") == ["250 2.0.0 Ok: queued"]
    assert s.cmd("XYZZY") == ["502 5.5.2 Error: command not recognized"]
    assert s.cmd("QUIT") == ["221 2.0.0 Bye"]
    code, err = s.close()
    assert code == 0, err
    files = maildrop_files(inst)
    assert len(files) == 2
    msgs = sorted((read_records(f) for f in files), key=lambda r: dict(r)["F"],
                  reverse=True)
    assert dict(msgs[0])["F"] == b"alice@example.com"
    assert [p for t, p in msgs[0] if t == "R"] == [b"b c@example.com"]
    assert content(msgs[0]) == b"Subject: one\n\n.leading dot\n"
    assert dict(msgs[1])["F"] == b""
    assert attrs(msgs[1])["body_type"] == "8BITMIME"
    assert content(msgs[1]) == b"Subject: two\n\nbody\n"


def test_swaks_talks_to_sendmail_bs(inst):
    if shutil.which("swaks") is None:
        pytest.skip("swaks not installed")
    r = subprocess.run(["swaks", "--pipe", f"{program('sendmail')} -C {inst.dir} -bs",
                        "--from", "alice@example.com", "--to", "bob@example.com",
                        "--header", "Subject: from swaks", "--body", "hello\n.dot\n"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0 Ok: queued" in r.stdout
    recs = submitted(inst)
    assert dict(recs)["F"] == b"alice@example.com"
    body = content(recs)
    assert b"Subject: from swaks\n" in body and b"\n\nhello\n.dot\n" in body  # dot unstuffed


def test_smtp_session_dsn_parameters_go_into_the_maildrop_file(inst):
    s = Session(inst)
    s.reply()
    assert "250-DSN" in s.cmd("EHLO x")
    assert s.cmd("MAIL FROM:<a@x> RET=FULL ENVID=Q+2B1") == ["250 2.1.0 Ok"]
    assert s.cmd("RCPT TO:<b@x> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@x") == ["250 2.1.5 Ok"]
    assert s.cmd("RCPT TO:<c@x>") == ["250 2.1.5 Ok"]
    s.cmd("DATA")
    assert s.cmd("hi\r\n.") == ["250 2.0.0 Ok: queued"]
    s.cmd("QUIT")
    s.close()
    recs = submitted(inst)
    a = attrs(recs)
    assert (a["dsn_ret"], a["dsn_envid"]) == ("FULL", "Q+1")
    envelope = [(t, p) for t, p in recs if t in "nR"]
    assert envelope == [("n", b"12"), ("R", b"b@x"), ("R", b"c@x")]


def test_smtp_session_end_of_input_inside_data_queues_nothing(inst):
    s = Session(inst)
    s.reply()
    s.cmd("HELO x")
    s.cmd("MAIL FROM:<a@x>")
    s.cmd("RCPT TO:<b@x>")
    assert s.cmd("DATA")[0].startswith("354")
    s.proc.stdin.write(b"Subject: cut\r\n\r\npartial")
    code, _ = s.close()
    assert code == 0
    assert maildrop_files(inst) == []


def test_smtp_session_refuses_oversized_messages(inst):
    inst.append_main_cf("message_size_limit = 100\n")
    s = Session(inst)
    s.reply()
    assert "250-SIZE 100" in s.cmd("EHLO x")
    assert s.cmd("MAIL FROM:<a@x> SIZE=1000") == ["552 5.3.4 Message size exceeds fixed limit"]
    assert s.cmd("MAIL FROM:<a@x> SIZE=10") == ["250 2.1.0 Ok"]
    s.cmd("RCPT TO:<b@x>")
    s.cmd("DATA")
    assert s.cmd("x" * 200 + "\r\n.") == ["552 5.3.4 Error: message file too big"]
    s.cmd("QUIT")
    s.close()
    assert maildrop_files(inst) == []


def test_smtp_session_too_many_errors(inst):
    s = Session(inst)
    s.reply()
    for _ in range(19):
        assert s.cmd("BOGUS")[0].startswith("502")
    assert s.cmd("BOGUS") == ["502 5.5.2 Error: command not recognized"]
    assert s.reply()[0].endswith("Error: too many errors")
    code, _ = s.close()
    assert code == 0


# ---- -bp, mailq ----

def inject(exe, inst, sender, *rcpts, body="Subject: t\n\nhello\n"):
    r = subprocess.run([str(exe), "-c", str(inst.dir), "-f", sender, *rcpts], input=body,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def rcpt_offsets(path):
    """Offsets of the R records of a queue file."""
    out, pos = [], 0
    for rtype, payload in read_records(path):
        size = len(rec(rtype, payload))
        if rtype == "R":
            out.append((payload.decode(), pos))
        pos += size
    return out


@pytest.mark.parametrize("prog,args", [("mailq", []), ("sendmail", ["-bp"])])
def test_empty_queue(inst, prog, args):
    r = sendmail(inst, *args, prog=prog, input=b"")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Mail queue is empty\n"


def test_queue_listing_with_deferred_mail(inst, inject_helper):
    deferred_id = inject(inject_helper, inst, "alice@example.com", "bob@example.org",
                         "carol@example.org")
    held_id = inject(inject_helper, inst, "", "dave@example.net")
    spool = inst.spool
    (spool / "incoming" / deferred_id).rename(spool / "deferred" / deferred_id)
    (spool / "incoming" / held_id).rename(spool / "hold" / held_id)
    offsets = dict(rcpt_offsets(spool / "deferred" / deferred_id))
    reason = "connect to mx.example.org[192.0.2.1]:25: Connection refused"
    log = b""
    for addr in ("bob@example.org", "carol@example.org"):
        log += b"".join(rec("A", f"{k}={v}") for k, v in (
            ("recipient", addr), ("offset", offsets[addr]), ("status", "4.4.1"),
            ("action", "delayed"), ("reason", reason), ("time", int(time.time()))))
        log += rec("E")
    (spool / "defer" / deferred_id).write_bytes(log)
    assert sendmail(inst, "x@example.com").returncode == 0
    r = sendmail(inst, prog="mailq", input=b"")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------"
    maildrop_id = maildrop_files(inst)[0].name
    # maildrop first, then deferred, then hold ('!').
    assert lines[1].startswith(maildrop_id + " ")
    i = lines.index(next(l for l in lines if l.startswith(deferred_id)))
    head = lines[i].split()
    assert head[0] == deferred_id and head[-1] == "alice@example.com"
    assert lines[i + 1] == f"({reason})".rjust(78)
    assert lines[i + 2] == " " * 47 + "bob@example.org"
    assert lines[i + 3] == " " * 47 + "carol@example.org"
    assert lines[i + 4] == ""
    held = next(l for l in lines if l.startswith(held_id))
    assert held.startswith(held_id + "!") and held.endswith(" MAILER-DAEMON")
    assert lines[-1].startswith("-- ") and lines[-1].endswith(" Kbytes in 3 Requests.")


# ---- newaliases, -q ----

def test_newaliases_rebuilds_the_alias_table(inst):
    db = inst.dir / "aliases.db"
    assert db.exists()
    db.unlink()
    with open(inst.dir / "aliases", "a") as f:
        f.write("helpdesk: root\n")
    r = sendmail(inst, prog="newaliases", input=b"")
    assert r.returncode == 0, r.stderr
    assert db.exists()
    q = run([program("postalias"), "-c", inst.dir, "-q", "helpdesk", f"hash:{inst.dir}/aliases"])
    assert q.stdout.strip() == "root"
    db.unlink()
    assert sendmail(inst, "-bi", input=b"").returncode == 0
    assert db.exists()


def test_newaliases_fails_on_a_missing_table(inst):
    r = sendmail(inst, "-oA" + str(inst.dir / "missing"), "-bi", input=b"")
    assert r.returncode != 0
    assert "postalias failed" in r.stderr


def test_flush_with_the_mail_system_down(inst):
    r = sendmail(inst, "-q", input=b"")
    assert r.returncode == EX_UNAVAILABLE
    assert "cannot flush the queue" in r.stderr
    assert sendmail(inst, "-q30m", input=b"").returncode == 0
    # -qRsite and -qIid are postqueue -s and -i, as in Postfix.
    r = sendmail(inst, "-qRexample.com", input=b"")
    assert r.returncode == EX_UNAVAILABLE
    assert "postqueue: fatal: cannot flush the queue" in r.stderr
    r = sendmail(inst, "-qIno/such", input=b"")
    assert r.returncode == EX_USAGE
    assert "invalid queue id" in r.stderr


# ---- end to end: sendmail -> postdrop -> pickup -> qmgr -> local ----

from live import live, submitter, wait_until  # noqa: E402,F401


def run_as(lv, args, data):
    """Run a program as the instance's user, bytes in."""
    cmd = [str(a) for a in args]
    if lv.inst.user:
        cmd = ["setpriv", f"--reuid={lv.inst.user}", f"--regid={NOGROUP}", "--clear-groups",
               "--"] + cmd
    env = {k: v for k, v in os.environ.items() if k not in ("MAIL_CONFIG", "NAME")}
    return subprocess.run(cmd, input=data, capture_output=True, timeout=60, env=env)


def test_end_to_end_submissions_reach_the_mailbox(live):
    if live.injector is not None:
        pytest.skip("needs sendmail, postdrop and pickup")
    body = "Subject: Grüße -t\n".encode() + b"To: " + live.login.encode() + \
        b"\nBcc: " + live.login.encode() + b"\n\n8-bit \xc3\xa9t\xc3\xa9\r\n.\nafter the dot\n"
    r = run_as(live, [program("sendmail"), "-C", live.dir, "-t", "-i", "-F", "Tee Sender"], body)
    assert r.returncode == 0, r.stderr
    r = run_as(live, [program("sendmail"), "-C", live.dir, "-f", "<>", live.login],
               b"Subject: null sender\n\nfirst\n.\nnot this\n")
    assert r.returncode == 0, r.stderr
    smtp = (f"HELO local\r\nMAIL FROM:<{live.addr}>\r\nRCPT TO:<{live.login}>\r\nDATA\r\n"
            "Subject: via -bs\r\n\r\n..stuffed\r\n.\r\nQUIT\r\n").encode()
    r = run_as(live, [program("sendmail"), "-C", live.dir, "-bs"], smtp)
    assert r.returncode == 0, r.stderr
    assert b"250 2.0.0 Ok: queued" in r.stdout
    wait_until(lambda: len(live.messages(live.mbox)) >= 3 and live.queue_empty(), timeout=60)
    assert len(live.messages(live.mbox)) == 3, live.log()
    by_body = {m.get_payload(decode=False): m for m in live.messages(live.mbox)}
    tee = next(m for b, m in by_body.items() if "after the dot" in b)
    assert tee.get_payload(decode=True) == b"8-bit \xc3\xa9t\xc3\xa9\n.\nafter the dot\n"
    assert "Tee Sender" in tee["From"]
    assert tee["Bcc"] is None
    null = next(m for b, m in by_body.items() if b.startswith("first"))
    assert null.get_payload() == "first\n"
    assert null["Return-Path"] == "<>"
    bs = next(m for b, m in by_body.items() if "stuffed" in b)
    assert bs.get_payload() == ".stuffed\n"
    r = run_as(live, [program("mailq"), "-C", live.dir], b"")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"Mail queue is empty\n"
    assert "uid=" in live.log()
    r = run_as(live, [program("sendmail"), "-C", live.dir, "-q"], b"")
    assert r.returncode == 0, r.stderr

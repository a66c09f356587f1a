"""qmgr: scheduling, delivery requests, deferral and back-off, expiry, bounces.

Two kinds of tests:

- qmgr alone (stand-alone mode, -S), with fake delivery agents written
  here that speak the attribute protocol of docs/PROTOCOLS.md on
  private/TRANSPORT and answer each recipient as the test says. Messages
  are queued by tests/system/helpers/qmgr_inject.c, which uses the same
  queue-file writer (global/cleanup) as pickup and smtpd. These pin what
  qmgr does with every kind of answer without depending on the real
  agents.
- a real instance (postern init / start, sendmail, pickup, local), for the
  end-to-end behaviour the issue asks for: an unknown local user gets a
  DSN back. These need the whole chain built.

Every process a test starts is stopped by its pid when the test ends.
"""

import email
import email.policy
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import BUILD, IS_ROOT, NOBODY, NOGROUP, REPO
from live import compile_helper, instance_pids

INJECT_SRC = REPO / "tests" / "system" / "helpers" / "qmgr_inject.c"
QUEUES = ("incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer",
          "public", "private", "maildrop")


# ---- the attribute protocol (global/attr) ----

def read_list(f):
    """One attribute list from a binary stream; None at a clean end."""
    attrs = {}
    first = True
    while True:
        name = b""
        while True:
            c = f.read(1)
            if not c:
                if first and not name:
                    return None
                raise EOFError("input ended inside a list")
            if c == b"\0":
                break
            name += c
        first = False
        if name == b"":
            return attrs
        length = b""
        while (c := f.read(1)) != b":":
            if not c:
                raise EOFError("input ended inside a length")
            length += c
        value = f.read(int(length))
        if f.read(1) != b",":
            raise ValueError("bad attribute terminator")
        attrs[name.decode()] = value.decode("utf-8", "replace")


def encode(attrs):
    out = b""
    for k, v in attrs.items():
        v = str(v).encode()
        out += k.encode() + b"\0" + str(len(v)).encode() + b":" + v + b","
    return out + b"\0"


class Agent:
    """A fake delivery agent listening on private/NAME.

    policy(address) returns (status, reason); the agent answers every
    recipient of a request with it, then the final list. delay makes each
    request take that long. It records every request and the most requests
    it ever had at once."""

    def __init__(self, path, policy, delay=0.0, raw=None):
        self.path = str(path)
        self.policy = policy
        self.delay = delay
        self.raw = raw  # bytes to send instead of proper replies
        self.requests = []
        self.busy = 0
        self.max_busy = 0
        self.lock = threading.Lock()
        if os.path.lexists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(128)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # close() shut the socket down
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _not_busy(self, state):
        # Counted down before the reply goes out: once qmgr has the reply
        # it may start the next delivery at once, and that one must not
        # overlap this thread's last steps in the count.
        if state["busy"]:
            state["busy"] = False
            with self.lock:
                self.busy -= 1

    def _serve(self, conn):
        f = conn.makefile("rwb")
        state = {"busy": True}
        with self.lock:
            self.busy += 1
            self.max_busy = max(self.max_busy, self.busy)
        try:
            req = read_list(f)
            rcpts = [read_list(f) for _ in range(int(req["rcpt_count"]))]
            with self.lock:
                self.requests.append((req, rcpts))
            time.sleep(self.delay)
            self._not_busy(state)
            if self.raw is not None:
                f.write(self.raw)
            else:
                for r in rcpts:
                    status, reason = self.policy(r["address"])
                    action = {"2": "delivered", "4": "deferred", "5": "failed"}[status[0]]
                    f.write(encode({"index": r["index"], "status": status, "action": action,
                                    "reason": reason}))
                f.write(encode({"done": 1}))
            f.flush()
        except (OSError, EOFError, ValueError):
            pass
        finally:
            self._not_busy(state)
            try:
                f.close()
                conn.close()
            except OSError:
                pass

    def addresses(self):
        with self.lock:
            return [r["address"] for _, rcpts in self.requests for r in rcpts]

    def close(self):
        """Stop accepting, then free the descriptor. The accept thread must be
        gone first: its accept() names the socket by descriptor number, and a
        call made (or restarted by the kernel) after close() would take the
        number's next owner, often the next test's agent, and answer that
        test's qmgr with this agent's policy, out of sight of its records.
        shutdown() makes a waiting or later accept() fail at once."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "agent accept thread did not stop"
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


# ---- queue files (docs/PROTOCOLS.md, "Records") ----

def read_records(path):
    data = pathlib.Path(path).read_bytes()
    pos, out = 0, []
    while pos < len(data):
        rtype = chr(data[pos])
        pos += 1
        length, shift = 0, 0
        while True:
            b = data[pos]
            pos += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((rtype, data[pos:pos + length]))
        pos += length
    return out


def queue_message(path):
    """(sender, recipients, content bytes) of a queue file."""
    sender, rcpts, lines, cur = None, [], [], b""
    in_content = False
    for rtype, payload in read_records(path):
        if rtype == "F":
            sender = payload.decode()
        elif rtype in "RD" and not in_content:
            rcpts.append((rtype, payload.decode()))
        elif rtype == "M":
            in_content = True
        elif rtype == "P":
            cur += payload
        elif rtype == "L":
            lines.append(cur + payload)
            cur = b""
    return sender, rcpts, b"\n".join(lines) + b"\n"


# ---- stand-alone qmgr ----

@pytest.fixture(scope="session")
def inject_helper():
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-qmgr-helper-"))
    d.chmod(0o755)
    exe = d / "qmgr_inject"
    compile_helper(INJECT_SRC, exe)
    yield exe
    shutil.rmtree(d, ignore_errors=True)


class Qmgr:
    """A queue directory, a main.cf, and qmgr running stand-alone on it."""

    def __init__(self, base, inject):
        self.base = base
        self.dir = base / "etc"
        self.spool = base / "spool"
        self.maillog = base / "maillog"
        self.stderr = base / "qmgr.stderr"
        self.inject_exe = inject
        self.proc = None
        self.agents = []
        self.user = NOBODY if IS_ROOT else pwd.getpwuid(os.geteuid()).pw_name
        self.group = NOGROUP if IS_ROOT else None
        self.dir.mkdir()
        for q in QUEUES:
            (self.spool / q).mkdir(parents=True)
        if IS_ROOT:
            pw = pwd.getpwnam(NOBODY)
            for p in [self.spool, *[self.spool / q for q in QUEUES]]:
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self.maillog.touch()
            os.chown(self.maillog, pw.pw_uid, pw.pw_gid)
        self.settings = {
            "queue_directory": str(self.spool),
            "myhostname": "mx.example.com",
            "mydomain": "example.com",
            "mail_owner": self.user,
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(base),
            "daemon_directory": str(BUILD / "libexec"),
        }
        if self.group:
            self.settings["setgid_group"] = self.group
        (self.dir / "master.cf").write_text("")

    def write_main_cf(self, **extra):
        self.settings.update({k: str(v) for k, v in extra.items()})
        (self.dir / "main.cf").write_text(
            "".join(f"{k} = {v}\n" for k, v in self.settings.items()))

    def start(self, **extra):
        self.write_main_cf(**extra)
        sock = self.spool / "public" / "qmgr"
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(
                [str(BUILD / "libexec" / "qmgr"), "-c", str(self.dir), "-S", f"unix:{sock}"],
                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 10
        while not sock.exists():
            assert self.proc.poll() is None, f"qmgr exited: {self.log()}"
            assert time.time() < deadline, "qmgr did not create its socket"
            time.sleep(0.02)
        # The socket belongs to the user qmgr runs as; the tests trigger as root.
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def agent(self, name, policy=lambda a: ("2.0.0", "delivered"), **kw):
        a = Agent(self.spool / "private" / name, policy, **kw)
        self.agents.append(a)
        return a

    def inject(self, sender, *rcpts, notify=0, ret=None, ago=0,
               body="Subject: test message\n\nhello\n"):
        cmd = [str(self.inject_exe), "-c", str(self.dir), "-f", sender]
        if notify:
            cmd += ["-N", str(notify)]
        if ret:
            cmd += ["-R", ret]
        if ago:
            cmd += ["-a", str(ago)]
        cmd += list(rcpts)
        if IS_ROOT:
            cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOGROUP}", "--clear-groups",
                   "--"] + cmd
        r = subprocess.run(cmd, input=body, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def trigger(self, byte=b"A"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.spool / "public" / "qmgr"))
        s.sendall(byte)
        s.close()

    def files(self, queue):
        return sorted(n for n in os.listdir(self.spool / queue) if not n.startswith("."))

    def log(self):
        try:
            return self.maillog.read_text()
        except FileNotFoundError:
            return ""

    def wait(self, predicate, timeout=15, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}\n--- maillog ---\n{self.log()}")

    def idle(self):
        """Nothing left in incoming or active."""
        return not self.files("incoming") and not self.files("active")

    def sanitizer_reports(self):
        """Sanitizer findings in qmgr's standard error (a sanitizer build)."""
        try:
            text = self.stderr.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return [l for l in text.splitlines()
                if "Sanitizer" in l or "runtime error:" in l]

    def close(self):
        self.stop()
        for a in self.agents:
            a.close()


@pytest.fixture
def qm(inject_helper):
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-qmgr-"))
    base.chmod(0o755)
    q = Qmgr(base, inject_helper)
    yield q
    q.close()
    reports = q.sanitizer_reports()
    shutil.rmtree(base, ignore_errors=True)
    assert not reports, "\n".join(reports)


def dsn_parts(content):
    msg = email.message_from_bytes(content, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert parts[1].get_content_type() == "message/delivery-status"
    return msg, parts


# ---- tests: qmgr alone ----

def test_delivered_recipients_are_removed_and_logged(qm):
    qm.start()
    local = qm.agent("local")
    qid = qm.inject("alice@example.com", "bob@mx.example.com", "carol@localhost")
    qm.trigger()
    qm.wait(lambda: f"{qid}: removed" in qm.log(), what="removal")
    assert sorted(local.addresses()) == ["bob@mx.example.com", "carol@localhost"]
    log = qm.log()
    assert f"{qid}: from=<alice@example.com>, size=" in log
    assert "nrcpt=2 (queue active)" in log
    req = local.requests[0][0]
    assert req["queue_name"] == "active" and req["queue_id"] == qid
    assert req["sender"] == "alice@example.com" and req["nexthop"] == "mx.example.com"
    # local takes one recipient per request (local_destination_recipient_limit = 1)
    assert all(len(rcpts) == 1 for _, rcpts in local.requests)
    assert qm.idle() and not qm.files("deferred") and not qm.files("defer")


def test_unknown_recipient_bounces_to_sender_with_rfc3464_report(qm):
    qm.start()
    qm.agent("local", lambda a: ("5.1.1", f'unknown user: "{a.split("@")[0]}"')
             if a.startswith("nosuch") else ("2.0.0", "delivered"))
    qid = qm.inject("alice@example.com", "nosuch@mx.example.com", "bob@mx.example.com")
    qm.trigger()
    qm.wait(lambda: "sender non-delivery notification" in qm.log() and qm.idle()
            and f"{qid}: removed" in qm.log(), what="bounce")
    # The DSN is queued mail like any other, from the null sender.
    bounce_id = qm.log().split(f"{qid}: sender non-delivery notification: ")[1].split()[0]
    assert f"{bounce_id}: from=<>, size=" in qm.log()


def test_dsn_content_parses_as_multipart_report(qm):
    qm.start()
    qm.agent("local", lambda a: ("5.1.1", 'unknown user: "nosuch"'))
    qid = qm.inject("alice@remote.example", "nosuch@mx.example.com",
                    body="Subject: original subject\nX-Test: 1\n\nline one\nline two\n")
    qm.trigger()
    # No smtp agent: the DSN to alice@remote.example waits in deferred.
    qm.wait(lambda: "sender non-delivery notification" in qm.log() and qm.idle()
            and len(qm.files("deferred")) == 1, what="DSN deferred")
    (dsn_id,) = qm.files("deferred")
    sender, rcpts, content = queue_message(qm.spool / "deferred" / dsn_id)
    assert sender == "" and rcpts == [("R", "alice@remote.example")]
    msg, parts = dsn_parts(content)
    assert msg["From"].startswith("MAILER-DAEMON@mx.example.com")
    assert msg["Auto-Submitted"] == "auto-replied"
    blocks = parts[1].get_payload()
    assert blocks[0]["Reporting-MTA"] == "dns; mx.example.com"
    assert blocks[0]["X-Postern-Queue-ID"] == qid
    assert blocks[1]["Final-Recipient"] == "rfc822; nosuch@mx.example.com"
    assert blocks[1]["Action"] == "failed" and blocks[1]["Status"] == "5.1.1"
    assert 'unknown user: "nosuch"' in parts[0].get_payload()
    assert parts[2].get_content_type() == "message/rfc822"
    original = parts[2].get_payload()[0]
    assert original["Subject"] == "original subject"
    assert "line two" in original.get_payload()


def test_missing_transport_defers_with_backoff_and_flush_delivers(qm):
    qm.start(minimal_backoff_time="300s", maximal_backoff_time="4000s")
    qid = qm.inject("alice@example.com", "bob@remote.example")
    before = time.time()
    qm.trigger()
    qm.wait(lambda: qm.files("deferred") == [qid], what="deferral")
    log = qm.log()
    assert "transport smtp: connect to" in log
    assert (f"{qid}: to=<bob@remote.example>, relay=none, delay=" in log
            and "dsn=4.3.0, status=deferred (mail transport unavailable)" in log)
    # Next retry: arrival + minimal_backoff_time (the message is younger than that).
    mtime = os.stat(qm.spool / "deferred" / qid).st_mtime
    assert before + 300 - 5 <= mtime <= time.time() + 300 + 1
    assert qm.files("defer") == [qid]
    # The transport comes up; a flush retries at once.
    smtp = qm.agent("smtp")
    qm.trigger(b"F")
    qm.wait(lambda: f"{qid}: removed" in qm.log(), what="delivery after flush")
    assert smtp.addresses() == ["bob@remote.example"]
    assert smtp.requests[0][0]["nexthop"] == "remote.example"
    assert not qm.files("deferred") and not qm.files("defer")


def test_backoff_grows_with_age_up_to_the_maximum(qm):
    qm.start(minimal_backoff_time="300s", maximal_backoff_time="4000s")
    qm.agent("smtp", lambda a: ("4.4.1", "connection timed out"))
    young = qm.inject("a@example.com", "x@remote.example", ago=1000)
    old = qm.inject("a@example.com", "y@remote.example", ago=10 * 3600)
    qm.trigger()
    qm.wait(lambda: sorted(qm.files("deferred")) == sorted([young, old]), what="deferrals")
    now = time.time()
    assert abs(os.stat(qm.spool / "deferred" / young).st_mtime - (now + 1000)) < 10
    assert abs(os.stat(qm.spool / "deferred" / old).st_mtime - (now + 4000)) < 10
    # A deferred message that is not due stays where it is on a timer scan.
    qm.trigger(b"W")
    time.sleep(0.5)
    assert sorted(qm.files("deferred")) == sorted([young, old])


def test_expired_message_is_returned_with_last_reason(qm):
    qm.start(maximal_queue_lifetime="1d")
    qm.agent("smtp", lambda a: ("4.4.1", "connection to mx.remote.example timed out"))
    qm.agent("local")
    qid = qm.inject("alice@mx.example.com", "x@remote.example", ago=2 * 86400)
    qm.trigger()
    qm.wait(lambda: f"{qid}: removed" in qm.log() and qm.idle(), what="expiry")
    log = qm.log()
    assert f"{qid}: from=<alice@mx.example.com>, status=expired, returned to sender" in log
    assert f"{qid}: sender non-delivery notification" in log


def test_delay_warning_is_sent_once(qm):
    qm.start(delay_warning_time="1h")
    qm.agent("smtp", lambda a: ("4.4.1", "connection timed out"))
    local = qm.agent("local")
    qid = qm.inject("alice@mx.example.com", "x@remote.example", ago=2 * 3600)
    qm.trigger()
    qm.wait(lambda: f"{qid}: sender delay notification" in qm.log() and qm.idle(),
            what="delay notice")
    qm.wait(lambda: "alice@mx.example.com" in local.addresses(), what="notice delivered")
    assert qm.files("deferred") == [qid]
    qm.trigger(b"F")
    qm.wait(lambda: qm.log().count(f"{qid}: from=<alice") == 2 and qm.idle(), what="retry")
    assert qm.log().count(f"{qid}: sender delay notification") == 1


def test_double_bounce_goes_to_postmaster_and_never_loops(qm):
    qm.start()
    # Nobody exists here: the bounce fails, and so does the postmaster copy.
    local = qm.agent("local", lambda a: ("5.1.1", "unknown user"))
    qid = qm.inject("", "nosuch@mx.example.com")
    qm.trigger()
    qm.wait(lambda: "undeliverable postmaster notification discarded" in qm.log()
            and qm.idle(), what="double bounce discarded")
    log = qm.log()
    assert f"{qid}: postmaster non-delivery notification" in log
    assert "sender non-delivery notification" not in log
    assert "postmaster@mx.example.com" in local.addresses()
    time.sleep(0.5)
    assert qm.idle() and not qm.files("deferred")
    # nosuch, then postmaster: two requests, no third.
    assert len(local.requests) == 2


def test_notify_never_suppresses_and_success_reports(qm):
    qm.start()
    local = qm.agent("local", lambda a: ("5.1.1", "unknown user")
                     if a.startswith("nosuch") else ("2.0.0", "delivered"))
    quiet = qm.inject("alice@mx.example.com", "nosuch@mx.example.com", notify=1)
    loud = qm.inject("carol@mx.example.com", "bob@mx.example.com", notify=2 | 4)
    qm.trigger()
    qm.wait(lambda: f"{quiet}: removed" in qm.log() and f"{loud}: removed" in qm.log()
            and qm.idle(), what="both done")
    log = qm.log()
    assert f"{quiet}: sender non-delivery notification" not in log
    assert f"{loud}: sender delivery status notification" in log
    qm.wait(lambda: "carol@mx.example.com" in local.addresses(), what="success DSN delivered")
    assert "alice@mx.example.com" not in local.addresses()


def test_routing_tricks_bounce_without_delivery(qm):
    qm.start()
    local = qm.agent("local")
    qid = qm.inject("alice@mx.example.com", "bob%remote.example@mx.example.com")
    qm.trigger()
    qm.wait(lambda: f"{qid}: removed" in qm.log() and qm.idle(), what="bounce")
    assert "dsn=5.1.3, status=bounced" in qm.log()
    assert "bob%remote.example@mx.example.com" not in local.addresses()


def test_domain_lists_with_tables_and_files(qm):
    vfile = qm.base / "virtual_domains"
    vfile.write_text("# virtual domains\nvirt.example, Other-Virt.example\n")
    vfile.chmod(0o644)
    qm.start(relay_domains="inline:{ relay.example=yes }",
             virtual_mailbox_domains=str(vfile))
    relay = qm.agent("relay")
    virtual = qm.agent("virtual")
    qid = qm.inject("alice@example.com", "a@relay.example", "b@sub.relay.example",
                    "c@virt.example", "d@other-virt.example.")
    qm.trigger()
    qm.wait(lambda: f"{qid}: removed" in qm.log(), what="delivery")
    assert sorted(relay.addresses()) == ["a@relay.example", "b@sub.relay.example"]
    assert sorted(virtual.addresses()) == ["c@virt.example", "d@other-virt.example."]
    virt_req = [req for req, r in virtual.requests if r[0]["address"] == "c@virt.example"][0]
    assert virt_req["nexthop"] == "virt.example"


def test_unreadable_domain_table_defers(qm):
    qm.start(relay_domains=f"hash:{qm.base}/no-such-table")
    qm.agent("relay")
    qm.agent("smtp")
    qid = qm.inject("alice@example.com", "a@anywhere.example")
    qm.trigger()
    qm.wait(lambda: qm.files("deferred") == [qid], what="deferral")
    assert "dsn=4.3.0, status=deferred (relay_domains lookup failure" in qm.log()


def test_recipient_limit_and_grouping(qm):
    qm.start(default_destination_recipient_limit=50)
    smtp = qm.agent("smtp")
    rcpts = [f"u{i}@remote.example" for i in range(120)] + ["v@other.example"]
    qid = qm.inject("alice@example.com", *rcpts)
    qm.trigger()
    qm.wait(lambda: f"{qid}: removed" in qm.log(), what="delivery")
    sizes = sorted(len(r) for _, r in smtp.requests)
    assert sizes == [1, 20, 50, 50]
    assert sorted(smtp.addresses()) == sorted(rcpts)
    for req, r in smtp.requests:
        domains = {a["address"].split("@")[1] for a in r}
        assert domains == {req["nexthop"]}


def test_destination_concurrency_limit(qm):
    qm.start(smtp_destination_concurrency_limit=3, initial_destination_concurrency=5)
    smtp = qm.agent("smtp", delay=0.3)
    for i in range(12):
        qm.inject("alice@example.com", f"u{i}@remote.example")
    qm.trigger()
    qm.wait(lambda: len(smtp.requests) == 12 and qm.idle(), what="deliveries")
    assert smtp.max_busy == 3


def test_agent_garbage_defers_and_qmgr_survives(qm):
    qm.start()
    qm.agent("smtp", raw=b"\xff\xfe garbage that is no attribute list\0\0\0")
    qid = qm.inject("alice@example.com", "x@remote.example")
    qm.trigger()
    qm.wait(lambda: qm.files("deferred") == [qid], what="deferral")
    assert "dsn=4.3.0, status=deferred (delivery agent failed)" in qm.log()
    assert qm.proc.poll() is None
    # A result for a recipient that was not in the request is garbage too.
    qm.agents[-1].close()
    qm.agent("smtp", raw=encode({"index": 7, "status": "2.0.0"}) + encode({"done": 1}))
    qm.trigger(b"F")
    qm.wait(lambda: qm.log().count("delivery agent failed") >= 2, what="second deferral")
    assert qm.files("deferred") == [qid] and qm.proc.poll() is None


def test_closed_fake_agent_takes_no_connection_of_the_next_one(tmp_path):
    """The harness itself: a closed agent's accept thread has ended, so it
    cannot accept on the descriptor number that the next agent's socket
    reuses. Before, that thread could answer a restarted qmgr's request
    with an earlier test's policy, and the test's agent never saw it."""
    old = Agent(tmp_path / "old", lambda a: ("2.0.0", "old agent"))
    old.close()
    assert not old.thread.is_alive()
    new = Agent(tmp_path / "new", lambda a: ("4.4.1", "new agent"))
    try:
        for i in range(10):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(new.path)
                s.sendall(encode({"queue_id": f"Q{i}", "rcpt_count": 1}) +
                          encode({"index": 0, "address": f"u{i}@example.com"}))
                f = s.makefile("rb")
                assert read_list(f)["reason"] == "new agent"
                assert read_list(f) == {"done": "1"}
        assert len(new.requests) == 10 and old.requests == []
    finally:
        new.close()


def test_crash_leftovers_in_active_are_delivered_at_start(qm):
    qm.start()
    local = qm.agent("local", delay=30)
    qid = qm.inject("alice@example.com", "bob@mx.example.com")
    qm.trigger()
    qm.wait(lambda: len(local.requests) == 1, what="delivery under way")
    assert qm.files("active") == [qid]
    qm.kill()
    local.close()
    qm.agents.remove(local)
    local = qm.agent("local")
    qm.start()
    qm.wait(lambda: f"{qid}: removed" in qm.log(), what="delivery after restart")
    assert local.addresses() == ["bob@mx.example.com"]


def test_hold_queue_is_left_alone(qm):
    qm.start()
    qm.agent("local")
    qid = qm.inject("alice@example.com", "bob@mx.example.com")
    os.rename(qm.spool / "incoming" / qid, qm.spool / "hold" / qid)
    qm.trigger(b"F")
    time.sleep(1)
    assert qm.files("hold") == [qid]
    assert qid not in qm.log()


def test_corrupt_file_goes_to_corrupt(qm):
    qm.start()
    bad = qm.spool / "incoming" / "1xVDXXXXXXjzzz"
    bad.write_bytes(b"V\x011S\x02xx garbage")
    if IS_ROOT:
        pw = pwd.getpwnam(NOBODY)
        os.chown(bad, pw.pw_uid, pw.pw_gid)
    qm.trigger()
    qm.wait(lambda: qm.files("corrupt") == ["1xVDXXXXXXjzzz"], what="corrupt")
    assert "corrupt queue file" in qm.log()
    assert qm.proc.poll() is None


# ---- tests: qmgr with the real local delivery agent ----

@pytest.fixture
def local_agent(qm):
    """local(8) stand-alone on private/local, mailboxes in a directory of the test."""
    exe = BUILD / "libexec" / "local"
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is not built")
    mail = qm.base / "mail"
    mail.mkdir()
    mail.chmod(0o1777)
    settings = {"alias_maps": "", "alias_database": "", "mail_spool_directory": str(mail)}
    qm.write_main_cf(**settings)
    err = open(qm.base / "local.stderr", "ab")
    proc = subprocess.Popen([str(exe), "-c", str(qm.dir), "-S",
                             f"unix:{qm.spool / 'private' / 'local'}"],
                            stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 10
    while not (qm.spool / "private" / "local").exists():
        assert proc.poll() is None and time.time() < deadline, "local did not start"
        time.sleep(0.02)
    yield settings, mail
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    err.close()


def test_unknown_local_user_gets_a_dsn_in_the_senders_mailbox(qm, local_agent):
    settings, mail = local_agent
    me = "root" if IS_ROOT else pwd.getpwuid(os.geteuid()).pw_name
    qm.start(**settings)
    qid = qm.inject(f"{me}@mx.example.com", "nosuch@mx.example.com",
                    body="Subject: to nobody real\n\nhello\n")
    qm.trigger()
    qm.wait(lambda: (mail / me).exists() and qm.idle() and f"{qid}: removed" in qm.log(),
            what="the DSN in the sender's mailbox")
    import mailbox
    box = mailbox.mbox(str(mail / me))
    (dsn,) = [m for m in box if m.get_content_type() == "multipart/report"]
    parts = dsn.get_payload()
    assert parts[1].get_content_type() == "message/delivery-status"
    blocks = parts[1].get_payload()
    assert blocks[1]["Final-Recipient"] == "rfc822; nosuch@mx.example.com"
    assert blocks[1]["Status"] == "5.1.1"
    assert parts[2].get_payload()[0]["Subject"] == "to nobody real"
    assert dsn["Return-Path"] == "<>"


# ---- tests: a real instance (postern init/start, master, qmgr, local) ----
#
# Mail enters as pickup would leave it: a queue file committed to incoming by
# qmgr_inject (global/cleanup), then the "new mail" trigger on public/qmgr.
# Everything after that is the real thing: master runs qmgr and local from
# master.cf, and postern flush is the administrator's command.

INSTANCE_PROGRAMS = [BUILD / "bin" / "postern", BUILD / "libexec" / "master",
                     BUILD / "libexec" / "qmgr", BUILD / "libexec" / "local"]


class Live:
    """A started instance and the user it runs as."""

    def __init__(self, inst, login, inject):
        self.inst = inst
        self.dir = inst.dir
        self.spool = inst.dir / "spool"
        self.login = login
        self.addr = f"{login}@test.example"
        self.inject_exe = inject

    def log(self):
        path = self.dir / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def inject(self, sender, *rcpts, body="Subject: test\n\nhello\n"):
        cmd = [str(self.inject_exe), "-c", str(self.dir), "-f", sender, *rcpts]
        if self.inst.user:
            cmd = ["setpriv", f"--reuid={self.inst.user}", f"--regid={NOGROUP}",
                   "--clear-groups", "--"] + cmd
        r = subprocess.run(cmd, input=body, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        qid = r.stdout.strip()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.spool / "public" / "qmgr"))
        s.sendall(b"A")
        s.close()
        return qid

    def files(self, queue):
        return sorted(n for n in os.listdir(self.spool / queue) if not n.startswith("."))

    def idle(self):
        return not self.files("incoming") and not self.files("active")

    def mbox(self, name=None):
        import mailbox
        path = self.dir / "mail" / (name or self.login)
        return list(mailbox.mbox(str(path))) if path.exists() else []

    def wait(self, predicate, timeout=20, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}\n--- maillog ---\n{self.log()}")

    def postern(self, *args):
        r = self.inst.postern(*args)
        assert r.returncode == 0, r.stderr + self.log()
        return r


@pytest.fixture
def live(unprivileged_dir, inject_helper):
    from conftest import Instance
    missing = [str(p) for p in INSTANCE_PROGRAMS if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail("not built: " + ", ".join(missing))
    base, user = unprivileged_dir
    inst = Instance(base / "instance", user=user)
    inst.init("myhostname=test.example", "mydomain=example",
              "local_transport=mylocal:$myhostname")
    login = user or pwd.getpwuid(os.geteuid()).pw_name
    # Only what local mail needs; local runs as "mylocal", so that a test can
    # take the transport away and give it back.
    lines = [l for l in inst.master_cf.read_text().splitlines(keepends=True)
             if l.split()[:1] in (["qmgr"], ["local"])]
    inst.master_cf.write_text("".join(lines).replace("local ", "mylocal ", 1))
    (inst.dir / "aliases").write_text(f"postmaster: {login}\n")
    r = subprocess.run([str(BUILD / "bin" / "postalias"), "-c", str(inst.dir),
                        f"hash:{inst.dir}/aliases"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if user:
        pw = pwd.getpwnam(user)
        for p in (inst.dir / "aliases", inst.dir / "aliases.db"):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    lv = Live(inst, login, inject_helper)
    lv.postern("start")
    yield lv
    inst.postern("stop")
    for pid in instance_pids(inst.dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_instance_unknown_user_dsn_reaches_the_sender(live):
    qid = live.inject(live.addr, "nosuchuser@test.example",
                      body="Subject: where are you\n\nhello\n")
    live.wait(lambda: live.mbox() and live.idle() and f"{qid}: removed" in live.log(),
              what="the DSN")
    (dsn,) = live.mbox()
    msg, parts = dsn_parts(dsn.as_bytes())
    assert dsn["Return-Path"] == "<>"
    block = parts[1].get_payload()[1]
    assert block["Final-Recipient"] == "rfc822; nosuchuser@test.example"
    assert block["Status"] == "5.1.1" and block["Action"] == "failed"
    assert parts[2].get_payload()[0]["Subject"] == "where are you"
    assert "status=bounced" in live.log()


def test_instance_missing_transport_defers_and_postern_flush_retries(live):
    # Take the local transport away: master.cf without mylocal, reloaded.
    cf = live.inst.master_cf
    saved = cf.read_text()
    cf.write_text("".join(l for l in saved.splitlines(keepends=True)
                          if not l.startswith("mylocal")))
    live.postern("reload")
    live.wait(lambda: not (live.spool / "private" / "mylocal").exists(), what="socket gone")
    qid = live.inject(live.addr, live.addr)
    t0 = time.time()
    live.wait(lambda: live.files("deferred") == [qid], what="deferral")
    assert "status=deferred (mail transport unavailable)" in live.log()
    mtime = os.stat(live.spool / "deferred" / qid).st_mtime
    # Young message: next retry minimal_backoff_time (300s) from now.
    assert t0 + 300 - 5 <= mtime <= time.time() + 301
    # The transport comes back; postern flush retries at once.
    cf.write_text(saved)
    live.postern("reload")
    live.wait(lambda: (live.spool / "private" / "mylocal").exists(), what="socket back")
    live.postern("flush")
    live.wait(lambda: f"{qid}: removed" in live.log() and len(live.mbox()) == 1,
              what="delivery after flush")
    assert not live.files("deferred") and not live.files("defer")


def test_instance_double_bounce_goes_to_postmaster_once(live):
    qid = live.inject("", "nosuchuser@test.example", body="Subject: a bounce\n\nx\n")
    live.wait(lambda: live.mbox() and live.idle(), what="postmaster copy")
    time.sleep(1)  # nothing may follow
    (copy,) = live.mbox()
    assert copy["Subject"] == "Postmaster Copy: Undelivered Mail"
    assert copy["Return-Path"] == "<double-bounce@test.example>"
    assert f"{qid}: postmaster non-delivery notification" in live.log()
    assert live.idle() and not live.files("deferred")


def test_instance_failed_double_bounce_is_dropped(live):
    (live.dir / "aliases").write_text("postmaster: nosuchpostmaster\n")
    r = subprocess.run([str(BUILD / "bin" / "postalias"), "-c", str(live.dir),
                        f"hash:{live.dir}/aliases"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if live.inst.user:
        pw = pwd.getpwnam(live.inst.user)
        os.chown(live.dir / "aliases.db", pw.pw_uid, pw.pw_gid)
    live.inject("", "nosuchuser@test.example")
    live.wait(lambda: "undeliverable postmaster notification discarded" in live.log()
              and live.idle(), what="discard")
    time.sleep(1)
    assert live.idle() and not live.files("deferred")
    assert live.log().count("non-delivery notification") == 1
    assert live.mbox() == []

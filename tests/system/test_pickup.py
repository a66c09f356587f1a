"""System tests for pickup(8): maildrop files into the queue.

The maildrop files are built here, record by record, from
docs/PROTOCOLS.md (so the tests also pin the contract postdrop writes to),
and put straight into spool/maildrop with the owner a submission would
give them. Two layers:

* Stand-alone: pickup runs with -S in an instance made by `postern init`
  (as nobody when the tests run as root, else as the invoking user; as
  root also a privileged instance whose pickup drops to nobody). Queue
  files are read back with postcat.
* End to end: a started instance (the `live` fixture: master, pickup,
  qmgr, local) delivers a maildrop file to an mbox, also one that waited
  in maildrop while the instance was down.

Every process a test starts is stopped at the end, pass or fail, and
sanitizer reports in pickup's standard error fail the test.
"""

import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, IS_ROOT, NOBODY, NOGROUP, Instance, run
from live import live, submitter, wait_until  # noqa: F401 (fixtures)
from test_local import record  # the record encoder of docs/PROTOCOLS.md

LIBEXEC = BUILD / "libexec"
BIN = BUILD / "bin"


# ---- docs/PROTOCOLS.md: records and maildrop files ----

def envelope(sender="user@test.example", rcpts=("user@test.example",), attrs=(),
             arrival=None):
    arrival = arrival if arrival is not None else time.time()
    out = record("V", "1")
    out += record("T", "%d.%06d" % (int(arrival), int((arrival % 1) * 1e6)))
    out += record("F", sender)
    for a in attrs:
        out += record("A", a)
    for r in rcpts:
        out += record("R", r)
    return out


def content(lines=("Subject: test", "", "body")):
    out = record("M")
    for line in lines:
        out += record("L", line)
    return out + record("E")


def maildrop_file(sender="user@test.example", rcpts=("user@test.example",), attrs=(),
                  lines=("Subject: test", "", "body")):
    return envelope(sender, rcpts, attrs) + content(lines)


counter = [0]


def new_id():
    """A fresh name that is a valid queue id."""
    counter[0] += 1
    return "P%d%dx%d" % (os.getpid(), int(time.time() * 1000) % 10**8, counter[0])


# ---- a stand-alone pickup ----

class Pickup:
    """An instance and a stand-alone pickup process serving it."""

    def __init__(self, inst, run_as, owner_uid, owner_gid):
        self.inst = inst
        self.run_as = run_as          # account pickup is started as (None: us)
        self.uid = owner_uid          # whom maildrop files belong to by default
        self.gid = owner_gid
        self.spool = inst.dir / "spool"
        self.sock = inst.dir / "pickup.sock"
        self.stderr = inst.dir / "pickup.stderr"
        self.proc = None

    def start(self, *extra):
        if self.sock.exists():
            self.sock.unlink()
        cmd = [str(LIBEXEC / "pickup"), "-c", str(self.inst.dir), "-S", f"unix:{self.sock}",
               *extra]
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                   "--clear-groups", "--"] + cmd
        env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.stderr, "a"))
        if not wait_until(lambda: self.sock.exists() or self.proc.poll() is not None, 15):
            raise AssertionError("pickup did not start")
        assert self.proc.poll() is None, self.stderr.read_text() + self.log()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def trigger(self, byte=b"A"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.sock))
        s.sendall(byte)
        s.close()

    def put(self, data, name=None, uid=None, mode=0o644):
        """Write a maildrop file as postdrop would leave it; its name."""
        name = name or new_id()
        path = self.spool / "maildrop" / name
        tmp = self.spool / "maildrop" / (".t" + name)
        tmp.write_bytes(data)
        tmp.chmod(mode)
        if IS_ROOT:
            os.chown(tmp, self.uid if uid is None else uid, self.gid)
        os.rename(tmp, path)
        return name

    def files(self, queue):
        return sorted(p.name for p in (self.spool / queue).iterdir()
                      if not p.name.startswith("."))

    def log(self):
        path = self.inst.dir / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_gone(self, name, timeout=20):
        path = self.spool / "maildrop" / name
        assert wait_until(lambda: not os.path.lexists(path), timeout), \
            f"maildrop/{name} still there\n" + self.log()

    def queued_id(self, name):
        """Wait until maildrop/name is taken; the id of the queue file it became."""
        self.wait_gone(name)
        return queued_one(self)

    def queued_text(self, name):
        """postcat of the queue file maildrop/name became."""
        return self.postcat("incoming", self.queued_id(name))

    def postcat(self, queue, qid):
        r = run([BIN / "postcat", "-c", self.inst.dir, self.spool / queue / qid])
        assert r.returncode == 0, r.stderr
        return r.stdout

    def sanitizer_report(self):
        text = self.stderr.read_text(errors="replace") if self.stderr.exists() else ""
        return text if ("Sanitizer" in text or "runtime error" in text) else ""


def need_programs():
    for p in (LIBEXEC / "pickup", BIN / "postern", BIN / "postcat"):
        if not os.access(p, os.X_OK):
            pytest.fail(f"{p} is not built (POSTERN_BUILD={BUILD})")


@pytest.fixture
def pickup_factory():
    made, bases = [], []

    def make(privileged=False, settings=()):
        need_programs()
        base = pathlib.Path(tempfile.mkdtemp(prefix="postern-pickup-"))
        base.chmod(0o755)
        bases.append(base)
        if privileged:
            # Root makes the instance; pickup starts as root and drops to nobody.
            inst = Instance(base / "instance")
            inst.init("myhostname=test.example", "mydomain=example",
                      f"mail_owner={NOBODY}", f"setgid_group={NOGROUP}", *settings)
            pw = pwd.getpwnam(NOBODY)
            pk = Pickup(inst, None, 0, 0)
        else:
            user = NOBODY if IS_ROOT else None
            if IS_ROOT:
                if shutil.which("setpriv") is None:
                    pytest.skip("setpriv not installed")
                os.chown(base, pwd.getpwnam(NOBODY).pw_uid, pwd.getpwnam(NOBODY).pw_gid)
            inst = Instance(base / "instance", user=user)
            inst.init("myhostname=test.example", "mydomain=example", *settings)
            pw = pwd.getpwnam(user) if user else pwd.getpwuid(os.geteuid())
            pk = Pickup(inst, user, pw.pw_uid, pw.pw_gid)
        pk.login = pw.pw_name
        made.append(pk)
        return pk

    yield make
    reports = []
    for pk in made:
        pk.stop()
        reports.append(pk.sanitizer_report())
    for b in bases:
        shutil.rmtree(b, ignore_errors=True)
    assert not any(reports), "sanitizer report from pickup:\n" + "\n".join(reports)


@pytest.fixture
def pickup(pickup_factory):
    return pickup_factory()


def queued_one(pk):
    """The id of the one queue file in incoming."""
    assert wait_until(lambda: pk.files("incoming"), 20), pk.log()
    files = pk.files("incoming")
    assert len(files) == 1, files
    return files[0]


# ---- good files ----

def test_file_present_at_start_is_queued_with_the_owner_as_uid(pickup):
    name = pickup.put(maildrop_file(
        sender="alice", rcpts=("bob@test.example",),
        attrs=("full_name=Alice Example", "dsn_envid=ENV1", "dsn_ret=HDRS"),
        lines=("Subject: hello", "", "first", "second")))
    pickup.start()
    qid = pickup.queued_id(name)
    text = pickup.postcat("incoming", qid)
    assert "sender: alice@test.example" in text
    assert "recipient: bob@test.example" in text
    assert f"named_attribute: uid={pickup.uid}" in text
    assert "named_attribute: protocol=LOCAL" in text
    assert "named_attribute: rewrite_context=local" in text
    assert "named_attribute: full_name=Alice Example" in text
    assert "named_attribute: dsn_envid=ENV1" in text
    assert "named_attribute: dsn_ret=HDRS" in text
    assert f"(Postern, from userid {pickup.uid})" in text
    assert "From: Alice Example <alice@test.example>" in text
    assert "Subject: hello\n" in text and "first\nsecond\n" in text
    assert f"{qid}: uid={pickup.uid} from=<alice>" in pickup.log()
    assert pickup.files("maildrop") == []
    assert pickup.files("corrupt") == []


def test_trigger_picks_up_new_files_and_dsn_records_pass(pickup):
    pickup.start()
    time.sleep(0.3)
    data = envelope(rcpts=()) + record("O", "orig@test.example") + record("n", "6") + \
        record("R", "carol@test.example") + content()
    name = pickup.put(data)
    pickup.trigger()
    text = pickup.queued_text(name)
    assert "original_recipient: orig@test.example" in text
    assert "dsn_notify_flags: 6" in text
    assert "recipient: carol@test.example" in text


def test_forged_network_attributes_are_ignored_with_a_warning(pickup):
    name = pickup.put(maildrop_file(attrs=("client_address=192.0.2.1", "protocol=ESMTP",
                                           "rewrite_context=remote", "sasl_username=admin")))
    pickup.start()
    qid = pickup.queued_id(name)
    text = pickup.postcat("incoming", qid)
    assert "192.0.2.1" not in text and "sasl_username" not in text
    assert "protocol=LOCAL" in text and "rewrite_context=local" in text
    assert "protocol=ESMTP" not in text
    assert (f"{qid}: uid={pickup.uid}: ignoring 4 attributes a local submission may not set "
            "(client_address, ...)") in pickup.log()


def test_extract_flag_takes_recipients_from_headers(pickup):
    name = pickup.put(maildrop_file(
        rcpts=(), attrs=("flags=1",),
        lines=("To: to1@test.example, Someone <to2@test.example>", "Cc: cc@test.example",
               "Bcc: hidden@test.example", "Subject: t", "", "body")))
    pickup.start()
    text = pickup.queued_text(name)
    for r in ("to1", "to2", "cc", "hidden"):
        assert f"recipient: {r}@test.example" in text
    assert "Bcc:" not in text


def test_matching_uid_attribute_is_accepted(pickup):
    name = pickup.put(maildrop_file(attrs=(f"uid={pickup.uid}",)))
    pickup.start()
    pickup.queued_id(name)
    assert pickup.files("corrupt") == []


# ---- hostile files ----

GOOD = maildrop_file()
HEAD = envelope(rcpts=())
HEAD_LEN = len(HEAD)

# name -> (bytes, offset in the log line or None, reason in the log line)
HOSTILE = {
    "truncated": (GOOD[:-4], len(GOOD) - len(record("E")) - len(record("L", "body")),
                  "file ends inside a record"),
    "oversized_length": (HEAD + b"R\xff\xff\xff\x7f", HEAD_LEN, "record length over the limit"),
    "length_field_too_long": (HEAD + b"R\xff\xff\xff\xff\x01", HEAD_LEN,
                              "record length field too long"),
    "unknown_type": (HEAD + b"Z\x00" + content(), HEAD_LEN, "unknown record type"),
    "missing_end": (GOOD[:-2], len(GOOD) - 2, "file ends before the end record"),
    "two_senders": (HEAD + record("F", "evil@test.example") + record("R", "a@test.example") +
                    content(), HEAD_LEN, "unexpected sender record"),
    "content_before_m": (envelope() + record("L", "x") + content(),
                         len(envelope()), "envelope records before content"),
    "bad_attribute_name": (HEAD + record("A", "bad name=x") + record("R", "a@test.example") +
                           content(), HEAD_LEN, "bad character in attribute name"),
    "control_char_in_address": (HEAD + record("R", "a@test.example\nRCPT TO:<b@x>") + content(),
                                HEAD_LEN, "control character in address"),
    "data_after_end": (GOOD + b"L\x00", len(GOOD), "data after the end record"),
    "end_after_piece": (envelope() + record("M") + record("P", "x") + record("E"),
                        len(envelope()) + 2 + 3, "line after a piece"),
    "no_version": (GOOD[3:], 0, "version record first"),
    "no_recipients_no_t": (HEAD + content(), HEAD_LEN,
                           "no recipients, and no request to extract them"),
    "forged_uid": (None, None, "claims uid 4242 but the file belongs to uid"),
}


def test_hostile_files_go_to_corrupt_and_pickup_keeps_working(pickup):
    names = {}
    for kind, (data, offset, reason) in HOSTILE.items():
        if data is None:  # forged_uid: depends on nobody's uid
            data = maildrop_file(attrs=("uid=4242",))
        names[kind] = pickup.put(data)
    # Not a record problem: the file itself.
    target = pickup.put(GOOD)
    os.rename(pickup.spool / "maildrop" / target, pickup.inst.dir / "target")
    link = new_id()
    os.symlink(pickup.inst.dir / "target", pickup.spool / "maildrop" / link)
    hard_src = pickup.inst.dir / "hardsrc"
    hard_src.write_bytes(GOOD)
    if IS_ROOT:
        os.chown(hard_src, pickup.uid, pickup.gid)
    hard = new_id()
    os.link(hard_src, pickup.spool / "maildrop" / hard)
    fifo = new_id()
    os.mkfifo(pickup.spool / "maildrop" / fifo)
    if IS_ROOT:
        os.chown(pickup.spool / "maildrop" / fifo, pickup.uid, pickup.gid)
    pickup.start()
    others = {"symlink": (link, "symbolic link"), "hard_link": (hard, "more than one hard link"),
              "fifo": (fifo, "not a regular file")}
    for name in list(names.values()) + [n for n, _ in others.values()]:
        pickup.wait_gone(name)
    log = pickup.log()
    corrupt = set(pickup.files("corrupt"))
    for kind, (data, offset, reason) in HOSTILE.items():
        name = names[kind]
        assert name in corrupt, kind
        lines = [l for l in log.splitlines() if f"maildrop/{name}:" in l]
        assert len(lines) == 1, (kind, lines)
        assert reason in lines[0], (kind, lines[0])
        if offset is not None:
            assert f"uid={pickup.uid}: offset {offset}: " in lines[0], (kind, lines[0])
        assert lines[0].endswith(f"moved to corrupt/{name}"), lines[0]
        # The bytes are kept for the administrator.
        if HOSTILE[kind][0] is not None:
            assert (pickup.spool / "corrupt" / name).read_bytes() == data
    for kind, (name, reason) in others.items():
        assert name in corrupt, kind
        lines = [l for l in log.splitlines() if f"maildrop/{name}:" in l]
        assert len(lines) == 1 and reason in lines[0], (kind, lines)
    # The symlink was moved, not followed; its target is untouched.
    assert os.path.islink(pickup.spool / "corrupt" / link)
    assert (pickup.inst.dir / "target").read_bytes() == GOOD
    assert pickup.files("incoming") == []
    # Still working: a good file after all that is queued.
    name = pickup.put(maildrop_file(rcpts=("after@test.example",)))
    pickup.trigger()
    assert "recipient: after@test.example" in pickup.queued_text(name)
    assert pickup.proc.poll() is None


def test_temporary_and_stray_names_are_left_alone(pickup):
    tmp = pickup.spool / "maildrop" / ".t12345"
    tmp.write_bytes(GOOD[:10])
    if IS_ROOT:
        os.chown(tmp, pickup.uid, pickup.gid)
    name = pickup.put(GOOD)
    pickup.start()
    pickup.queued_id(name)
    assert tmp.exists()
    assert pickup.files("corrupt") == []


# ---- refused messages and failures that pass ----

def test_too_big_message_is_returned_to_the_sender(pickup_factory):
    pk = pickup_factory(settings=("message_size_limit=5000",))
    body = ["x" * 70] * 100
    name = pk.put(maildrop_file(sender="sender@test.example", rcpts=("rcpt@test.example",),
                                lines=["Subject: big", ""] + body))
    pk.start()
    qid = pk.queued_id(name)
    text = pk.postcat("incoming", qid)
    assert "recipient: sender@test.example" in text
    assert "multipart/report" in text
    assert "Status: 5.3.4" in text
    assert "Final-Recipient: rfc822; rcpt@test.example" in text
    # Refused for its size: only the headers come back.
    assert "text/rfc822-headers" in text and "x" * 70 not in text
    log = pk.log()
    assert "reject: 5.3.4 message file too big" in log
    assert "from=<sender@test.example>" in log
    assert "sender non-delivery notification: " + qid in log
    assert pk.files("corrupt") == [] and pk.files("maildrop") == []


def test_t_without_any_recipient_in_the_headers_is_returned(pickup):
    name = pickup.put(maildrop_file(sender="sender@test.example", rcpts=(),
                                    attrs=("flags=1",), lines=("Subject: nobody", "", "x")))
    pickup.start()
    text = pickup.queued_text(name)
    assert "recipient: sender@test.example" in text
    assert "Status: 5.1.3" in text
    assert "reject: 5.1.3 no recipients specified" in pickup.log()


def test_unwritable_incoming_leaves_the_file_and_retries_without_spinning(pickup):
    incoming = pickup.spool / "incoming"
    incoming.chmod(0o500)
    try:
        name = pickup.put(GOOD)
        pickup.start()
        assert wait_until(lambda: "will retry" in pickup.log(), 15), pickup.log()
        time.sleep(1)
        for _ in range(5):  # triggers during the pause do not make it spin
            pickup.trigger()
        time.sleep(1)
        assert (pickup.spool / "maildrop" / name).exists()
        assert pickup.log().count("will retry") == 1, pickup.log()
    finally:
        incoming.chmod(0o700)
    pickup.trigger()
    pickup.queued_id(name)
    assert pickup.files("corrupt") == []


def test_stalled_queue_is_retried_without_a_new_trigger(pickup):
    # The file must not wait for the next trigger or master's wakeup once
    # the queue can take mail again: pickup tries again after its pause.
    incoming = pickup.spool / "incoming"
    incoming.chmod(0o500)
    try:
        name = pickup.put(GOOD)
        pickup.start()
        assert wait_until(lambda: "will retry" in pickup.log(), 15), pickup.log()
    finally:
        incoming.chmod(0o700)
    pickup.wait_gone(name, timeout=15)


# ---- owners ----

@pytest.mark.skipif(not IS_ROOT, reason="only root can make files owned by someone else")
def test_unprivileged_instance_refuses_files_of_other_users(pickup):
    root_file = pickup.put(GOOD, uid=0)
    other = pickup.put(GOOD, uid=54321)
    pickup.start()
    pickup.wait_gone(root_file)
    pickup.wait_gone(other)
    log = pickup.log()
    assert set(pickup.files("corrupt")) == {root_file, other}
    assert f"maildrop/{root_file}: owner uid 0 is not the instance's user (uid {pickup.uid})" \
        in log
    assert f"maildrop/{other}: owner uid 54321 is not the instance's user" in log


@pytest.mark.skipif(not IS_ROOT, reason="a privileged instance needs root")
def test_privileged_pickup_accepts_any_owner_including_unknown_uids(pickup_factory):
    pk = pickup_factory(privileged=True)
    by_root = pk.put(maildrop_file(rcpts=("r1@test.example",)), uid=0)
    by_daemon = pk.put(maildrop_file(rcpts=("r2@test.example",)), uid=1)
    by_unknown = pk.put(maildrop_file(rcpts=("r3@test.example",)), uid=54321)
    forged = pk.put(maildrop_file(attrs=("uid=0",)), uid=54321)
    pk.start()
    for n in (by_root, by_daemon, by_unknown, forged):
        pk.wait_gone(n)
    assert wait_until(lambda: len(pk.files("incoming")) == 3, 20)
    uids = sorted(line.split("uid=")[1].split()[0] for line in pk.log().splitlines()
                  if ": uid=" in line and "from=<" in line)
    assert uids == ["0", "1", "54321"], pk.log()
    assert pk.files("corrupt") == [forged]
    assert "claims uid 0 but the file belongs to uid 54321" in pk.log()
    # pickup itself runs as mail_owner, not root.
    status = pathlib.Path(f"/proc/{pk.proc.pid}/status").read_text()
    uid_line = [l for l in status.splitlines() if l.startswith("Uid:")][0]
    assert uid_line.split()[1:] == [str(pwd.getpwnam(NOBODY).pw_uid)] * 4


# ---- end to end: master, pickup, qmgr, local ----

def put_live(lv, data):
    d = lv.dir / "spool" / "maildrop"
    name = new_id()
    (d / (".t" + name)).write_bytes(data)
    (d / (".t" + name)).chmod(0o644)
    if IS_ROOT and lv.inst.user:
        pw = pwd.getpwnam(lv.inst.user)
        os.chown(d / (".t" + name), pw.pw_uid, pw.pw_gid)
    os.rename(d / (".t" + name), d / name)
    return name


def test_end_to_end_maildrop_file_reaches_the_mbox(live):
    name = put_live(live, maildrop_file(sender=live.addr, rcpts=(live.addr,),
                                        lines=("Subject: via pickup", "", "hello")))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(live.dir / "spool" / "public" / "pickup"))
    s.sendall(b"A")
    s.close()
    assert wait_until(lambda: any(m["Subject"] == "via pickup"
                                  for m in live.messages(live.mbox)), 30), live.log()
    assert not (live.dir / "spool" / "maildrop" / name).exists()
    assert wait_until(live.queue_empty, 30)


def test_end_to_end_file_waiting_while_down_is_delivered_at_start(live):
    r = live.inst.postern("stop", env=live.env)
    assert r.returncode == 0, r.stderr
    put_live(live, maildrop_file(sender=live.addr, rcpts=(live.addr,),
                                 lines=("Subject: waited", "", "hello")))
    r = live.inst.postern("start", env=live.env)
    assert r.returncode == 0, r.stderr
    assert wait_until(lambda: any(m["Subject"] == "waited"
                                  for m in live.messages(live.mbox)), 30), live.log()

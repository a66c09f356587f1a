"""System tests for local(8), the local delivery agent.

Two layers:

* Direct: local runs stand-alone (-S unix:SOCKET) in a private instance;
  the test writes queue files itself (docs/PROTOCOLS.md records) and
  speaks qmgr's side of the delivery protocol (global/attr encoding). This
  pins local's behaviour without master, pickup or qmgr.
* End to end (test_end_to_end_*): a real instance started with `postern
  start`, mail submitted with sendmail; skipped until those programs are
  built.

Instances run unprivileged: as nobody when the tests run as root, else
as the invoking user. Mailboxes are read back with Python's mailbox
module. Every process a test starts is stopped at the end, pass or fail.
"""

import email
import mailbox
import os
import pathlib
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, IS_ROOT, NOBODY

LIBEXEC = BUILD / "libexec"
BIN = BUILD / "bin"


# ---- docs/PROTOCOLS.md: records and attribute lists ----

def record(rtype, payload=b""):
    if isinstance(payload, str):
        payload = payload.encode()
    out = bytearray(rtype.encode())
    n = len(payload)
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            break
    return bytes(out) + payload


def queue_file(sender, rcpts, lines, arrival=None, attrs=()):
    """The bytes of a committed queue file."""
    arrival = arrival or time.time()
    sec, usec = int(arrival), int((arrival % 1) * 1e6)

    def head(content_offset):
        out = record("V", "1")
        out += record("S", "%15d %15d %15d" % (content_offset, 0, len(rcpts)))
        out += record("T", "%d.%06d" % (sec, usec))
        out += record("F", sender)
        for name, value in attrs:
            out += record("A", f"{name}={value}")
        for r in rcpts:
            out += record("R", r)
        return out + record("M")

    offset = len(head(0))
    out = head(offset)
    for line in lines:
        out += record("L", line)
    return out + record("E")


def attr_list(pairs):
    out = bytearray()
    for name, value in pairs:
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            value = value.encode()
        out += name.encode() + b"\0" + str(len(value)).encode() + b":" + value + b","
    return bytes(out) + b"\0"


def read_attr_list(sock_file):
    """One list from a binary file object, as a dict of str."""
    result = {}
    while True:
        name = bytearray()
        while True:
            c = sock_file.read(1)
            if not c:
                raise EOFError("connection closed inside a list")
            if c == b"\0":
                break
            name += c
        if not name:
            return result
        length = bytearray()
        while True:
            c = sock_file.read(1)
            if c == b":":
                break
            length += c
        value = sock_file.read(int(length))
        assert sock_file.read(1) == b","
        result[name.decode()] = value.decode(errors="replace")


# ---- a private instance with local running stand-alone ----

def run_as_args(user):
    if user is None:
        return []
    pw = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--"]


class LocalAgent:
    """An instance directory and a stand-alone local process serving it
    (or another agent speaking the same protocol: program)."""

    counter = 0
    program = "local"

    def __init__(self, base, user, settings):
        self.dir = pathlib.Path(base)
        self.user = user
        pw = pwd.getpwnam(user) if user else pwd.getpwuid(os.geteuid())
        self.uid, self.gid, self.login = pw.pw_uid, pw.pw_gid, pw.pw_name
        self.spool = self.dir / "spool"
        self.mail = self.dir / "mail"
        self.home = self.dir / "home"
        self.log = self.dir / "maillog"
        self.sock = self.dir / "local.sock"
        for d in (self.spool / "active", self.spool / "incoming", self.mail, self.home,
                  self.spool / "public"):
            d.mkdir(parents=True, exist_ok=True)
        (self.dir / "aliases").write_text("")
        conf = {
            "queue_directory": str(self.spool),
            "mail_spool_directory": str(self.mail),
            "alias_maps": f"hash:{self.dir}/aliases",
            "alias_database": f"hash:{self.dir}/aliases",
            "myhostname": "test.example",
            "mydomain": "example",
            "mydestination": "$myhostname, localhost",
            "maillog_file": str(self.log),
            "mail_owner": self.login,
            "default_privs": self.login,
            "forward_path": f"{self.home}/$user.forward",
            "command_time_limit": "5s",
            "deliver_lock_attempts": "3",
            "deliver_lock_delay": "1s",
        }
        conf.update(settings)
        (self.dir / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in conf.items()))
        self.chown_all()
        self.proc = None

    def chown_all(self):
        if IS_ROOT and self.user is not None:
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    os.lchown(os.path.join(root, n), self.uid, self.gid)
            os.chown(self.dir, self.uid, self.gid)

    def aliases(self, text):
        path = self.dir / "aliases"
        path.write_text(text)
        result = subprocess.run(run_as_args(self.user) + [BIN / "postalias", "-c", self.dir,
                                                          f"hash:{path}"],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        self.chown_all()
        return result

    def start(self):
        if self.sock.exists():
            self.sock.unlink()
        env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
        self.proc = subprocess.Popen(
            run_as_args(self.user) + [LIBEXEC / self.program, "-c", self.dir, "-n", self.program,
                                      "-t", "unix", "-S", f"unix:{self.sock}"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr", "w"))
        deadline = time.time() + 10
        while not self.sock.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"{self.program} did not start: " +
                                     (self.dir / "stderr").read_text() + self.logtext())
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def logtext(self):
        return self.log.read_text() if self.log.exists() else ""

    def queue(self, sender, rcpts, lines, **kw):
        LocalAgent.counter += 1
        qid = "T%d%d" % (int(time.time() * 1000) % 10**9, LocalAgent.counter)
        path = self.spool / "active" / qid
        path.write_bytes(queue_file(sender, rcpts, lines, **kw))
        path.chmod(0o600)
        if IS_ROOT:
            os.chown(path, self.uid, self.gid)
        return qid

    def deliver(self, sender, rcpts, lines=("Subject: test", "", "body"), timeout=30, **kw):
        """Queue a message, ask local to deliver it, return the replies by index."""
        qid = self.queue(sender, rcpts, lines, **kw)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(self.sock))
        req = [("queue_name", "active"), ("queue_id", qid), ("sender", sender),
               ("nexthop", "test.example"), ("rcpt_count", len(rcpts)),
               ("arrival_time", int(time.time()))]
        msg = attr_list(req)
        for i, r in enumerate(rcpts):
            msg += attr_list([("index", i), ("address", r), ("original_recipient", r),
                              ("offset", 0)])
        s.sendall(msg)
        f = s.makefile("rb")
        replies = {}
        for _ in rcpts:
            reply = read_attr_list(f)
            replies[int(reply["index"])] = reply
        assert read_attr_list(f) == {"done": "1"}
        f.close()
        s.close()
        return qid, replies


@pytest.fixture
def agent_factory():
    made = []
    bases = []

    def make(**settings):
        base = pathlib.Path(tempfile.mkdtemp(prefix="postern-local-"))
        bases.append(base)
        user = None
        if IS_ROOT:
            if shutil.which("setpriv") is None:
                pytest.skip("setpriv not installed")
            user = NOBODY
            os.chmod(base, 0o755)
        agent = LocalAgent(base / "instance", user, settings)
        made.append(agent)
        return agent

    yield make
    stop_agents(made, bases)


def stop_agents(agents, bases):
    """Stop the agents, remove their directories, fail on a sanitizer report."""
    reports = []
    for a in agents:
        a.stop()
        err = a.dir / "stderr"
        text = err.read_text(errors="replace") if err.exists() else ""
        if "Sanitizer" in text or "runtime error" in text:
            reports.append(text)
    for b in bases:
        shutil.rmtree(b, ignore_errors=True)
    assert not reports, "sanitizer report:\n" + "\n".join(reports)


def need_programs(*names):
    for n in names:
        path = (LIBEXEC if n == "local" else BIN) / n
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is not built (POSTERN_BUILD={BUILD})")


@pytest.fixture
def agent(agent_factory):
    need_programs("local", "postalias")
    a = agent_factory()
    a.aliases("")
    a.start()
    return a


def only_message(path):
    box = mailbox.mbox(str(path))
    msgs = list(box)
    assert len(msgs) == 1, f"{len(msgs)} messages in {path}"
    return msgs[0]


# ---- direct tests ----

def test_mbox_delivery_adds_headers_and_quotes_from_lines(agent):
    lines = ["From: a@example.org", "Subject: hello", "", "first", "From the body", "last"]
    qid, replies = agent.deliver("a@example.org", [f"{agent.login}@test.example"], lines)
    assert replies[0]["status"] == "2.0.0", replies
    assert replies[0]["action"] == "delivered"
    msg = only_message(agent.mail / agent.login)
    assert msg["Return-Path"] == "<a@example.org>"
    assert msg["Delivered-To"] == f"{agent.login}@test.example"
    assert msg["Subject"] == "hello"
    assert msg.get_payload() == "first\n>From the body\nlast\n"  # mboxo: kept quoted
    raw = (agent.mail / agent.login).read_text()
    assert raw.startswith("From a@example.org  ")
    assert "\n>From the body\n" in raw
    st = os.stat(agent.mail / agent.login)
    assert st.st_uid == agent.uid and stat.S_IMODE(st.st_mode) == 0o600
    log = agent.logtext()
    assert (f"{qid}: to=<{agent.login}@test.example>, relay=local, delay=") in log
    assert "dsn=2.0.0, status=sent (delivered to mailbox)" in log


def test_second_message_appends(agent):
    for n in range(3):
        _, replies = agent.deliver("a@example.org", [agent.login], ["Subject: %d" % n, "", "x"])
        assert replies[0]["status"] == "2.0.0"
    box = mailbox.mbox(str(agent.mail / agent.login))
    assert [m["Subject"] for m in box] == ["0", "1", "2"]


def test_unknown_user_bounces_5_1_1(agent):
    _, replies = agent.deliver("a@example.org", ["no-such-user-xyz@test.example"])
    assert replies[0]["status"] == "5.1.1"
    assert replies[0]["action"] == "failed"
    assert 'unknown user: "no-such-user-xyz"' in replies[0]["reason"]


def test_other_system_account_is_unknown_in_unprivileged_instance(agent):
    other = "root" if agent.login != "root" else "daemon"
    _, replies = agent.deliver("a@example.org", [f"{other}@test.example"])
    assert replies[0]["status"] == "5.1.1"
    assert "unprivileged instance delivers only to" in replies[0]["reason"]


def test_maildir_delivery_via_spool_directory(agent_factory):
    need_programs("local", "postalias")
    a = agent_factory(mail_spool_directory="%s/" % "MAILDIR_PLACEHOLDER")
    maildir = a.dir / "maildirs"
    (a.dir / "main.cf").write_text((a.dir / "main.cf").read_text().replace(
        "MAILDIR_PLACEHOLDER", str(maildir)))
    a.aliases("")
    a.start()
    _, replies = a.deliver("s@example.org", [a.login], ["Subject: md", "", "From me"])
    assert replies[0]["status"] == "2.0.0", replies
    assert replies[0]["reason"] == "delivered to maildir"
    box = mailbox.Maildir(str(maildir / a.login), factory=None, create=False)
    msgs = list(box)
    assert len(msgs) == 1
    assert msgs[0]["Subject"] == "md"
    assert msgs[0]["Delivered-To"] == f"{a.login}@test.example"
    assert msgs[0].get_payload() == "From me\n"  # no quoting in Maildir
    assert os.listdir(maildir / a.login / "tmp") == []
    name = os.listdir(maildir / a.login / "new")[0]
    assert name.endswith(".test.example") and ".P" in name


def test_alias_to_file_command_and_user(agent_factory):
    need_programs("local", "postalias")
    agent = agent_factory(recipient_delimiter="+")
    out = agent.dir / "out"
    out.mkdir()
    agent.chown_all()
    agent.aliases(f"""# test aliases
tofile: {out}/file.mbox
tocmd: "|cat > {out}/cmd.out; echo $RECIPIENT $SENDER $EXTENSION > {out}/env.out"
touser: {agent.login}
all: tofile,
  tocmd, touser
""")
    agent.stop()
    agent.start()
    _, replies = agent.deliver("s@example.org", ["all+ext@test.example"],
                               ["Subject: fan-out", "", "text"])
    assert replies[0]["status"] == "2.0.0", replies
    assert replies[0]["action"] == "expanded"
    assert only_message(out / "file.mbox")["Subject"] == "fan-out"
    cmd_out = (out / "cmd.out").read_text()
    assert cmd_out.startswith("From s@example.org ")
    assert "Subject: fan-out" in cmd_out
    assert (out / "env.out").read_text().split() == ["tocmd@test.example", "s@example.org"]
    # EXTENSION belongs to the address the command was listed for (tocmd).
    assert only_message(agent.mail / agent.login)["Subject"] == "fan-out"
    log = agent.logtext()
    assert "to=<tocmd@test.example>, orig_to=<all+ext@test.example>" in log
    assert "status=sent (delivered to command: cat >" in log


def test_command_exit_codes(agent):
    agent.aliases('soft: "|exit 75"\nhard: "|echo no such list >&2; exit 67"\n'
                  'slow: "|sleep 30"\n')
    agent.stop()
    agent.start()
    _, replies = agent.deliver("s@example.org", ["soft", "hard"])
    assert replies[0]["status"] == "4.3.0" and replies[0]["action"] == "deferred"
    assert replies[1]["status"] == "5.1.1" and replies[1]["action"] == "failed"
    assert "Command died with status 67" in replies[1]["reason"]
    assert "no such list" in replies[1]["reason"]
    start = time.time()
    _, replies = agent.deliver("s@example.org", ["slow"])
    assert time.time() - start < 15
    assert replies[0]["status"] == "5.3.0"
    assert "Command time limit exceeded" in replies[0]["reason"]


def test_alias_loop_bounces_with_chain(agent):
    agent.aliases("loopa: loopb\nloopb: loopc\nloopc: loopa\n")
    agent.stop()
    agent.start()
    _, replies = agent.deliver("s@example.org", ["loopa@test.example"])
    assert replies[0]["status"] == "5.4.6", replies
    assert "mail forwarding loop" in replies[0]["reason"]
    assert "loopa@test.example -> loopb@test.example -> loopc@test.example -> " \
           "loopa@test.example" in replies[0]["reason"]


def test_alias_listing_itself_goes_to_the_mailbox(agent):
    agent.aliases(f"{agent.login}: {agent.login}, copy\ncopy: {agent.dir}/copy.mbox\n")
    agent.stop()
    agent.start()
    _, replies = agent.deliver("s@example.org", [agent.login])
    assert replies[0]["status"] == "2.0.0", replies
    assert only_message(agent.mail / agent.login)
    assert only_message(agent.dir / "copy.mbox")


def test_missing_include_file_bounces(agent):
    agent.aliases(f"list: :include:{agent.dir}/no-such-file\n")
    agent.stop()
    agent.start()
    _, replies = agent.deliver("s@example.org", ["list"])
    assert replies[0]["status"] == "5.3.5", replies
    assert "no-such-file" in replies[0]["reason"]
    assert "No such file or directory" in replies[0]["reason"]


def test_include_file_delivers_files_only_when_allowed(agent_factory):
    need_programs("local", "postalias")
    for allow in ("alias, forward", "alias, forward, include"):
        agent = agent_factory(allow_mail_to_files=allow)
        inc = agent.dir / "members"
        inc.write_text(f"# members\n{agent.login}\n{agent.dir}/inc.mbox\n")
        agent.aliases(f"list: :include:{inc}\n")
        agent.start()
        _, replies = agent.deliver("s@example.org", ["list"])
        assert only_message(agent.mail / agent.login)
        if "include" in allow:
            assert replies[0]["status"] == "2.0.0", replies
            assert only_message(agent.dir / "inc.mbox")
        else:
            assert replies[0]["status"] == "5.7.1", replies
            assert replies[0]["reason"] == "mail to file is restricted"
            assert not (agent.dir / "inc.mbox").exists()


def write_forward(agent, name, text, mode=0o600):
    path = agent.home / f"{name}.forward"
    path.write_text(text)
    path.chmod(mode)
    if IS_ROOT:
        os.chown(path, agent.uid, agent.gid)
    return path


def test_dot_forward_to_file_and_self(agent):
    write_forward(agent, agent.login, f"\\{agent.login}, {agent.dir}/fwd.mbox\n")
    _, replies = agent.deliver("s@example.org", [agent.login])
    assert replies[0]["status"] == "2.0.0", replies
    assert only_message(agent.mail / agent.login)
    assert only_message(agent.dir / "fwd.mbox")


def test_group_writable_dot_forward_is_ignored(agent):
    write_forward(agent, agent.login, f"{agent.dir}/never.mbox\n", mode=0o620)
    _, replies = agent.deliver("s@example.org", [agent.login])
    assert replies[0]["status"] == "2.0.0", replies
    assert only_message(agent.mail / agent.login)
    assert not (agent.dir / "never.mbox").exists()
    assert "must be owned by" in agent.logtext()


def test_dot_forward_loop_bounces(agent):
    # The only account is the instance's user; a .forward that sends to an
    # alias which points back at the user makes the loop.
    agent.aliases(f"back: {agent.login}\n")
    agent.stop()
    agent.start()
    write_forward(agent, agent.login, "back\n")
    _, replies = agent.deliver("s@example.org", [agent.login])
    assert replies[0]["status"] == "5.4.6", replies
    assert "mail forwarding loop" in replies[0]["reason"]


def test_delivered_to_header_loop_bounces(agent):
    addr = f"{agent.login}@test.example"
    _, replies = agent.deliver("s@example.org", [addr],
                               [f"Delivered-To: {addr}", "Subject: again", "", "x"])
    assert replies[0]["status"] == "5.4.6"
    assert replies[0]["reason"] == f"mail forwarding loop for {addr}"
    assert not (agent.mail / agent.login).exists()


def test_unreadable_alias_table_defers(agent_factory):
    need_programs("local")
    a = agent_factory()
    (a.dir / "aliases.db").unlink(missing_ok=True)
    a.start()
    _, replies = a.deliver("s@example.org", [a.login])
    assert replies[0]["status"].startswith("4."), replies
    assert "aliases.db" in replies[0]["reason"]
    # newaliases fixes it; the running local sees the table at once.
    a.aliases(f"someone: {a.login}\n")
    _, replies = a.deliver("s@example.org", ["someone"])
    assert replies[0]["status"] == "2.0.0", replies


def test_rebuilt_alias_table_is_used_by_the_running_agent(agent):
    _, replies = agent.deliver("s@example.org", ["newname"])
    assert replies[0]["status"] == "5.1.1"
    agent.aliases(f"newname: {agent.login}\n")
    _, replies = agent.deliver("s@example.org", ["newname"])
    assert replies[0]["status"] == "2.0.0", replies
    assert "alias_maps: table has changed -- opening it again" in agent.logtext()


def test_mailbox_size_limit_bounces_and_leaves_mailbox_intact(agent_factory):
    need_programs("local", "postalias")
    a = agent_factory(mailbox_size_limit="2000")
    a.aliases("")
    a.start()
    _, replies = a.deliver("s@example.org", [a.login], ["Subject: small", "", "x"])
    assert replies[0]["status"] == "2.0.0"
    before = (a.mail / a.login).read_bytes()
    _, replies = a.deliver("s@example.org", [a.login], ["Subject: big", ""] + ["y" * 100] * 50)
    assert replies[0]["status"] == "5.2.2", replies
    assert (a.mail / a.login).read_bytes() == before


def test_recipient_delimiter_extension_reaches_the_user(agent_factory):
    need_programs("local", "postalias")
    a = agent_factory(recipient_delimiter="+")
    a.aliases("")
    a.start()
    _, replies = a.deliver("s@example.org", [f"{a.login}+folder@test.example"])
    assert replies[0]["status"] == "2.0.0", replies
    msg = only_message(a.mail / a.login)
    assert msg["Delivered-To"] == f"{a.login}+folder@test.example"


def test_garbage_request_closes_connection_and_local_survives(agent):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(agent.sock))
    s.sendall(b"\xff\xfe garbage\0 not an attribute list" * 10)
    assert s.recv(100) == b""
    s.close()
    _, replies = agent.deliver("s@example.org", [agent.login])
    assert replies[0]["status"] == "2.0.0"


# ---- started as root: every write and command as the recipient ----

@pytest.fixture
def root_agent():
    """local started as root (privileged), mail_owner and default_privs nobody."""
    if not IS_ROOT:
        pytest.skip("needs root")
    need_programs("local", "postalias", "postcat")
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-local-root-"))
    os.chmod(base, 0o755)
    a = LocalAgent(base / "instance", None, {"mail_owner": NOBODY, "default_privs": NOBODY})
    nobody = pwd.getpwnam(NOBODY)
    for d in (a.dir, a.home):
        os.chmod(d, 0o755)
    # The queue belongs to mail_owner; mail/ is root's 0755, like /var/mail.
    for d in ("spool", "spool/active", "spool/incoming", "spool/public"):
        os.chown(a.dir / d, nobody.pw_uid, nobody.pw_gid)
        os.chmod(a.dir / d, 0o700 if d != "spool" else 0o755)
    os.chmod(a.mail, 0o755)
    out = a.dir / "out"
    out.mkdir()
    os.chmod(out, 0o1777)
    yield a
    a.stop()
    err = a.dir / "stderr"
    text = err.read_text(errors="replace") if err.exists() else ""
    shutil.rmtree(base, ignore_errors=True)
    assert "Sanitizer" not in text and "runtime error" not in text, text


def test_privileged_deliveries_run_as_the_recipient(root_agent):
    a = root_agent
    out = a.dir / "out"
    daemon = pwd.getpwnam("daemon")
    nobody = pwd.getpwnam(NOBODY)
    a.aliases(f'cmd: "|id -u > {out}/cmd.uid"\n'
              f"fileout: {out}/alias.mbox\n"
              "remote: someone@elsewhere.example\n")
    fwd = a.home / "daemon.forward"
    fwd.write_text(f'"|id -u > {out}/daemon.uid", \\daemon\n')
    os.chown(fwd, daemon.pw_uid, daemon.pw_gid)
    fwd.chmod(0o600)
    a.start()
    qid, replies = a.deliver("s@example.org", ["cmd", "fileout", "daemon", NOBODY, "remote"])
    assert [replies[i]["status"] for i in range(5)] == ["2.0.0"] * 5, replies[4]
    # Alias commands and files: default_privs, as the table is root's.
    assert (out / "cmd.uid").read_text().strip() == str(nobody.pw_uid)
    assert os.stat(out / "alias.mbox").st_uid == nobody.pw_uid
    # .forward commands: the user; mailboxes: owned by their users, 0600.
    assert (out / "daemon.uid").read_text().strip() == str(daemon.pw_uid)
    for user in (daemon, nobody):
        st = os.stat(a.mail / user.pw_name)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, 0o600)
        assert only_message(a.mail / user.pw_name)["Subject"] == "test"
    # Forwarded mail: a new queue file written as mail_owner, with the loop marker.
    incoming = [p for p in (a.spool / "incoming").iterdir() if not p.name.startswith(".")]
    assert len(incoming) == 1
    assert os.stat(incoming[0]).st_uid == nobody.pw_uid
    text = subprocess.run([BIN / "postcat", str(incoming[0])], capture_output=True, text=True,
                          timeout=30).stdout
    assert "someone@elsewhere.example" in text, text
    assert "Delivered-To: remote@test.example" in text
    assert f"{qid}: to=<someone@elsewhere.example>, orig_to=<remote>" in a.logtext()


def test_dot_lock_of_a_dead_delivery_is_removed_and_a_live_one_waited_for(agent):
    lock = agent.mail / f"{agent.login}.lock"
    host = socket.gethostname()
    # A process that is gone (pid_max is below 2**22 here).
    lock.write_text(f"{2**22 + 7} {host}\n")
    if IS_ROOT:
        os.chown(lock, agent.uid, agent.gid)
    _, replies = agent.deliver("s@example.org", [agent.login])
    assert replies[0]["status"] == "2.0.0", replies
    assert "which no longer exists" in agent.logtext()
    assert not lock.exists()
    # A live holder (this test process): local waits, then defers.
    lock.write_text(f"{os.getpid()} {host}\n")
    if IS_ROOT:
        os.chown(lock, agent.uid, agent.gid)
    start = time.time()
    _, replies = agent.deliver("s@example.org", [agent.login])
    assert replies[0]["status"] == "4.2.0", replies
    assert "cannot lock mailbox" in replies[0]["reason"]
    assert 2 <= time.time() - start < 10
    lock.unlink()
    assert len(mailbox.mbox(str(agent.mail / agent.login))) == 1


def test_concurrent_deliveries_to_one_mailbox_are_all_kept(agent_factory):
    need_programs("local", "postalias")
    a = agent_factory()
    a.aliases("")
    a.start()
    b = LocalAgent.__new__(LocalAgent)
    b.__dict__.update(a.__dict__)
    b.sock = a.dir / "local2.sock"
    b.proc = None
    b.start()
    import threading
    errors = []

    def worker(agent, n):
        for i in range(n):
            _, r = agent.deliver("s@example.org", [a.login], [f"Subject: {id(agent)} {i}", "", "x"])
            if r[0]["status"] != "2.0.0":
                errors.append(r)

    threads = [threading.Thread(target=worker, args=(x, 25)) for x in (a, b)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    b.stop()
    assert errors == []
    assert len(mailbox.mbox(str(a.mail / a.login))) == 50
    assert time.time() - start < 20


def test_privileged_root_mailbox_stays_roots_in_an_open_spool(root_agent):
    a = root_agent
    os.chmod(a.mail, 0o1777)
    a.aliases("")
    a.start()
    for n in range(2):
        _, replies = a.deliver("s@example.org", ["root"], [f"Subject: {n}", "", "x"])
        assert replies[0]["status"] == "2.0.0", replies
    st = os.stat(a.mail / "root")
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600)
    assert [m["Subject"] for m in mailbox.mbox(str(a.mail / "root"))] == ["0", "1"]


def test_owner_alias_becomes_the_sender_of_the_expansion(agent):
    agent.aliases(f"list: {agent.login}\nowner-list: {agent.login}\n")
    _, replies = agent.deliver("author@example.org", ["list"])
    assert replies[0]["status"] == "2.0.0", replies
    msg = only_message(agent.mail / agent.login)
    assert msg["Return-Path"] == "<owner-list@test.example>"


# ---- end to end: postern start, sendmail, pickup, qmgr, local ----

from live import live, mail, submitter, wait_until  # noqa: E402,F401  (fixtures)


def test_end_to_end_mbox_and_maildir_read_back(live):
    live.aliases(f"postmaster: {live.login}\nmd: {live.dir}/out/Maildir/\n")
    for n in range(10):
        live.sendmail([live.login], mail(f"mbox {n}", f"line one\nFrom line {n}\n"))
        live.sendmail(["md"], mail(f"maildir {n}", f"body {n}\n"))
    assert wait_until(lambda: len(live.messages(live.mbox)) == 10
                      and os.path.isdir(live.dir / "out/Maildir/new")
                      and len(os.listdir(live.dir / "out/Maildir/new")) == 10), live.log()
    subjects = sorted(m["Subject"] for m in live.messages(live.mbox))
    assert subjects == sorted(f"mbox {n}" for n in range(10))
    for m in live.messages(live.mbox):
        n = m["Subject"].split()[1]
        assert m.get_payload() == f"line one\n>From line {n}\n"
        assert m["Delivered-To"] == live.addr
    box = mailbox.Maildir(str(live.dir / "out/Maildir"), factory=None, create=False)
    got = {m["Subject"]: m.get_payload() for m in box}
    assert got == {f"maildir {n}": f"body {n}\n" for n in range(10)}
    assert wait_until(live.queue_empty)
    assert "status=sent (delivered to maildir: " in live.log()


def test_end_to_end_aliases_to_file_command_and_user(live):
    out = live.dir / "out"
    live.aliases(f"postmaster: {live.login}\n"
                 f'team: {out}/team.mbox, "|cat > {out}/cmd.out", person\n'
                 f"person: {live.login}\n")
    live.sendmail(["team"], mail("to the team"))
    assert wait_until(lambda: (out / "cmd.out").exists() and live.messages(out / "team.mbox")
                      and live.messages(live.mbox)), live.log()
    assert live.messages(out / "team.mbox")[0]["Subject"] == "to the team"
    assert "Subject: to the team" in (out / "cmd.out").read_text()
    (m,) = live.messages(live.mbox)
    assert m["Delivered-To"] == live.addr and m["X-Original-To"] == "team@test.example"


def test_end_to_end_dot_forward(live):
    fwd = live.dir / "forward" / live.login
    fwd.write_text(f"\\{live.login}, {live.dir}/out/forwarded.mbox\n")
    fwd.chmod(0o600)
    if live.inst.user:
        pw = pwd.getpwnam(live.inst.user)
        os.chown(fwd, pw.pw_uid, pw.pw_gid)
    live.sendmail([live.login], mail("forward me"))
    assert wait_until(lambda: live.messages(live.dir / "out/forwarded.mbox")
                      and live.messages(live.mbox)), live.log()


@pytest.mark.parametrize("case", ["unknown", "alias_loop", "forward_loop", "include"])
def test_end_to_end_undeliverable_bounces_once_with_a_clear_reason(live, case):
    fwd_text = None
    aliases = f"postmaster: {live.login}\n"
    if case == "unknown":
        rcpt, status, text = "nosuchuser", "5.1.1", 'unknown user: "nosuchuser"'
    elif case == "alias_loop":
        aliases += "loopa: loopb\nloopb: loopa\n"
        rcpt, status, text = "loopa", "5.4.6", "mail forwarding loop"
    elif case == "forward_loop":
        # The .forward of user+x (forward_path has $user+$extension, as
        # Postfix's default) sends to an alias that leads back to user+x.
        # The user's own mail, the bounce included, is not redirected.
        aliases += f"back: {live.login}+x\n"
        fwd_text = "back\n"
        rcpt, status, text = f"{live.login}+x", "5.4.6", "mail forwarding loop"
    else:
        aliases += f"list: :include:{live.dir}/no-such-members\n"
        rcpt, status, text = "list", "5.3.5", "no-such-members: No such file or directory"
    live.aliases(aliases)
    if fwd_text:
        fwd = live.dir / "forward" / f"{live.login}+x"
        fwd.write_text(fwd_text)
        fwd.chmod(0o600)
        if live.inst.user:
            pw = pwd.getpwnam(live.inst.user)
            os.chown(fwd, pw.pw_uid, pw.pw_gid)
    live.sendmail([rcpt], mail(f"case {case}"))
    assert wait_until(lambda: live.dsns() and live.queue_empty()), live.log()
    time.sleep(1)  # nothing else may follow: no loop, no second bounce
    (dsn,) = live.dsns()
    parts = dsn.get_payload()
    assert parts[1].get_content_type() == "message/delivery-status"
    block = parts[1].get_payload()[1]
    assert block["Status"] == status
    assert text in str(dsn)
    assert parts[2].get_payload()[0]["Subject"] == f"case {case}"
    others = [m for m in live.messages(live.mbox) if m.get_content_type() != "multipart/report"]
    assert others == []


def test_expansion_limit_bounces_and_forwarding_writes_one_queue_file(agent):
    targets = ", ".join(f"u{i}@remote.example" for i in range(1100))
    agent.aliases(f"big: {targets}\nsmall: a@remote.example, b@remote.example\n")
    _, replies = agent.deliver("s@example.org", ["small"])
    assert replies[0]["status"] == "2.0.0", replies
    assert replies[0]["reason"].startswith("forwarded as ")
    _, replies = agent.deliver("s@example.org", ["big"])
    assert replies[0]["status"] == "5.4.6", replies
    assert "limit of 1000" in replies[0]["reason"]
    queued = [p for p in (agent.spool / "incoming").iterdir() if not p.name.startswith(".")]
    assert len(queued) == 2


def test_luser_relay_and_mailbox_command_maps(agent_factory):
    need_programs("local", "postalias")
    out_dir = "OUTDIR"
    a = agent_factory(luser_relay="catchall+$local",
                      recipient_delimiter="+",
                      # $$: a literal $ for the table, not main.cf's expansion
                      mailbox_command_maps="inline:{ {NOBODY = cat > OUTDIR/$$user.cmd} }")
    out = a.dir / "out"
    out.mkdir()
    a.chown_all()
    cf = (a.dir / "main.cf").read_text().replace(out_dir, str(out)).replace("NOBODY", a.login)
    (a.dir / "main.cf").write_text(cf)
    a.aliases(f"catchall: {a.login}\n")
    a.start()
    _, replies = a.deliver("s@example.org", ["stranger@test.example"])
    assert replies[0]["status"] == "2.0.0", replies
    text = (out / f"{a.login}.cmd").read_text()
    assert "Subject: test" in text
    assert "X-Original-To: stranger@test.example" in text
    assert f"to=<{a.login}@test.example>, orig_to=<stranger@test.example>" in a.logtext()
    assert "(delivered to command: cat > " in a.logtext()

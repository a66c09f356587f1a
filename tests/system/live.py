"""A started Postern instance for end-to-end system tests.

The `live` fixture makes an instance with `postern init` in a directory an
unprivileged user owns (nobody when the tests run as root), keeps the
services local mail needs (pickup, qmgr, local: an ordinary user cannot
bind port 25), starts it with `postern start`, and at the end stops it,
kills anything left and fails on any sanitizer report of the daemons.

The `root_instance` fixture is an instance started by root with the stock
accounts and an installed layout (postdrop and postqueue set-gid), for the
privilege tests.

Mail is submitted with sendmail when sendmail, postdrop and pickup are
built; otherwise the qmgr_inject helper commits it straight to incoming/.
"""

import grp
import mailbox
import os
import pathlib
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, IS_ROOT, REPO, Instance, run as run_cmd

LIBEXEC = BUILD / "libexec"
BIN = BUILD / "bin"

E2E_PROGRAMS = [BIN / "postern", BIN / "postalias", LIBEXEC / "master", LIBEXEC / "qmgr",
                LIBEXEC / "local"]
# With these, mail is submitted as users do; without, it is committed to
# incoming/ by tests/system/helpers/qmgr_inject.c (the same queue-file
# writer pickup uses) and qmgr is triggered.
SUBMIT_PROGRAMS = [BIN / "sendmail", BIN / "postdrop", LIBEXEC / "pickup"]
INJECT_SRC = pathlib.Path(__file__).resolve().parent / "helpers" / "qmgr_inject.c"


def compile_helper(src, exe):
    """Build a C test helper against the built libglobal and libutil."""
    # The libraries the programs link (Makefile's DEP_LIBS): a helper that
    # reaches the table framework needs them all (lmdb, pcre2, ...).
    deps = subprocess.run(["pkg-config", "--libs", "openssl", "libpcre2-8", "libsasl2", "lmdb"],
                          capture_output=True, text=True).stdout.split()
    cmd = ["cc", "-std=gnu11", "-D_GNU_SOURCE", f"-I{REPO}", "-o", str(exe), str(src),
           str(BUILD / "lib" / "libglobal.a"), str(BUILD / "lib" / "libutil.a"), *deps, "-ldb",
           "-lresolv"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        # A sanitizer build's libraries need the sanitizer runtime.
        cmd.insert(1, "-fsanitize=address,undefined")
        result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def submitter():
    """None when sendmail and pickup are built, else the inject helper."""
    if all(os.access(p, os.X_OK) for p in SUBMIT_PROGRAMS):
        yield None
        return
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-local-inject-"))
    d.chmod(0o755)
    exe = d / "qmgr_inject"
    compile_helper(INJECT_SRC, exe)
    yield exe
    shutil.rmtree(d, ignore_errors=True)


def instance_pids(directory):
    """Processes whose command line names the instance directory."""
    needle = os.path.realpath(directory).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != "Z":
            found.append(int(entry))
    return found


def wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def stop_instance(inst, env):
    """postern stop, then kill whatever of the instance is left; fail if
    anything survives."""
    inst.postern("stop", env=env)
    for pid in instance_pids(inst.dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert wait_until(lambda: instance_pids(inst.dir) == [], timeout=10), "processes left"


def stop_process(proc):
    """SIGTERM a process the test started (a peer server), SIGKILL if it
    lingers."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Live:
    """A started instance, its user's address and helpers to send and read."""

    def __init__(self, inst, login, injector):
        self.inst = inst
        self.injector = injector
        self.dir = inst.dir
        self.login = login
        self.addr = f"{login}@test.example"
        self.mbox = self.dir / "mail" / login

    def sendmail(self, rcpts, text, sender=None):
        if self.injector is None:
            args = [BIN / "sendmail", "-C", self.dir, "-f", sender or self.addr, "--", *rcpts]
        else:
            args = [self.injector, "-c", self.dir, "-f", sender or self.addr, *rcpts]
        result = run_cmd(args, user=self.inst.user, input=text, timeout=60)
        assert result.returncode == 0, result.stderr
        if self.injector is not None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(self.dir / "spool" / "public" / "qmgr"))
            s.sendall(b"A")
            s.close()
        return result

    def aliases(self, text):
        (self.dir / "aliases").write_text(text)
        result = run_cmd([BIN / "postalias", "-c", self.dir, f"hash:{self.dir}/aliases"],
                         user=self.inst.user)
        assert result.returncode == 0, result.stderr

    def log(self):
        path = self.dir / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def queue_empty(self):
        spool = self.dir / "spool"
        return all(not any(p for p in (spool / q).iterdir() if not p.name.startswith("."))
                   for q in ("maildrop", "incoming", "active", "deferred"))

    def messages(self, path):
        return list(mailbox.mbox(str(path))) if path.exists() else []

    def dsns(self):
        return [m for m in self.messages(self.mbox)
                if m.get_content_type() == "multipart/report"]


def sanitizer_logs(base):
    """A directory for the daemons' sanitizer reports (their stderr is
    /dev/null), and the environment that sends them there; master passes
    it on."""
    logs = base / "sanitizer"
    logs.mkdir()
    logs.chmod(0o777)
    return logs, {"ASAN_OPTIONS": f"log_path={logs}/asan",
                  "UBSAN_OPTIONS": f"log_path={logs}/ubsan"}


def sanitizer_reports(logs):
    return "".join(p.read_text(errors="replace") for p in sorted(logs.glob("*san.*")))


@pytest.fixture
def live(unprivileged_dir, submitter):
    missing = [str(p) for p in E2E_PROGRAMS if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip("end-to-end tests need " + ", ".join(missing))
    base, user = unprivileged_dir
    inst = Instance(base / "instance", user=user)
    logs, san_env = sanitizer_logs(base)
    inst.init("myhostname=test.example", "mydomain=example", "recipient_delimiter=+",
              "import_environment=MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C "
              "ASAN_OPTIONS UBSAN_OPTIONS",
              f"forward_path={base}/instance/forward/$user${{recipient_delimiter}}${{extension}}, "
              f"{base}/instance/forward/$user", "command_time_limit=10s")
    # Only the services local mail needs (no port 25 for an ordinary user).
    master_cf = [line for line in inst.master_cf.read_text().splitlines(keepends=True)
                 if line.split()[:1] in (["pickup"], ["qmgr"], ["local"])]
    inst.master_cf.write_text("".join(master_cf))
    for d in ("forward", "out"):
        (inst.dir / d).mkdir()
        (inst.dir / d).chmod(0o755)
        if user:
            pw = pwd.getpwnam(user)
            os.chown(inst.dir / d, pw.pw_uid, pw.pw_gid)
    login = user or pwd.getpwuid(os.geteuid()).pw_name
    lv = Live(inst, login, submitter)
    lv.env = san_env
    lv.aliases("postmaster: " + login + "\n")
    result = inst.postern("start", env=san_env)
    assert result.returncode == 0, result.stderr + lv.log()
    yield lv
    stop_instance(inst, san_env)
    reports = sanitizer_reports(logs)
    assert reports == "", reports


def mail(subject, body="hello\n", extra=""):
    return f"From: sender@test.example\nSubject: {subject}\n{extra}\n{body}"


def queued_ids(text):
    """The queue ids of smtpd's "250 2.0.0 Ok: queued as ID" replies in text."""
    return re.findall(r"250 2\.0\.0 Ok: queued as (\w+)", text)


def wait_log(lv, pattern, timeout=30):
    """Wait until pattern (a multi-line regular expression) is in lv's log;
    the match. The assertion shows the log."""
    assert wait_until(lambda: re.search(pattern, lv.log(), re.M), timeout=timeout), lv.log()
    return re.search(pattern, lv.log(), re.M)


def send(lv, rcpts, text, *options):
    """sendmail -i (a lone dot is content, not the end) as lv's user, from lv.addr."""
    args = [BIN / "sendmail", "-C", lv.dir, "-i", "-f", lv.addr, *options, "--", *rcpts]
    r = run_cmd(args, user=lv.inst.user, input=text)
    assert r.returncode == 0, r.stderr


# ---- an instance started by root ----

ROOT_NEEDED = [BIN / "postern", BIN / "sendmail", BIN / "postdrop", BIN / "postqueue",
               BIN / "postalias", LIBEXEC / "master", LIBEXEC / "pickup", LIBEXEC / "qmgr",
               LIBEXEC / "local", LIBEXEC / "showq"]
# An ordinary account that receives mail and runs the user commands.
ROOT_RECIPIENT = "postern-rcpt"
# The programs `make install` leaves set-gid setgid_group.
SETGID_PROGRAMS = ("postdrop", "postqueue")


def ensure_accounts():
    """Create the stock accounts (postern, posterndrop) and the recipient
    when this machine lacks them; return what was created."""
    made = []

    def sh(*args):
        subprocess.run(args, check=True, capture_output=True)

    try:
        grp.getgrnam("posterndrop")
    except KeyError:
        sh("groupadd", "--system", "posterndrop")
        made.append(("group", "posterndrop"))
    for user in ("postern", ROOT_RECIPIENT):
        try:
            pwd.getpwnam(user)
        except KeyError:
            sh("useradd", "--system", "--user-group", "--no-create-home",
               "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", user)
            made.append(("user", user))
    return made


def remove_accounts(made):
    for kind, name in reversed(made):
        cmd = ["userdel", name] if kind == "user" else ["groupdel", name]
        subprocess.run(cmd, capture_output=True)


@pytest.fixture
def root_instance():
    """(instance dir, command dir, environment) of a started root-run
    instance: pickup, qmgr, local and showq; the commands copied to a
    directory of their own with postdrop and postqueue set-gid posterndrop,
    and /etc/postern/main.cf listing the instance in
    alternate_config_directories (removed at the end)."""
    if not IS_ROOT:
        pytest.skip("needs root")
    missing = [str(p) for p in ROOT_NEEDED if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip("needs " + ", ".join(missing))
    # Set-gid programs trust a -C directory only when the default
    # configuration lists it in alternate_config_directories, as Postfix's.
    default_cf = pathlib.Path("/etc/postern/main.cf")
    if default_cf.exists() or default_cf.parent.exists():
        pytest.skip(f"{default_cf.parent} exists: this machine has a Postern installed")
    made = ensure_accounts()
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-priv-"))
    base.chmod(0o755)
    inst_dir = base / "instance"
    # An installed layout: the commands in a directory of their own, set-gid
    # as `make install` leaves them.
    cmd_dir = base / "sbin"
    cmd_dir.mkdir()
    for p in BIN.iterdir():
        if p.is_symlink():
            os.symlink(os.readlink(p), cmd_dir / p.name)
        elif p.is_file():
            shutil.copy2(p, cmd_dir / p.name)
    for name in SETGID_PROGRAMS:
        os.chown(cmd_dir / name, 0, grp.getgrnam("posterndrop").gr_gid)
        (cmd_dir / name).chmod(0o2755)
    logs = base / "sanitizer"
    logs.mkdir()
    logs.chmod(0o777)
    # LeakSanitizer cannot stop the world in a set-gid process.
    env = {"ASAN_OPTIONS": f"log_path={logs}/asan:detect_leaks=0",
           "UBSAN_OPTIONS": f"log_path={logs}/ubsan"}
    run = lambda *a, **kw: run_cmd([BIN / "postern", "-c", inst_dir, *a], env=env, **kw)  # noqa
    result = run("init", f"command_directory={cmd_dir}", "myhostname=test.example",
                 "mydomain=example",
                 "import_environment=MAIL_CONFIG MAIL_DEBUG TZ LANG=C ASAN_OPTIONS UBSAN_OPTIONS")
    assert result.returncode == 0, result.stderr
    default_cf.parent.mkdir(mode=0o755)
    default_cf.write_text(f"alternate_config_directories = {inst_dir}\n")
    keep = ("pickup", "qmgr", "local", "showq")
    mcf = inst_dir / "master.cf"
    mcf.write_text("".join(l for l in mcf.read_text().splitlines(keepends=True)
                           if l.split()[:1] and l.split()[0] in keep))
    result = run("start")
    assert result.returncode == 0, result.stderr
    yield inst_dir, cmd_dir, env
    run("stop")
    for pid in instance_pids(inst_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: instance_pids(inst_dir) == [], 10)
    reports = sanitizer_reports(logs)
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(default_cf.parent, ignore_errors=True)
    remove_accounts(made)
    assert reports == "", reports


class PrivatePostfix:
    """A private Postfix instance (Debian's postfix package) configured in a
    temporary directory, never /etc/postfix, its smtpd on a loopback port of
    its own (`port`). Needs root. `start(*settings)` applies main.cf
    settings over the base ones (paths, loopback only, no aliases, its log
    in `maillog()`) and starts it; `stop()` stops it, kills what is left
    and removes the directory. Mail for each of `users` at `virtual_domain`
    is delivered to a Maildir under `vmail`: `maildir(user)`."""

    available = os.geteuid() == 0 and os.access("/usr/sbin/postfix", os.X_OK)

    def __init__(self, virtual_domain="pf.example", users=("rcpt",)):
        self.top = pathlib.Path(tempfile.mkdtemp(prefix="postern-postfix-"))
        self.top.chmod(0o755)  # the postfix account must reach data/
        self.base = self.top / "postfix"
        self.etc, self.spool, self.data = (self.base / "etc", self.base / "spool",
                                           self.base / "data")
        self.vmail = self.base / "vmail"
        for d in (self.etc, self.spool, self.data, self.vmail):
            d.mkdir(parents=True)
        shutil.chown(self.data, "postfix", "postfix")
        shutil.chown(self.vmail, "nobody", "nogroup")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.virtual_domain = virtual_domain
        self.users = users
        proto = pathlib.Path("/etc/postfix/master.cf.proto").read_text().splitlines(keepends=True)
        (self.etc / "master.cf").write_text("".join(
            line.replace("smtp      inet", f"127.0.0.1:{self.port} inet", 1)
            if line.startswith("smtp      inet") else line for line in proto))
        (self.etc / "main.cf").write_text("compatibility_level = 3.6\n")
        self.started = False

    def postconf(self, *args):
        r = subprocess.run(["postconf", "-c", str(self.etc), *args], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr

    def start(self, *settings):
        nobody = pwd.getpwnam("nobody")
        self.postconf("-e", f"queue_directory={self.spool}", f"data_directory={self.data}",
                      "inet_interfaces=127.0.0.1", f"maillog_file={self.base}/maillog",
                      f"maillog_file_prefixes={self.base}", "alias_maps=", "alias_database=",
                      "myhostname=pf.example", "mydestination=", "mynetworks=127.0.0.0/8",
                      "smtp_tls_security_level=none", "smtpd_tls_security_level=none",
                      f"virtual_mailbox_domains={self.virtual_domain}",
                      f"virtual_mailbox_base={self.vmail}",
                      "virtual_mailbox_maps=texthash:" + str(self.etc / "vmailbox"),
                      f"virtual_uid_maps=static:{nobody.pw_uid}",
                      f"virtual_gid_maps=static:{nobody.pw_gid}", *settings)
        (self.etc / "vmailbox").write_text("".join(
            f"{u}@{self.virtual_domain} {u}/\n" for u in self.users))
        self.postconf("-F", "*/*/chroot = n")
        r = subprocess.run(["postfix", "-c", str(self.etc), "start"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        self.started = True
        return self.port

    def maillog(self):
        path = self.base / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def maildir(self, user):
        """The messages delivered to user@virtual_domain, as bytes."""
        new = self.vmail / user / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.is_dir() else []

    def stop(self):
        if self.started:
            subprocess.run(["postfix", "-c", str(self.etc), "stop"], capture_output=True,
                           timeout=60)
            pidfile = self.spool / "pid" / "master.pid"
            if pidfile.exists():
                try:
                    os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
                except (ValueError, ProcessLookupError):
                    pass
        shutil.rmtree(self.top, ignore_errors=True)


# ---- an instance with smtpd on a loopback port (smtpd, SASL, TLS tests) ----

SMTPD_PROGRAMS = [BIN / "postern", BIN / "postalias", BIN / "postcat", LIBEXEC / "master",
                  LIBEXEC / "qmgr", LIBEXEC / "local", LIBEXEC / "smtpd"]


@pytest.fixture
def private_postfix():
    """A PrivatePostfix, not started yet (the test starts it with its
    settings), stopped at the end; skips without root or Postfix."""
    if not PrivatePostfix.available:
        pytest.skip("needs root and the postfix package")
    pf = PrivatePostfix()
    yield pf
    pf.stop()


def free_port(host="127.0.0.1"):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port, host="127.0.0.1"):
    """True when something accepts connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


class Server:
    """A started instance with smtpd on 127.0.0.1:port."""

    def __init__(self, inst, login, port, host="127.0.0.1"):
        self.host = host
        self.inst = inst
        self.dir = inst.dir
        self.login = login
        self.addr = f"{login}@test.example"
        self.port = port
        self.mbox = self.dir / "mail" / login

    def log(self):
        path = self.dir / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def messages(self):
        import mailbox
        return list(mailbox.mbox(str(self.mbox))) if self.mbox.exists() else []

    def queued(self, queue="incoming"):
        d = self.dir / "spool" / queue
        return sorted(p.name for p in d.iterdir() if not p.name.startswith("."))

    def queue_empty(self):
        return all(not self.queued(q) for q in ("incoming", "active", "deferred"))

    def smtp(self):
        c = smtplib.SMTP(self.host, self.port, local_hostname="client.example", timeout=30)
        return c

    def raw(self):
        return Raw(self.host, self.port)

    def postcat(self, qid):
        r = run_cmd([BIN / "postcat", "-c", self.dir, "-q", qid], user=self.inst.user)
        assert r.returncode == 0, r.stderr
        return r.stdout


class Raw:
    """A byte-level SMTP client: send exactly what the test says."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One whole reply (all its lines) as text; "" when the server closed."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return "\n".join(lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode(errors="replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self):
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True

    def close(self):
        self.sock.close()

    def start(self, rcpt, sender="sender@example.org"):
        """Greeting, EHLO, MAIL, RCPT, DATA; returns the DATA reply."""
        assert self.reply().startswith("220 ")
        assert self.cmd("EHLO client.example").startswith("250-")
        assert self.cmd(f"MAIL FROM:<{sender}>").startswith("250 ")
        assert self.cmd(f"RCPT TO:<{rcpt}>").startswith("250 ")
        return self.cmd("DATA")


@pytest.fixture
def server_factory(unprivileged_dir):
    missing = [str(p) for p in SMTPD_PROGRAMS if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail("not built: " + ", ".join(missing))
    base, user = unprivileged_dir
    # Names of their own: a test may use relay_factory's instances too.
    logs = base / "server-sanitizer"
    logs.mkdir()
    logs.chmod(0o777)
    san_env = {"ASAN_OPTIONS": f"log_path={logs}/asan", "UBSAN_OPTIONS": f"log_path={logs}/ubsan"}
    started = []

    def start(*settings, services=("qmgr", "local"), listen="127.0.0.1"):
        inst = Instance(base / f"server{len(started)}", user=user)
        port = free_port(listen)
        inst.init("myhostname=test.example", "mydomain=example", "recipient_delimiter=+",
                  "import_environment=MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C "
                  "ASAN_OPTIONS UBSAN_OPTIONS", "smtpd_error_sleep_time=0", *settings)
        # smtpd on a loopback port of our choosing; only the services the
        # test needs behind it.
        lines = []
        for line in inst.master_cf.read_text().splitlines(keepends=True):
            words = line.split()
            if words[:2] == ["smtp", "inet"]:
                endpoint = f"[{listen}]:{port}" if ":" in listen else f"{listen}:{port}"
                lines.append(line.replace("smtp ", f"{endpoint} ", 1))
            elif words[:1] and words[0] in services:
                lines.append(line)
        inst.master_cf.write_text("".join(lines))
        login = user or pwd.getpwuid(os.geteuid()).pw_name
        (inst.dir / "aliases").write_text(f"postmaster: {login}\nteam: {login}\n")
        r = run_cmd([BIN / "postalias", "-c", inst.dir, f"hash:{inst.dir}/aliases"], user=user)
        assert r.returncode == 0, r.stderr
        srv = Server(inst, login, port, listen)
        started.append(srv)
        r = inst.postern("start", env=san_env)
        assert r.returncode == 0, r.stderr + srv.log()

        def listening():
            try:
                socket.create_connection((listen, port), timeout=1).close()
                return True
            except OSError:
                return False
        assert wait_until(listening, timeout=10), srv.log()
        return srv

    yield start
    for srv in started:
        stop_instance(srv.inst, san_env)
    reports = "".join(p.read_text(errors="replace") for p in sorted(logs.glob("*san.*")))
    assert reports == "", reports


@pytest.fixture
def server(server_factory):
    return server_factory()


# ---- relaying instances and their peers (test_smtp, test_smtp_tls) ----

RELAY_PROGRAMS = [BIN / "postern", BIN / "sendmail", BIN / "postdrop", BIN / "postalias",
                  LIBEXEC / "master", LIBEXEC / "qmgr", LIBEXEC / "pickup", LIBEXEC / "local",
                  LIBEXEC / "smtp"]


@pytest.fixture
def relay_factory(unprivileged_dir):
    missing = [str(p) for p in RELAY_PROGRAMS if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail("not built: " + ", ".join(missing))
    base, user = unprivileged_dir
    logs, san_env = sanitizer_logs(base)
    started = []

    def start(*settings):
        inst = Instance(base / f"instance{len(started)}", user=user)
        inst.init("myhostname=test.example", "mydomain=example",
                  "import_environment=MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C "
                  "ASAN_OPTIONS UBSAN_OPTIONS", "smtp_connect_timeout=5s",
                  "smtp_helo_timeout=10s", *settings)
        keep = (["pickup"], ["qmgr"], ["local"], ["smtp", "unix"], ["lmtp", "unix"])
        lines = [line for line in inst.master_cf.read_text().splitlines(keepends=True)
                 if line.split()[:1] in keep[:3] or line.split()[:2] in keep[3:]]
        inst.master_cf.write_text("".join(lines))
        login = user or pwd.getpwuid(os.geteuid()).pw_name
        lv = Live(inst, login, None)
        lv.base = base
        lv.aliases("postmaster: " + login + "\n")
        started.append(lv)
        r = inst.postern("start", env=san_env)
        assert r.returncode == 0, r.stderr + lv.log()
        return lv

    yield start
    for lv in started:
        stop_instance(lv.inst, san_env)
    reports = sanitizer_reports(logs)
    assert reports == "", reports


@pytest.fixture
def dnsmasq():
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.access(exe, os.X_OK):
        pytest.skip("dnsmasq not installed")
    procs = []

    def start(*records):
        port = free_port()
        cmd = [exe, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll",
               "--bind-interfaces", "--listen-address=127.0.0.1", f"--port={port}",
               "--local=/test/", "--user=root", "--pid-file=", *records]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(p)
        time.sleep(0.3)
        assert p.poll() is None, p.stderr.read()
        return port

    yield start
    for p in procs:
        stop_process(p)


@pytest.fixture
def smtp_sink():
    if shutil.which("smtp-sink") is None:
        pytest.skip("smtp-sink not installed")
    procs = []
    # smtp-sink writes its dumps as nobody: a directory nobody can reach.
    top = pathlib.Path(tempfile.mkdtemp(prefix="postern-sink-"))
    top.chmod(0o755)

    def start(port, *options):
        dump = top / f"dump{len(procs)}"
        dump.mkdir()
        dump.chmod(0o777)
        cmd = ["smtp-sink", "-u", "nobody", "-d", f"{dump}/%M.", *options,
               f"127.0.0.1:{port}", "10"]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(p)

        assert wait_until(lambda: listening(port), timeout=10), \
            p.stderr.read() if p.poll() is not None else ""
        return dump

    yield start
    for p in procs:
        stop_process(p)
    shutil.rmtree(top, ignore_errors=True)


# ---- Cyrus SASL: a sasldb for smtpd's AUTH (test_smtpd_sasl, test_smtpd_tls) ----

SASL_USER, SASL_PASSWORD, SASL_REALM = "alice", "s3cret pass", "test.example"
SASL_PLUGINS = pathlib.Path("/usr/lib/x86_64-linux-gnu/sasl2")


def have_sasl_mech(name):
    """Is the Cyrus plugin for name (e.g. "crammd5", "scram") installed?"""
    return any(SASL_PLUGINS.glob(f"lib{name}.so*"))


@pytest.fixture
def sasl_dir():
    """smtpd.conf and a sasldb with SASL_USER@SASL_REALM, readable by
    everyone (the instance's unprivileged user reads the sasldb at AUTH
    time)."""
    if shutil.which("saslpasswd2") is None:
        pytest.skip("sasl2-bin not installed")
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-sasl-"))
    d.chmod(0o755)
    db = d / "sasldb2"
    r = subprocess.run(["saslpasswd2", "-p", "-c", "-f", str(db), "-u", SASL_REALM, SASL_USER],
                       input=SASL_PASSWORD, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    db.chmod(0o644)
    mechs = "PLAIN LOGIN" + (" CRAM-MD5" if have_sasl_mech("crammd5") else "") + \
        (" SCRAM-SHA-256" if have_sasl_mech("scram") else "")
    (d / "smtpd.conf").write_text(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                                  f"sasldb_path: {db}\nmech_list: {mechs}\n")
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---- a throwaway PKI made with the openssl command (TLS tests) ----

def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def make_test_ca(d, name):
    """d/NAME.key and d/NAME.crt: a self-signed CA (P-256, two days)."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
            "-subj", f"/CN=Postern {name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


@pytest.fixture(scope="module")
def pki():
    """A directory with two CAs (ca, otherca) and mx.tls.test's certificate
    from ca (mx.crt, mx.key)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-pki-"))
    d.chmod(0o755)
    make_test_ca(d, "ca")
    make_test_ca(d, "otherca")
    make_test_cert(d, "ca", "mx", "mx.tls.test")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def make_test_cert(d, ca, name, *dns):
    """d/NAME.key and d/NAME.crt: a server certificate for the DNS names,
    issued by the CA d/CA.crt; certificates readable by everyone."""
    san = ",".join(f"DNS:{n}" for n in dns)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                                   "extendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={dns[0]}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext",
            cwd=d)
    for f in d.glob("*.crt"):
        f.chmod(0o644)

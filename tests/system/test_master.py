"""master, the daemon skeleton and postern start/stop/reload/status/flush/abort.

The services are a tiny daemon built from tests/system/helpers/test_server.c
against the build tree's libraries: test_echo (a single service: answers
"PID UID: line" per line) and test_trigger (a trigger service: logs the
bytes it gets). Every test runs a real instance made by `postern init`,
with a master.cf of those services on 127.0.0.1, and stops every process
it started, pass or fail.
"""

import os
import pathlib
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, IS_ROOT, NOBODY, REPO, Instance
from live import compile_helper, instance_pids

HELPER_SRC = REPO / "tests" / "system" / "helpers" / "test_server.c"


# ---- helpers ----

@pytest.fixture(scope="session")
def helpers():
    """Directory with test_echo and test_trigger, reachable by nobody."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-master-helpers-"))
    d.chmod(0o755)
    exe = d / "test_echo"
    compile_helper(HELPER_SRC, exe)
    (d / "test_trigger").symlink_to("test_echo")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def logs():
    """A directory the services can write to whoever they run as."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-master-logs-"))
    d.chmod(0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


def pids_of(inst):
    """Processes whose command line names the instance directory."""
    return instance_pids(inst.dir)


def kill_all(inst):
    for pid in pids_of(inst):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Session:
    """One client of test_echo."""

    def __init__(self, port, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def ask(self, line):
        self.sock.sendall(line.encode() + b"\n")
        reply = self.file.readline().decode()
        m = re.match(r"(\d+) (\d+): (.*)\n", reply)
        assert m, f"bad reply {reply!r}"
        return int(m.group(1)), int(m.group(2)), m.group(3)

    def close(self):
        try:
            self.sock.sendall(b"quit\n")
        except OSError:
            pass
        self.file.close()
        self.sock.close()


def echo(port, line="hello"):
    s = Session(port)
    try:
        return s.ask(line)
    finally:
        s.close()


# Master passes its children only the environment import_environment
# names; the tests add the sanitizers' settings to it.
IMPORT_ENVIRONMENT = ("import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C "
                      "ASAN_OPTIONS UBSAN_OPTIONS\n")


def sanitizer_env(logs):
    """Sanitizer reports of master and its children (whose stderr is
    /dev/null) go to files in logs; sanitizer_reports() collects them."""
    return {"ASAN_OPTIONS": f"log_path={logs}/asan", "UBSAN_OPTIONS": f"log_path={logs}/ubsan"}


def sanitizer_reports(logs):
    return "".join(p.read_text() for p in sorted(logs.glob("*san.*")))


class Running:
    """An instance with a master.cf of test services."""

    def __init__(self, inst, helpers, logs):
        self.inst = inst
        self.helpers = helpers
        self.logs = logs
        self.port = free_port()
        self.maillog = inst.dir / "maillog"

    def echo_line(self, port=None, extra="", maxproc=3):
        return (f"127.0.0.1:{port or self.port} inet n - n - {maxproc} "
                f"{self.helpers}/test_echo {extra}{self.logs}/echo.log\n")

    def trigger_line(self, name="qmgr", wakeup=2, extra=""):
        return (f"{name} unix n - n {wakeup} 1 {self.helpers}/test_trigger "
                f"{extra}{self.logs}/{name}.log\n")

    def write_master_cf(self, text):
        self.inst.master_cf.write_text(text)
        self.inst.master_cf.chmod(0o644)

    def postern(self, *args):
        return self.inst.postern(*args, env=sanitizer_env(self.logs))

    def start(self):
        result = self.postern("start")
        assert result.returncode == 0, result.stderr
        return result

    def master_pid(self):
        text = (self.inst.spool / "pid" / "master.pid").read_text()
        return int(text.strip())

    def log(self):
        return self.maillog.read_text() if self.maillog.exists() else ""

    def trigger_log(self, name="qmgr"):
        path = self.logs / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def children(self):
        master = self.master_pid()
        return [p for p in pids_of(self.inst) if p != master]


@pytest.fixture
def running(instance, helpers, logs):
    r = Running(instance, helpers, logs)
    r.write_master_cf(r.echo_line() + r.trigger_line())
    instance.append_main_cf(IMPORT_ENVIRONMENT)
    yield r
    r.postern("abort")
    kill_all(instance)
    assert wait_for(lambda: pids_of(instance) == [], timeout=10), "processes left behind"
    assert sanitizer_reports(logs) == ""


def expected_uid():
    return pwd.getpwnam(NOBODY).pw_uid if IS_ROOT else os.geteuid()


# ---- start, status, stop ----

def test_start_status_stop_round_trip_leaves_no_process(running):
    running.start()
    status = running.postern("status")
    assert status.returncode == 0, status.stderr
    pid = running.master_pid()
    assert status.stdout == \
        f"postern/postern: the Postern mail system is running: PID: {pid}\n"
    # start returned: the listeners exist, a client is served at once.
    child, uid, text = echo(running.port)
    assert text == "hello"
    assert uid == expected_uid()
    assert child in running.children()

    stop = running.postern("stop")
    assert stop.returncode == 0, stop.stderr
    assert pids_of(running.inst) == []
    assert not (running.inst.spool / "pid" / "master.pid").exists()
    status = running.postern("status")
    assert status.returncode == 1
    assert "not running" in status.stderr
    assert "daemon started" in running.log()
    assert "terminating on signal 15" in running.log()


def test_second_start_refuses_and_leaves_the_first_running(running):
    running.start()
    pid = running.master_pid()
    again = running.postern("start")
    assert again.returncode == 1
    assert f"the Postern mail system is already running (PID {pid})" in again.stderr
    assert running.master_pid() == pid
    assert echo(running.port)[2] == "hello"


def test_second_master_on_the_same_queue_exits_with_a_clear_error(running):
    running.start()
    result = subprocess.run([BUILD / "libexec" / "master", "-c", running.inst.dir],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "already running" in result.stderr
    assert running.postern("status").returncode == 0


def test_foreground_master_for_systemd(running):
    proc = subprocess.Popen([BUILD / "libexec" / "master", "-d", "-c", running.inst.dir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **sanitizer_env(running.logs)})
    try:
        assert wait_for(lambda: running.postern("status").returncode == 0)
        assert running.master_pid() == proc.pid
        assert echo(running.port)[2] == "hello"
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "reload -- configuration" in running.log())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        # In the foreground the log goes to stderr as well.
        assert "daemon started" in proc.stderr.read()
        assert pids_of(running.inst) == []
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


def test_start_reports_a_socket_that_cannot_be_bound(running):
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", running.port))
        busy.listen(1)
        result = running.postern("start")
    assert result.returncode == 1
    assert f"127.0.0.1:{running.port}" in result.stderr
    assert running.postern("status").returncode == 1
    assert pids_of(running.inst) == []


def test_stop_while_idle_is_fast(running):
    running.start()
    echo(running.port)  # an idle echo child now exists, and the trigger child
    assert wait_for(lambda: len(running.children()) >= 2)
    t0 = time.monotonic()
    result = running.postern("stop")
    elapsed = time.monotonic() - t0
    assert result.returncode == 0, result.stderr
    assert elapsed < 2.0, f"stop took {elapsed:.2f} s"
    assert pids_of(running.inst) == []


def test_stop_when_not_running_says_so(running):
    result = running.postern("stop")
    assert result.returncode == 1
    assert "not running" in result.stderr


def test_abort_kills_busy_children_at_once(running):
    running.start()
    s = Session(running.port)
    s.sock.sendall(b"sleep 60\n")
    assert wait_for(lambda: len(running.children()) >= 2)
    t0 = time.monotonic()
    result = running.postern("abort")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - t0 < 5
    assert pids_of(running.inst) == []
    s.close()


# ---- children ----

def test_children_report_busy_so_master_forks_up_to_maxproc(running):
    running.start()
    sessions = [Session(running.port) for _ in range(3)]
    try:
        pids = {s.ask(f"client {i}")[0] for i, s in enumerate(sessions)}
        assert len(pids) == 3  # one child per client, none shared
        # maxproc 3: a fourth client waits until one of the three is done.
        fourth = Session(running.port)
        fourth.sock.sendall(b"waiting\n")
        assert select.select([fourth.sock], [], [], 1.0)[0] == []
        sessions[0].close()
        line = fourth.file.readline().decode()
        assert line.endswith(": waiting\n")
        assert int(line.split()[0]) in pids
        fourth.close()
    finally:
        for s in sessions[1:]:
            s.close()


def test_killed_child_is_logged_with_the_signal_and_restarted(running):
    running.start()
    child = echo(running.port)[0]
    os.kill(child, signal.SIGKILL)
    assert wait_for(lambda: f"pid {child} killed by signal 9" in running.log())
    assert (f"warning: process {running.helpers}/test_echo pid {child} killed by signal 9"
            in running.log())
    new_child, _, text = echo(running.port)  # waits out the 1 s back-off
    assert text == "hello"
    assert new_child != child


def test_killed_trigger_service_is_restarted_after_its_back_off(running):
    running.start()
    assert wait_for(lambda: " start " in running.trigger_log())
    first = int(running.trigger_log().split()[0])
    os.kill(first, signal.SIGKILL)
    assert wait_for(lambda: f"pid {first} killed by signal 9" in running.log())
    assert wait_for(lambda: len(re.findall(r"^\d+ start", running.trigger_log(), re.M)) == 2,
                    timeout=10)
    second = int(re.findall(r"^(\d+) start", running.trigger_log(), re.M)[1])
    assert second != first


def test_child_that_crashes_is_logged_with_its_signal(running):
    running.start()
    s = Session(running.port)
    s.sock.sendall(b"crash\n")  # the echo helper calls abort()
    assert s.file.readline() == b""
    s.close()
    assert wait_for(lambda: "killed by signal 6" in running.log())


def test_child_that_fails_at_start_is_logged_with_its_status_and_throttled(running):
    port2 = free_port()
    running.write_master_cf(running.echo_line()
                            + running.echo_line(port=port2, extra="-Z "))
    running.start()
    # The client waits in the backlog while child after child fails.
    with socket.create_connection(("127.0.0.1", port2), timeout=10):
        assert wait_for(lambda: re.search(
            r"warning: process \S+/test_echo pid \d+ exit status 1", running.log()))
        assert wait_for(lambda: "bad command startup -- throttling for 1 s" in running.log())
        assert wait_for(lambda: "bad command startup -- throttling for 2 s" in running.log())
    assert echo(running.port)[2] == "hello"  # the other service is unaffected


def test_trigger_service_gets_wakeups_and_flush(running):
    running.start()
    assert wait_for(lambda: ": W" in running.trigger_log())
    result = running.postern("flush")
    assert result.returncode == 0, result.stderr
    assert wait_for(lambda: ": F" in running.trigger_log())
    uid = int(running.trigger_log().split("\n")[0].split()[2])
    assert uid == expected_uid()


def test_public_and_private_sockets_have_postfix_modes(running):
    running.write_master_cf(running.echo_line() + running.trigger_line()
                            + running.trigger_line(name="priv").replace(" unix n ", " unix - "))
    running.start()
    public = os.stat(running.inst.spool / "public" / "qmgr")
    private = os.stat(running.inst.spool / "private" / "priv")
    assert public.st_mode & 0o777 == 0o666
    assert private.st_mode & 0o777 == 0o600
    owner = pwd.getpwnam(NOBODY).pw_uid if IS_ROOT else os.geteuid()
    assert public.st_uid == owner and private.st_uid == owner


def test_master_death_makes_children_exit(running):
    running.start()
    s = Session(running.port)
    busy_child = s.ask("before")[0]
    assert wait_for(lambda: len(running.children()) >= 2)
    children = running.children()
    os.kill(running.master_pid(), signal.SIGKILL)
    # The idle trigger child exits at once; the busy one finishes its client.
    assert wait_for(lambda: [p for p in pids_of(running.inst) if p != busy_child] == [])
    assert s.ask("after")[0] == busy_child
    s.close()
    assert wait_for(lambda: pids_of(running.inst) == [])
    assert set(children) >= {busy_child}


def test_children_get_only_the_imported_environment(running):
    running.inst.append_main_cf("import_environment = LANG=C TZ KEPT\n")
    env = {"KEPT": "yes", "DROPPED": "no", "TZ": "UTC"}
    result = running.inst.postern("start", env=env)
    assert result.returncode == 0, result.stderr
    s = Session(running.port)
    try:
        assert s.ask("env KEPT")[2] == "yes"
        assert s.ask("env TZ")[2] == "UTC"
        assert s.ask("env LANG")[2] == "C"
        assert s.ask("env DROPPED")[2] == "(unset)"
        assert s.ask("env PATH")[2] == "(unset)"
    finally:
        s.close()


def test_master_service_disable_leaves_a_service_out(running):
    running.inst.append_main_cf("master_service_disable = qmgr/unix\n")
    running.start()
    assert not (running.inst.spool / "public" / "qmgr").exists()
    assert echo(running.port)[2] == "hello"


# ---- reload ----

def test_reload_adds_a_service(running):
    running.start()
    port2 = free_port()
    running.write_master_cf(running.inst.master_cf.read_text() + running.echo_line(port=port2))
    result = running.postern("reload")
    assert result.returncode == 0, result.stderr

    def served():
        try:
            return echo(port2)[2] == "hello"
        except OSError:
            return False
    assert wait_for(served)
    assert f"service 127.0.0.1:{port2}/inet (127.0.0.1:{port2}) added" in running.log()
    assert echo(running.port)[2] == "hello"


def test_reload_removes_a_service_and_its_socket(running):
    running.start()
    assert wait_for(lambda: " start " in running.trigger_log())
    trigger_pid = int(running.trigger_log().split()[0])
    running.write_master_cf(running.echo_line())
    assert running.postern("reload").returncode == 0
    assert wait_for(lambda: not (running.inst.spool / "public" / "qmgr").exists())
    assert wait_for(lambda: trigger_pid not in pids_of(running.inst))
    assert "removed" in running.log()


def test_reload_lets_a_busy_child_of_a_changed_service_finish(running):
    running.start()
    s = Session(running.port)
    old_child = s.ask("first")[0]
    running.write_master_cf(running.echo_line(extra="-o max_idle=50s ")
                            + running.trigger_line())
    assert running.postern("reload").returncode == 0
    assert wait_for(lambda: "changed: restarting its processes" in running.log())
    # The session in progress goes on with the old child ...
    assert s.ask("second")[0] == old_child
    # ... new clients meet a new one, and the old one leaves when done.
    assert echo(running.port)[0] != old_child
    s.close()
    assert wait_for(lambda: old_child not in pids_of(running.inst))
    assert "killed by signal" not in running.log()


def test_reload_with_a_broken_master_cf_keeps_running(running):
    running.start()
    running.write_master_cf("this is not a service line\n")
    assert running.postern("reload").returncode == 0
    assert wait_for(lambda: "keeping the running configuration" in running.log()
                    or "stay as they are" in running.log())
    assert echo(running.port)[2] == "hello"


def test_reload_with_a_bad_main_cf_value_keeps_running(running):
    running.start()
    pid = running.master_pid()
    running.inst.append_main_cf("max_idle = banana\n")
    assert running.postern("reload").returncode == 0
    assert wait_for(lambda: "keeping the running configuration" in running.log())
    assert "error: reload: " in running.log() and 'bad time value "banana"' in running.log()
    assert running.master_pid() == pid
    assert running.postern("status").returncode == 0


# ---- the skeleton without master ----

@pytest.fixture
def standalone(instance, helpers, logs):
    """Start a test daemon with -S; every one is killed at the end."""
    procs = []

    def start(*args, name="test_echo"):
        sock = logs / "sock"
        proc = subprocess.Popen([helpers / name, "-c", instance.dir, "-S", f"unix:{sock}",
                                 *args, logs / "standalone.log"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, **sanitizer_env(logs)})
        procs.append(proc)
        assert wait_for(lambda: sock.exists() or proc.poll() is not None)
        return proc, sock

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()
    assert sanitizer_reports(logs) == ""


def unix_echo(path, line):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(path))
        s.sendall(line.encode() + b"\nquit\n")
        return s.makefile("rb").readline().decode()


def test_standalone_daemon_exits_after_max_use_clients(standalone):
    proc, sock = standalone("-o", "max_use=2")
    assert unix_echo(sock, "one").endswith(": one\n")
    assert unix_echo(sock, "two").endswith(": two\n")
    assert proc.wait(timeout=10) == 0


def test_standalone_daemon_exits_after_max_idle(standalone):
    t0 = time.monotonic()
    proc, sock = standalone("-o", "max_idle=1s")
    assert proc.wait(timeout=10) == 0
    assert 0.8 < time.monotonic() - t0 < 5


def test_standalone_daemon_stops_on_sigterm(standalone):
    proc, sock = standalone()
    assert unix_echo(sock, "x").endswith(": x\n")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_standalone_trigger_service_reads_every_pending_trigger(standalone, logs):
    proc, sock = standalone("-w", "1", name="test_trigger")
    for byte in b"AAF":
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))
            s.sendall(bytes([byte]))
    log = logs / "standalone.log"
    assert wait_for(lambda: log.exists() and log.read_text().count(": A") == 2
                    and ": F" in log.read_text())
    assert wait_for(lambda: ": W" in log.read_text(), timeout=5)
    # A client that connects and sends nothing does not hold up the others.
    with socket.socket(socket.AF_UNIX) as idle:
        idle.connect(str(sock))
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))
            s.sendall(b"F")
        assert wait_for(lambda: log.read_text().count(": F") == 2)
    # A client that streams instead of triggering is cut off.
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.settimeout(10)
        with pytest.raises(OSError):
            for _ in range(1000):
                s.sendall(b"x" * 1024)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        s.sendall(b"F")
    assert wait_for(lambda: log.read_text().count(": F") == 3)
    assert proc.poll() is None


def test_daemon_not_started_by_master_says_how_to_run_it(instance, helpers):
    result = subprocess.run([helpers / "test_echo", "-c", instance.dir],
                            capture_output=True, text=True, timeout=10,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "not started by master" in result.stderr


# ---- an unprivileged instance ----

def test_unprivileged_instance_runs_wholly_as_its_user(unprivileged_dir, helpers, logs):
    base, user = unprivileged_dir
    inst = Instance(base / "instance", user=user)
    inst.init()
    r = Running(inst, helpers, logs)
    r.write_master_cf(r.echo_line() + r.trigger_line())
    inst.append_main_cf(IMPORT_ENVIRONMENT)
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(inst.master_cf, pw.pw_uid, pw.pw_gid)
    uid = pwd.getpwnam(user).pw_uid if user else os.geteuid()
    try:
        r.start()
        assert r.postern("status").returncode == 0
        assert echo(r.port)[1] == uid
        assert wait_for(lambda: " start " in r.trigger_log())
        for pid in pids_of(inst):
            assert os.stat(f"/proc/{pid}").st_uid == uid
        assert r.postern("stop").returncode == 0
        assert pids_of(inst) == []
    finally:
        r.postern("abort")
        kill_all(inst)
    assert sanitizer_reports(logs) == ""


# ---- with the real queue manager ----

def test_real_qmgr_is_started_restarted_after_sigkill_and_flushed(logs):
    if not os.access(BUILD / "libexec" / "qmgr", os.X_OK):
        pytest.skip("qmgr is not built yet")
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-master-qmgr-"))
    base.chmod(0o755)  # mail_owner must reach the queue
    inst = Instance(base / "instance")
    try:
        inst.init(*([f"mail_owner={NOBODY}", "setgid_group=nogroup"] if IS_ROOT else []))
        inst.master_cf.write_text("qmgr unix n - n 300 1 qmgr\n")
        inst.append_main_cf(IMPORT_ENVIRONMENT)
        maillog = inst.dir / "maillog"
        env = sanitizer_env(logs)
        result = inst.postern("start", env=env)
        assert result.returncode == 0, result.stderr

        def qmgr_pids():
            found = []
            for p in pids_of(inst):
                try:
                    if b"/qmgr\0" in pathlib.Path(f"/proc/{p}/cmdline").read_bytes():
                        found.append(p)
                except OSError:
                    pass  # gone meanwhile
            return found
        assert wait_for(lambda: len(qmgr_pids()) == 1)
        first = qmgr_pids()[0]
        # Root until its configuration is loaded, then mail_owner.
        assert wait_for(lambda: os.stat(f"/proc/{first}").st_uid == expected_uid())
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: f"qmgr pid {first} killed by signal 9" in maillog.read_text())
        assert wait_for(lambda: len(qmgr_pids()) == 1 and qmgr_pids()[0] != first)
        assert inst.postern("flush", env=env).returncode == 0
        assert wait_for(lambda: "flush: retrying deferred mail now" in maillog.read_text())
        assert inst.postern("stop", env=env).returncode == 0
        assert pids_of(inst) == []
    finally:
        inst.postern("abort")
        kill_all(inst)
        shutil.rmtree(base, ignore_errors=True)
    assert sanitizer_reports(logs) == ""

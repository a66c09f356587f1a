"""The privilege layout of an instance started as root (DESIGN.md).

Only master (and local, which switches to each recipient) runs as root;
pickup, qmgr and smtpd run as mail_owner; a mailbox belongs to its
recipient; postdrop is the only set-gid program and nothing is set-uid.

The test needs root. It uses the stock account names, postern and
posterndrop, creating them (and a recipient account) when this machine
lacks them and removing what it created at the end.
"""

import os
import pathlib
import pwd
import grp
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import BUILD, IS_ROOT, run as run_cmd
from live import instance_pids, wait_until

BIN = BUILD / "bin"
LIBEXEC = BUILD / "libexec"
NEEDED = [BIN / "postern", BIN / "sendmail", BIN / "postdrop", BIN / "postalias",
          LIBEXEC / "master", LIBEXEC / "pickup", LIBEXEC / "qmgr", LIBEXEC / "local"]
RECIPIENT = "postern-rcpt"


def ensure_accounts():
    """Create the accounts the test needs; return what was created."""
    made = []

    def sh(*args):
        subprocess.run(args, check=True, capture_output=True)

    try:
        grp.getgrnam("posterndrop")
    except KeyError:
        sh("groupadd", "--system", "posterndrop")
        made.append(("group", "posterndrop"))
    for user in ("postern", RECIPIENT):
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
    if not IS_ROOT:
        pytest.skip("needs root")
    missing = [str(p) for p in NEEDED if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip("needs " + ", ".join(missing))
    # Set-gid postdrop trusts a -C directory only when the default
    # configuration lists it in alternate_config_directories, as Postfix's.
    default_cf = pathlib.Path("/etc/postern/main.cf")
    if default_cf.exists() or default_cf.parent.exists():
        pytest.skip(f"{default_cf.parent} exists: this machine has a Postern installed")
    made = ensure_accounts()
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-priv-"))
    base.chmod(0o755)
    inst_dir = base / "instance"
    # An installed layout: the commands in a directory of their own, with
    # postdrop set-gid posterndrop as `make install` leaves it.
    cmd_dir = base / "sbin"
    cmd_dir.mkdir()
    for p in BIN.iterdir():
        if p.is_symlink():
            os.symlink(os.readlink(p), cmd_dir / p.name)
        elif p.is_file():
            shutil.copy2(p, cmd_dir / p.name)
    postdrop = cmd_dir / "postdrop"
    os.chown(postdrop, 0, grp.getgrnam("posterndrop").gr_gid)
    postdrop.chmod(0o2755)
    logs = base / "sanitizer"
    logs.mkdir()
    logs.chmod(0o777)
    # LeakSanitizer cannot stop the world in a set-gid process (postdrop).
    env = {"ASAN_OPTIONS": f"log_path={logs}/asan:detect_leaks=0",
           "UBSAN_OPTIONS": f"log_path={logs}/ubsan"}
    run = lambda *a, **kw: run_cmd([BIN / "postern", "-c", inst_dir, *a], env=env, **kw)  # noqa
    result = run("init", f"command_directory={cmd_dir}", "myhostname=test.example",
                 "mydomain=example",
                 "import_environment=MAIL_CONFIG MAIL_DEBUG TZ LANG=C ASAN_OPTIONS UBSAN_OPTIONS")
    assert result.returncode == 0, result.stderr
    default_cf.parent.mkdir(mode=0o755)
    default_cf.write_text(f"alternate_config_directories = {inst_dir}\n")
    keep = ("pickup", "qmgr", "local")
    mcf = inst_dir / "master.cf"
    mcf.write_text("".join(l for l in mcf.read_text().splitlines(keepends=True)
                           if l.split()[:1] and l.split()[0] in keep))
    result = run("start")
    assert result.returncode == 0, result.stderr
    yield inst_dir, cmd_dir, env
    run("stop")
    for pid in instance_pids(inst_dir):
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    wait_until(lambda: instance_pids(inst_dir) == [], 10)
    reports = "".join(p.read_text(errors="replace") for p in sorted(logs.glob("*san.*")))
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(default_cf.parent, ignore_errors=True)
    remove_accounts(made)
    assert reports == "", reports


def process_table(inst_dir):
    """{pid: (program name, real uid, effective uid)} of the instance."""
    table = {}
    for pid in instance_pids(inst_dir):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                name = os.path.basename(f.read().split(b"\0", 1)[0]).decode()
            with open(f"/proc/{pid}/status") as f:
                uids = next(l for l in f if l.startswith("Uid:")).split()
        except (OSError, StopIteration):
            continue
        if name:  # an exiting process has no command line left
            table[pid] = (name, int(uids[1]), int(uids[2]))
    return table


def test_root_instance_runs_daemons_as_mail_owner_and_only_postdrop_is_set_gid(root_instance):
    inst_dir, cmd_dir, env = root_instance
    owner = pwd.getpwnam("postern")
    rcpt = pwd.getpwnam(RECIPIENT)
    seen = {}
    # The recipient submits as an ordinary user would, through set-gid postdrop.
    for n in range(5):
        result = run_cmd([cmd_dir / "sendmail", "-C", inst_dir, "--", RECIPIENT],
                         user=RECIPIENT, env=env,
                         input=f"From: {RECIPIENT}@test.example\nSubject: p{n}\n\nhello\n")
        assert result.returncode == 0, result.stderr
        seen.update(process_table(inst_dir))
    mbox = inst_dir / "mail" / RECIPIENT

    def delivered():
        seen.update(process_table(inst_dir))
        return mbox.exists() and mbox.read_text().count("\nSubject: p") == 5

    log = inst_dir / "maillog"
    assert wait_until(delivered, 60), log.read_text() if log.exists() else "no maillog"
    names = {name for name, _, _ in seen.values()}
    assert {"master", "pickup", "qmgr"} <= names, seen
    for pid, (name, ruid, euid) in seen.items():
        if name == "master":
            assert (ruid, euid) == (0, 0), (pid, name)
        elif name == "local":
            # root, or its child delivering with the recipient's ids
            assert ruid in (0, rcpt.pw_uid) and euid in (0, rcpt.pw_uid), (pid, name, ruid)
        else:
            assert (ruid, euid) == (owner.pw_uid, owner.pw_uid), (pid, name, ruid, euid)
    st = mbox.stat()
    assert (st.st_uid, st.st_gid) == (rcpt.pw_uid, rcpt.pw_gid)
    assert stat.S_IMODE(st.st_mode) == 0o600

    # Set-id bits: postdrop set-gid posterndrop, nothing else anywhere.
    setid = []
    for d in (cmd_dir, LIBEXEC):
        for p in d.iterdir():
            if p.is_symlink() or not p.is_file():
                continue
            mode = p.stat().st_mode
            if mode & (stat.S_ISUID | stat.S_ISGID):
                setid.append((p.name, bool(mode & stat.S_ISUID), p.stat().st_gid))
    assert setid == [("postdrop", False, grp.getgrnam("posterndrop").gr_gid)]
    # The maildrop is writable through that group only.
    md = (inst_dir / "spool" / "maildrop").stat()
    assert (md.st_uid, md.st_gid) == (owner.pw_uid, grp.getgrnam("posterndrop").gr_gid)
    assert stat.S_IMODE(md.st_mode) == 0o1770

"""Fixtures for Postern's system tests: real programs, real instances.

The programs come from the build tree named by POSTERN_BUILD (default: the
repository's build/; `make check` sets build/asan). Every instance lives in
a temporary directory made by `postern init`, so tests never touch the
system's /etc/postern and can run side by side.

Tests run as root in CI and as an ordinary user on a workstation. As root,
an instance made for a test uses mail_owner = nobody and setgid_group =
nogroup (the stock postern user need not exist), and the `unprivileged`
fixture runs programs as nobody through setpriv. As an ordinary user,
every instance is an unprivileged one of that user.
"""

import os
import pathlib
import pwd
import grp
import shutil
import subprocess
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("POSTERN_BUILD", REPO / "build")).resolve()

IS_ROOT = os.geteuid() == 0
# The account root-run tests use as mail_owner, and run unprivileged
# programs as.
NOBODY = "nobody"
NOGROUP = "nogroup"


def program(name):
    """Path of a built program; the test fails (not skips) when it is missing."""
    path = BUILD / "bin" / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (POSTERN_BUILD={BUILD}); run make first")
    return path


def run(args, *, user=None, env=None, input=None, cwd=None, timeout=60):
    """Run a command and return its CompletedProcess (text output).

    MAIL_CONFIG is removed from the environment unless env sets it, so
    that a developer's setting cannot leak into a test. user runs the
    command as that account (root only), with its primary group and no
    supplementary groups.
    """
    full_env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
    if env:
        full_env.update(env)
    cmd = [str(a) for a in args]
    if user is not None:
        pw = pwd.getpwnam(user)
        cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
               "--clear-groups", "--"] + cmd
    return subprocess.run(cmd, env=full_env, input=input, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


class Instance:
    """A Postern instance: its configuration directory and its programs."""

    def __init__(self, path, user=None):
        self.dir = pathlib.Path(path)
        self.user = user  # run its programs as this account (None: as we are)

    @property
    def main_cf(self):
        return self.dir / "main.cf"

    @property
    def master_cf(self):
        return self.dir / "master.cf"

    @property
    def spool(self):
        return self.dir / "spool"

    def postern(self, *args, **kw):
        kw.setdefault("user", self.user)
        return run([program("postern"), "-c", self.dir, *args], **kw)

    def postconf(self, *args, **kw):
        kw.setdefault("user", self.user)
        return run([program("postconf"), "-c", self.dir, *args], **kw)

    def init(self, *settings, **kw):
        result = self.postern("init", *settings, **kw)
        assert result.returncode == 0, result.stderr
        return result

    def append_main_cf(self, text):
        with open(self.main_cf, "a") as f:
            f.write(text)

    def line_count(self):
        return len(self.main_cf.read_text().splitlines())


def root_owner_settings():
    """Settings a root-run init needs for a checkable instance."""
    return [f"mail_owner={NOBODY}", f"setgid_group={NOGROUP}"] if IS_ROOT else []


def expected_owner():
    """(user, group) that an instance made by root_owner_settings() gives mail_owner."""
    if IS_ROOT:
        return NOBODY, NOGROUP
    pw = pwd.getpwuid(os.geteuid())
    return pw.pw_name, grp.getgrgid(pw.pw_gid).gr_name


@pytest.fixture
def new_instance(tmp_path):
    """An Instance whose directory does not exist yet (init not run)."""
    return Instance(tmp_path / "instance")


@pytest.fixture
def instance(new_instance):
    """A fresh instance made by `postern init`, checkable as we run."""
    new_instance.init(*root_owner_settings())
    return new_instance


@pytest.fixture
def unprivileged_dir():
    """A directory an unprivileged user can create an instance in, and that
    user: nobody when we are root, else ourselves."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-test-"))
    user = None
    if IS_ROOT:
        try:
            pw = pwd.getpwnam(NOBODY)
        except KeyError:
            shutil.rmtree(base)
            pytest.skip("no nobody account to run as")
        if shutil.which("setpriv") is None:
            shutil.rmtree(base)
            pytest.skip("setpriv not installed")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        base.chmod(0o755)
        user = NOBODY
    yield base, user
    shutil.rmtree(base, ignore_errors=True)


def stderr_lines(result):
    return result.stderr.splitlines()


def without_daemon_warning(lines):
    """Lines other than check's warning that no daemons are built yet."""
    return [l for l in lines
            if not (l.startswith("postern: warning: daemon_directory ")
                    and l.endswith(" does not exist: no daemons are installed there yet"))]

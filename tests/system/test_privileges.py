"""The privilege layout of an instance started as root (DESIGN.md).

Only master (and local, which switches to each recipient) runs as root;
pickup, qmgr and smtpd run as mail_owner; a mailbox belongs to its
recipient; postdrop and postqueue are the only set-gid programs and
nothing is set-uid.

The test needs root; the instance is live.py's root_instance.
"""

import os
import pwd
import grp
import stat

from conftest import BUILD, run as run_cmd
from live import ROOT_RECIPIENT as RECIPIENT, instance_pids, wait_until
from live import root_instance  # noqa: F401 (the fixture)

LIBEXEC = BUILD / "libexec"


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


def test_root_instance_runs_daemons_as_mail_owner_and_only_postdrop_postqueue_set_gid(
        root_instance):
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

    # Set-id bits: postdrop and postqueue set-gid posterndrop, nothing else.
    setid = []
    for d in (cmd_dir, LIBEXEC):
        for p in d.iterdir():
            if p.is_symlink() or not p.is_file():
                continue
            mode = p.stat().st_mode
            if mode & (stat.S_ISUID | stat.S_ISGID):
                setid.append((p.name, bool(mode & stat.S_ISUID), p.stat().st_gid))
    drop_gid = grp.getgrnam("posterndrop").gr_gid
    assert sorted(setid) == [("postdrop", False, drop_gid), ("postqueue", False, drop_gid)]
    # The maildrop is writable through that group only.
    md = (inst_dir / "spool" / "maildrop").stat()
    assert (md.st_uid, md.st_gid) == (owner.pw_uid, grp.getgrnam("posterndrop").gr_gid)
    assert stat.S_IMODE(md.st_mode) == 0o1770

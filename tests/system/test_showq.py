"""mailq for ordinary users of an instance run by root: the showq service.

The queue directories belong to mail_owner (0700), so an ordinary user's
set-gid postqueue cannot read them; it asks showq on public/showq, which
runs as mail_owner, and prints the same listing root reads directly. The
tests need root (live.py's root_instance).
"""

import json
import socket

from conftest import BUILD, run
from live import ROOT_RECIPIENT as USER, wait_until
from live import root_instance  # noqa: F401 (the fixture)

EX_NOPERM = 77
REMOTE = "someone@remote.example"  # no smtp service here: the mail defers


def deferred(inst_dir):
    return sorted(p.name for p in (inst_dir / "spool" / "deferred").iterdir())


def maillog(inst_dir):
    path = inst_dir / "maillog"
    return path.read_text(errors="replace") if path.exists() else ""


def queue_two_deferred(inst_dir, cmd_dir, env):
    for n in range(2):
        r = run([cmd_dir / "sendmail", "-C", inst_dir, "--", REMOTE], user=USER, env=env,
                input=f"From: {USER}@test.example\nSubject: q{n}\n\nhello\n")
        assert r.returncode == 0, r.stderr
    assert wait_until(lambda: len(deferred(inst_dir)) == 2, 60), maillog(inst_dir)
    return deferred(inst_dir)


def showq_request(inst_dir, data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(str(inst_dir / "spool" / "public" / "showq"))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    s.close()
    return reply


def test_ordinary_user_lists_and_flushes_through_showq_as_root_reads_it(root_instance):
    inst_dir, cmd_dir, env = root_instance
    postqueue = cmd_dir / "postqueue"
    ids = queue_two_deferred(inst_dir, cmd_dir, env)

    # The user cannot read the queue itself.
    r = run(["ls", inst_dir / "spool" / "deferred"], user=USER)
    assert r.returncode != 0
    direct = run([postqueue, "-c", inst_dir, "-p"], env=env)  # root reads directly
    assert direct.returncode == 0, direct.stderr
    assert all(i in direct.stdout for i in ids) and REMOTE in direct.stdout
    r = run([postqueue, "-c", inst_dir, "-p"], user=USER, env=env)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert r.stdout == direct.stdout
    # mailq and sendmail -bp go through the same set-gid postqueue.
    r = run([cmd_dir / "sendmail", "-C", inst_dir, "-bp"], user=USER, env=env)
    assert (r.returncode, r.stdout) == (0, direct.stdout), r.stderr

    r = run([postqueue, "-c", inst_dir, "-j"], user=USER, env=env)
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(o["queue_id"] for o in objs) == ids
    assert all(o["queue_name"] == "deferred" and o["recipients"][0]["address"] == REMOTE
               for o in objs)
    root_json = run([postqueue, "-c", inst_dir, "-j"], env=env)
    assert root_json.stdout == r.stdout

    # Flush: qmgr tries both messages again.
    tries = maillog(inst_dir).count("status=deferred")
    r = run([postqueue, "-c", inst_dir, "-f"], user=USER, env=env)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert wait_until(lambda: maillog(inst_dir).count("status=deferred") >= tries + 2, 30), \
        maillog(inst_dir)

    # The lists go by the real uid, before anything else.
    postconf = BUILD / "bin" / "postconf"
    r = run([postconf, "-c", inst_dir, "-e", "authorized_mailq_users=root",
             "authorized_flush_users=root"])
    assert r.returncode == 0, r.stderr
    r = run([postqueue, "-c", inst_dir, "-p"], user=USER, env=env)
    assert r.returncode == EX_NOPERM and r.stdout == ""
    assert "is not allowed to view the mail queue" in r.stderr
    r = run([postqueue, "-c", inst_dir, "-f"], user=USER, env=env)
    assert r.returncode == EX_NOPERM and "is not allowed to flush the mail queue" in r.stderr
    assert run([postqueue, "-c", inst_dir, "-p"], env=env).stdout == direct.stdout


def test_set_gid_postqueue_trusts_only_listed_config_directories(root_instance, tmp_path):
    inst_dir, cmd_dir, env = root_instance
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.cf").write_text(f"queue_directory = {inst_dir}/spool\n")
    tmp_path.chmod(0o755)
    other.chmod(0o755)
    for args, extra in (([cmd_dir / "postqueue", "-c", other, "-p"], {}),
                        ([cmd_dir / "postqueue", "-p"], {"MAIL_CONFIG": str(other)})):
        r = run(args, user=USER, env={**env, **extra})
        assert r.returncode == EX_NOPERM, r.stderr
        assert "untrusted configuration directory" in r.stderr and r.stdout == ""


def test_showq_closes_on_a_bad_request_and_keeps_serving(root_instance):
    inst_dir, cmd_dir, env = root_instance
    for bad in (b"x\n", b"pj\n", b"\n", b"p\r\n", b"P\n", b"\0\n", b"p"):
        assert showq_request(inst_dir, bad) == b"", bad
    assert showq_request(inst_dir, b"p\n") == b"Mail queue is empty\n"
    assert showq_request(inst_dir, b"j\n") == b""
    ids = queue_two_deferred(inst_dir, cmd_dir, env)
    listing = showq_request(inst_dir, b"p\n").decode()
    assert all(i in listing for i in ids) and listing.endswith(" in 2 Requests.\n")
    assert "bad request" in maillog(inst_dir)

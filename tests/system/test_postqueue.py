"""postqueue and postsuper: listing, JSON, flushing, hold/release, delete,
requeue, expiry, structure check and purge.

Most tests run qmgr stand-alone on a queue directory with fake delivery
agents (test_qmgr's `qm` fixture): an agent that answers 4.4.1 stands for
an unreachable destination, and changing its answer brings the
destination back. Messages are queued with test_qmgr's inject helper,
which uses the same queue-file writer as pickup and smtpd.

The listing's shape is compared with Debian Postfix's postqueue -p on an
equivalent queue when Postfix is installed and the tests run as root;
unit tests pin the columns (tests/unit/queue_list_test.c).
"""

import json
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, IS_ROOT, NOBODY, run
from live import live, submitter  # noqa: F401 (fixtures)
from test_qmgr import inject_helper, qm  # noqa: F401 (fixtures)

POSTQUEUE = BUILD / "bin" / "postqueue"
POSTSUPER = BUILD / "bin" / "postsuper"
POSTCAT = BUILD / "bin" / "postcat"
SENDMAIL = BUILD / "bin" / "sendmail"
EX_USAGE, EX_NOPERM = 64, 77

REFUSED = "connect to {d}[192.0.2.1]:25: Connection refused"
# Postfix's layout for long queue ids (enable_long_queue_ids = yes), the kind
# of ids Postern has: id and mark padded to 17, size in 8, time, sender.
HEADER = "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------"
ENTRY = re.compile(r"^([0-9A-Za-z]+?)([*!]?) +(\d+) (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+)$")
INDENT = 47


def postqueue(q, *args, user=None, env=None):
    return run([POSTQUEUE, "-c", q.dir, *args], user=user, env=env)


def postsuper(q, *args, user=None, input=None):
    return run([POSTSUPER, "-c", q.dir, *args], user=user, input=input)


def refusing_agent(q, down):
    """An smtp agent that defers every domain in the set down, delivers the rest."""
    def policy(addr):
        dom = addr.rsplit("@", 1)[1]
        if dom in down:
            return "4.4.1", REFUSED.format(d=dom)
        return "2.0.0", "250 ok"
    return q.agent("smtp", policy)


def queue_deferred(q, per_domain, domains=("a.example", "b.example"), held=0):
    """per_domain messages deferred to each domain, held more put on hold
    before qmgr saw them. Returns (ids by domain, held ids)."""
    ids = {d: [q.inject("alice@example.com", f"user{i}@{d}") for i in range(per_domain)]
           for d in domains}
    held_ids = [q.inject("alice@example.com", f"held{i}@c.example") for i in range(held)]
    for qid in held_ids:
        r = postsuper(q, "-h", qid)
        assert r.returncode == 0, r.stderr
    q.trigger()
    total = per_domain * len(domains)
    q.wait(lambda: len(q.files("deferred")) == total and q.idle(), timeout=60,
           what=f"{total} deferrals")
    return ids, held_ids


def parse_listing(text):
    """The blocks of a postqueue -p listing: (id, mark, sender, [lines after],
    (columns where the size ends, the time and the sender start))."""
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert re.fullmatch(r"-- \d+ Kbytes in \d+ Requests?\.", lines[-1]), lines[-1]
    blocks, cur = [], None
    for line in lines[1:-1]:
        m = ENTRY.match(line)
        if m:
            assert cur is None, f"no blank line before {line!r}"
            cur = (m.group(1), m.group(2) or " ", m.group(5), [],
                   (m.end(3), m.start(4), m.start(5)))
        elif line == "":
            blocks.append(cur)
            cur = None
        else:
            cur[3].append(line)
    assert cur is None
    return blocks, lines[-1]


# ---- postqueue -p, -j and postsuper on 50 deferred and 5 held messages ----

def test_fifty_deferred_and_five_held_list_parse_and_delete(qm):
    qm.start(minimal_backoff_time="3000s", maximal_backoff_time="4000s")
    smtp = refusing_agent(qm, {"a.example", "b.example"})
    ids, held = queue_deferred(qm, 25, held=5)

    r = postqueue(qm, "-p")
    assert r.returncode == 0, r.stderr
    blocks, footer = parse_listing(r.stdout)
    assert footer.endswith(" in 55 Requests.")
    assert sorted(b[0] for b in blocks if b[1] == "!") == sorted(held)
    by_id = {b[0]: b for b in blocks}
    for dom, dom_ids in ids.items():
        for qid in dom_ids:
            _, mark, sender, rest, cols = by_id[qid]
            assert cols == (26, 27, 47)
            assert (mark, sender) == (" ", "alice@example.com")
            reason = f"({REFUSED.format(d=dom)})"
            assert rest[0] == reason.rjust(78)
            assert rest[1].startswith(" " * INDENT) and rest[1].strip().endswith("@" + dom)
    for qid in held:
        assert by_id[qid][3] == [" " * INDENT + by_id[qid][3][0].strip()]
    # mailq and sendmail -bp print the same listing.
    if os.access(SENDMAIL, os.X_OK):
        same = run([SENDMAIL, "-C", qm.dir, "-bp"])
        assert same.returncode == 0 and same.stdout == r.stdout

    j = postqueue(qm, "-j")
    assert j.returncode == 0, j.stderr
    objs = [json.loads(line) for line in j.stdout.splitlines()]
    assert len(objs) == 55
    assert {o["queue_name"] for o in objs} == {"deferred", "hold"}
    for o in objs:
        assert set(o) == {"queue_name", "queue_id", "arrival_time", "message_size",
                          "forced_expire", "sender", "recipients"}
        assert o["sender"] == "alice@example.com" and o["forced_expire"] is False
        assert isinstance(o["arrival_time"], int) and o["message_size"] > 0
        (rcpt,) = o["recipients"]
        if o["queue_name"] == "deferred":
            dom = rcpt["address"].rsplit("@", 1)[1]
            assert rcpt["delay_reason"] == REFUSED.format(d=dom)
        else:
            assert "delay_reason" not in rcpt
    if shutil.which("jq"):
        jq = subprocess.run(["jq", "-c", "."], input=j.stdout, capture_output=True, text=True)
        assert jq.returncode == 0, jq.stderr
        assert len(jq.stdout.splitlines()) == 55

    d = postsuper(qm, "-d", "ALL", "deferred")
    assert d.returncode == 0, d.stderr
    assert d.stderr.splitlines()[-1] == "postsuper: Deleted: 50 messages"
    assert "removed" in d.stderr
    assert qm.files("deferred") == [] and qm.files("defer") == []
    assert sorted(qm.files("hold")) == sorted(held)
    log = qm.log()
    assert all(f"{qid}: removed" in log for qid in ids["a.example"])

    # Release: the held mail goes out once its destination answers.
    rel = postsuper(qm, "-H", "ALL")
    assert rel.returncode == 0, rel.stderr
    assert rel.stderr.splitlines()[-1] == "postsuper: Released from hold: 5 messages"
    assert f"postsuper: {held[0]}: released from hold" in rel.stderr
    qm.wait(lambda: all(f"{qid}: removed" in qm.log() for qid in held), what="delivery")
    assert sorted(a for a in smtp.addresses() if a.endswith("@c.example")) == \
        sorted(f"held{i}@c.example" for i in range(5))
    assert qm.files("hold") == [] and qm.idle()
    e = postqueue(qm, "-p")
    assert e.stdout == "Mail queue is empty\n"
    assert postqueue(qm, "-j").stdout == ""


def test_json_escapes_any_bytes(qm):
    qm.start(minimal_backoff_time="3000s")
    qm.agent("smtp", lambda a: ("4.4.1", 'said "no"\\ \x7f\u00e9'))
    rcpt = os.fsdecode(b"caf\xe9\xff@a.example")  # Latin-1 é and a byte never in UTF-8
    qid = qm.inject("s\u00e9nder@example.com", rcpt, "ok\u20ac@a.example")
    qm.trigger()
    qm.wait(lambda: qm.files("deferred") == [qid] and qm.idle(), what="deferral")
    j = postqueue(qm, "-j")
    assert j.returncode == 0, j.stderr
    raw = j.stdout.strip()
    assert "\\u00e9\\u00ff@a.example" in raw and "\\\"no\\\"\\\\" in raw
    assert "\x7f" not in raw and "\\u007f" in raw.lower()
    (o,) = [json.loads(raw)]
    assert o["sender"] == "s\u00e9nder@example.com"
    assert [r["address"] for r in o["recipients"]] == ["caf\u00e9\u00ff@a.example",
                                                     "ok\u20ac@a.example"]
    assert o["recipients"][0]["delay_reason"] == 'said "no"\\ \x7f\u00e9'
    if shutil.which("jq"):
        jq = subprocess.run(["jq", "-r", ".recipients[1].address"], input=j.stdout,
                            capture_output=True, text=True)
        assert jq.returncode == 0 and jq.stdout == "ok\u20ac@a.example\n"


# ---- flushing ----

def test_flush_site_retries_only_that_destination_then_id_then_all(qm):
    qm.start(minimal_backoff_time="3000s", maximal_backoff_time="4000s")
    down = {"a.example", "b.example", "c.example"}
    smtp = refusing_agent(qm, down)
    ids, _ = queue_deferred(qm, 3, domains=("a.example", "b.example", "c.example"))
    tried = len(smtp.addresses())
    down.clear()  # every destination is back

    r = postqueue(qm, "-s", "A.Example")
    assert r.returncode == 0, r.stderr
    qm.wait(lambda: all(f"{qid}: removed" in qm.log() for qid in ids["a.example"]),
            what="a.example delivered")
    time.sleep(1)
    assert sorted(smtp.addresses()[tried:]) == sorted(f"user{i}@a.example" for i in range(3))
    assert sorted(qm.files("deferred")) == sorted(ids["b.example"] + ids["c.example"])
    assert "flush: retrying deferred mail for a.example now" in qm.log()

    one = ids["b.example"][1]
    r = postqueue(qm, "-i", one)
    assert r.returncode == 0, r.stderr
    qm.wait(lambda: f"{one}: removed" in qm.log(), what="one message delivered")
    time.sleep(1)
    assert len(qm.files("deferred")) == 5

    r = postqueue(qm, "-f")
    assert r.returncode == 0, r.stderr
    qm.wait(lambda: qm.files("deferred") == [] and qm.idle(), what="everything delivered")
    assert len(smtp.addresses()) == tried + 9


def test_postqueue_usage_and_mail_system_down(qm):
    qm.write_main_cf()
    r = postqueue(qm)
    assert r.returncode == EX_USAGE and "usage: postqueue" in r.stderr
    r = postqueue(qm, "-p", "-f")
    assert r.returncode == EX_USAGE
    r = postqueue(qm, "-i", "not/an/id")
    assert (r.returncode, r.stderr) == (EX_USAGE, "postqueue: fatal: invalid queue id: not/an/id\n")
    r = postqueue(qm, "-s", "a b")
    assert r.returncode == EX_USAGE and "invalid site name" in r.stderr
    r = postqueue(qm, "-f")  # qmgr is not running
    assert r.returncode == 69 and "cannot flush the queue (is the mail system down?)" in r.stderr


def test_qmgr_drops_malformed_requests_and_survives(qm):
    qm.start()
    qm.trigger(b"S" + b"x" * 300 + b"\n")
    qm.trigger(b"Inot-an-id\n")
    qm.trigger(b"Sno-newline")
    qm.wait(lambda: qm.log().count("dropped") >= 3, what="three warnings")
    assert qm.proc.poll() is None
    assert "malformed 'S' request: dropped" in qm.log()
    assert "flush request for an invalid queue id: dropped" in qm.log()


# ---- requeue, expire, hold while qmgr holds the file ----

def test_requeue_after_relayhost_change_goes_to_the_new_relayhost(qm):
    qm.start(minimal_backoff_time="3000s", maximal_backoff_time="4000s")
    down = {"a.example"}
    smtp = refusing_agent(qm, down)
    ids, _ = queue_deferred(qm, 1, domains=("a.example",))
    (qid,) = ids["a.example"]
    assert [req["nexthop"] for req, _ in smtp.requests] == ["a.example"]
    qm.stop()  # main.cf changes need a restart (postern reload)
    qm.start(relayhost="[relay.example]")
    down.clear()  # the relay takes the mail
    r = postsuper(qm, "-r", "ALL")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[-1] == "postsuper: Requeued: 1 message"
    assert f"postsuper: {qid}: requeued" in r.stderr
    qm.wait(lambda: f"{qid}: removed" in qm.log(), what="delivery through the relay")
    assert [req["nexthop"] for req, _ in smtp.requests] == ["a.example", "[relay.example]"]


def delivery_under_way(q):
    """One message whose delivery takes 2 s has started: (agent, id)."""
    q.start()
    slow = q.agent("smtp", delay=2)
    qid = q.inject("alice@example.com", "bob@a.example")
    q.trigger()
    q.wait(lambda: len(slow.requests) == 1, what="delivery under way")
    return slow, qid


def test_file_held_while_qmgr_delivers_it_is_not_resurrected(qm):
    _, qid = delivery_under_way(qm)
    r = postsuper(qm, "-h", qid)
    assert r.returncode == 0 and f"{qid}: placed on hold" in r.stderr
    qm.wait(lambda: "move to deferred" in qm.log() or f"{qid}: removed" in qm.log(),
            what="qmgr finished its pass")
    time.sleep(0.5)
    # Still held, exactly once; qmgr neither moved it back nor removed it.
    assert qm.files("hold") == [qid]
    assert qm.files("active") == qm.files("deferred") == qm.files("incoming") == []
    assert qm.proc.poll() is None


def test_requeue_while_qmgr_delivers_never_runs_two_copies(qm):
    slow, qid = delivery_under_way(qm)
    r = postsuper(qm, "-r", qid)
    assert r.returncode == 0 and f"{qid}: requeued" in r.stderr
    # The requeued file waits in incoming until the copy in memory is done,
    # then goes once more (its done mark was lost with the move).
    qm.wait(lambda: len(slow.requests) == 2 and qm.idle() and not qm.files("deferred"),
            timeout=20, what="second pass")
    time.sleep(1)
    assert len(slow.requests) == 2 and slow.max_busy == 1
    assert qm.log().count(f"{qid}: removed") == 1


def test_expire_bounces_at_the_next_attempt(qm):
    qm.start(minimal_backoff_time="3000s", maximal_backoff_time="4000s")
    refusing_agent(qm, {"a.example"})
    ids, _ = queue_deferred(qm, 2, domains=("a.example",))
    victim, other = ids["a.example"]
    # Held, it is marked but stays; released, it expires at its next attempt.
    assert postsuper(qm, "-h", victim).returncode == 0
    r = postsuper(qm, "-e", victim)
    assert r.returncode == 0 and f"{victim}: forced to expire" in r.stderr
    j = {o["queue_id"]: o for o in map(json.loads, postqueue(qm, "-j").stdout.splitlines())}
    assert j[victim]["forced_expire"] is True and j[other]["forced_expire"] is False
    time.sleep(0.5)
    assert qm.files("hold") == [victim]
    assert postsuper(qm, "-H", victim).returncode == 0
    qm.wait(lambda: f"{victim}: from=<alice@example.com>, status=expired, returned to sender"
            in qm.log(), what="expiry")
    qm.wait(lambda: f"{victim}: removed" in qm.log(), what="removal")
    assert qm.files("deferred") == [other]


def test_delete_ids_from_stdin_and_queue_restriction(qm):
    qm.write_main_cf()
    a = qm.inject("alice@example.com", "x@a.example")
    b = qm.inject("alice@example.com", "y@a.example")
    c = qm.inject("alice@example.com", "z@a.example")
    assert postsuper(qm, "-h", c).returncode == 0
    r = postsuper(qm, "-d", "-", input=f"{a}\n\nbad/id\n{c}\n")
    assert r.returncode == 0, r.stderr
    assert "invalid queue id on standard input: bad/id" in r.stderr
    assert r.stderr.splitlines()[-1] == "postsuper: Deleted: 2 messages"
    assert qm.files("incoming") == [b] and qm.files("hold") == []
    # Restricted to hold, ALL finds nothing in incoming.
    r = postsuper(qm, "-d", "ALL", "hold")
    assert r.stderr.splitlines()[-1] == "postsuper: Deleted: 0 messages"
    assert qm.files("incoming") == [b]
    assert f"{a}: removed" in qm.log()
    r = postsuper(qm, "-d", "ALL", "nosuchqueue")
    assert r.returncode == EX_USAGE and "invalid queue name: nosuchqueue" in r.stderr
    r = postsuper(qm)
    assert r.returncode == EX_USAGE and "usage: postsuper" in r.stderr


# ---- -s and -p ----

def test_structure_check_repairs_and_moves_damage_to_corrupt(qm):
    qm.write_main_cf()
    good = qm.inject("alice@example.com", "x@a.example")
    cut = qm.inject("alice@example.com", "y@a.example")
    renamed = qm.inject("alice@example.com", "z@a.example")
    spool = qm.spool
    path = spool / "incoming" / cut
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - 10)
    os.chmod(spool / "incoming" / good, 0o644)
    # A name that is a valid id but not this file's inode.
    wrong = "1xVDXXXX00" + "9"
    os.rename(spool / "incoming" / renamed, spool / "incoming" / wrong)
    # A complete queue file dropped into maildrop.
    moved = qm.inject("alice@example.com", "w@a.example")
    os.rename(spool / "incoming" / moved, spool / "maildrop" / moved)
    (spool / "incoming" / "junk name").write_text("x")
    if IS_ROOT:
        # Root's file is given to mail_owner; one with a second name is not.
        owned = qm.inject("alice@example.com", "v@a.example")
        linked = qm.inject("alice@example.com", "u@a.example")
        for qid in (owned, linked):
            os.chown(spool / "incoming" / qid, 0, 0)
        os.link(spool / "incoming" / linked, qm.base / "second-name")

    r = postsuper(qm, "-s")
    assert r.returncode == 0, r.stderr
    err = r.stderr
    assert re.search(rf"postsuper: warning: {cut}: damaged queue file in incoming "
                     rf"\(offset \d+: [^)]+\); moved to corrupt", err), err
    assert qm.files("corrupt") == [cut]
    assert "Moved to corrupt: 1 message" in err
    assert f"mode was 0644; set to 0600" in err
    assert (spool / "incoming" / good).stat().st_mode & 0o777 == 0o600
    m = re.search(rf"postsuper: {wrong}: renamed to (\w+) \(the name did not match the inode", err)
    assert m, err
    new = m.group(1)
    assert f"{moved}: queue file in maildrop; moved to incoming" in err
    assert "junk name: not a queue file name; left alone" in err
    expect = [good, new, moved, "junk name"]
    if IS_ROOT:
        nobody = pwd.getpwnam(NOBODY).pw_uid
        assert f"incoming/{owned}: owner was uid 0; set to mail_owner" in err
        assert (spool / "incoming" / owned).stat().st_uid == nobody
        assert f"incoming/{linked}: owned by uid 0, not mail_owner; not changed " \
               "(it has another name)" in err
        assert (spool / "incoming" / linked).stat().st_uid == 0
        assert re.search(rf"incoming/{linked}: cannot check: .*Permission denied", err)
        expect += [owned, linked]
    assert sorted(qm.files("incoming")) == sorted(expect)
    # A second run finds nothing more to do.
    again = postsuper(qm, "-s")
    assert "Moved to corrupt: 0 messages" in again.stderr
    assert "Renamed to match inode number: 0 messages" in again.stderr

    # postcat says where the truncated file breaks.
    pc = run([POSTCAT, "-c", qm.dir, "-q", cut])
    assert pc.returncode == 1
    assert re.search(rf"postcat: fatal: .*{cut}: offset \d+: ", pc.stderr), pc.stderr


def test_purge_removes_old_temporaries_and_stale_logs_only(qm):
    qm.write_main_cf()
    spool = qm.spool
    live = qm.inject("alice@example.com", "x@a.example")
    old = time.time() - 3600
    files = {
        "old_temp": spool / "incoming" / ".t12345",
        "new_temp": spool / "maildrop" / ".t67890",
        "stale_log": spool / "defer" / "1xVDXXXX00zz",
        "live_log": spool / "defer" / live,
        "old_bounce_temp": spool / "bounce" / ".t999",
    }
    for name, p in files.items():
        p.write_bytes(b"x")
        if name != "new_temp":
            os.utime(p, (old, old))
    r = postsuper(qm, "-p")
    assert r.returncode == 0, r.stderr
    assert not files["old_temp"].exists() and not files["stale_log"].exists()
    assert not files["old_bounce_temp"].exists()
    assert files["new_temp"].exists() and files["live_log"].exists()
    assert "postsuper: Deleted: 1 temporary file" in r.stderr
    assert "postsuper: Deleted: 2 stale log files" in r.stderr
    assert qm.files("incoming") == [live]


# ---- who may do what ----

OTHER = "daemon"


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run as other users")
def test_only_root_and_mail_owner_run_postsuper_and_acls_apply(qm):
    qm.write_main_cf(authorized_mailq_users="root", authorized_flush_users="root")
    qid = qm.inject("alice@example.com", "x@a.example")
    r = postsuper(qm, "-d", "ALL", user=OTHER)
    assert r.returncode == EX_NOPERM
    assert r.stderr == ("postsuper: fatal: use of this command is reserved for root and "
                        f"mail_owner ({NOBODY})\n")
    assert qm.files("incoming") == [qid]
    # mail_owner may.
    r = postsuper(qm, "-h", qid, user=NOBODY)
    assert r.returncode == 0 and qm.files("hold") == [qid], r.stderr

    # authorized_mailq_users and authorized_flush_users.
    uid = pwd.getpwnam(NOBODY).pw_uid
    r = postqueue(qm, "-p", user=NOBODY)
    assert r.returncode == EX_NOPERM
    assert r.stderr == f"postqueue: fatal: User {NOBODY}({uid}) is not allowed to view the " \
                       "mail queue\n"
    r = postqueue(qm, "-f", user=NOBODY)
    assert r.returncode == EX_NOPERM and "is not allowed to flush the mail queue" in r.stderr
    assert postqueue(qm, "-p").returncode == 0  # root always may
    qm.write_main_cf(authorized_mailq_users=f"root, {NOBODY}, {OTHER}")
    r = postqueue(qm, "-p", user=NOBODY)
    assert r.returncode == 0 and f"{qid}!" in r.stdout, r.stderr
    # On the list but without access to the queue (mode 0700, as postern
    # init makes it) and no showq to ask (test_showq.py has one): nothing
    # is shown, and the mail system counts as down.
    for q in ("maildrop", "incoming", "active", "deferred", "hold"):
        os.chmod(qm.spool / q, 0o700)
    r = postqueue(qm, "-j", user=OTHER)
    assert r.returncode == 69, r.stderr
    assert "cannot list the queue (is the mail system down?)" in r.stderr
    assert r.stdout == ""


# ---- side by side with Postfix ----

def shape(listing):
    """A listing with ids, sizes and times taken out (their columns kept), as
    a sorted list of blocks, and its first and last lines."""
    blocks, footer = parse_listing(listing)
    lines = listing.splitlines()
    return sorted((mark, sender, cols, tuple(rest)) for _, mark, sender, rest, cols in blocks), \
        lines[0], re.sub(r"\d+ Kbytes", "N Kbytes", footer)


@pytest.fixture
def postfix_instance():
    if not IS_ROOT or not shutil.which("postfix") or not os.path.exists(
            "/etc/postfix/master.cf.proto") and not os.path.exists("/usr/share/postfix/master.cf.dist"):
        pytest.skip("needs root and Debian's postfix")
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-pf-"))
    base.chmod(0o755)  # the postfix account must reach data/
    etc, spool, data = base / "etc", base / "spool", base / "data"
    for d in (etc, spool, data):
        d.mkdir()
    shutil.chown(data, "postfix")
    proto = pathlib.Path("/usr/share/postfix/master.cf.dist")
    if not proto.exists():
        proto = pathlib.Path("/etc/postfix/master.cf.proto")
    shutil.copy(proto, etc / "master.cf")
    (etc / "main.cf").write_text("compatibility_level = 3.6\n")
    settings = [f"queue_directory={spool}", f"data_directory={data}",
                "inet_interfaces=127.0.0.1", f"maillog_file={base}/maillog",
                f"maillog_file_prefixes={base}", "alias_maps=", "alias_database=",
                "myhostname=pf.example", "mydestination=", "relayhost=",
                "default_transport=smtp", "smtp_dns_support_level=disabled",
                "transport_maps=inline:{a.example=smtp:[127.0.0.1]:9, "
                "b.example=smtp:[127.0.0.1]:9, c.example=smtp:[127.0.0.1]:9}",
                "minimal_backoff_time=3000s", "maximal_backoff_time=4000s",
                "queue_run_delay=3000s", "shlib_directory=/usr/lib/postfix",
                "enable_long_queue_ids=yes"]
    subprocess.run(["postconf", "-c", etc, "-e", *settings], check=True)
    subprocess.run(["postconf", "-c", etc, "-F", "*/*/chroot = n"], check=True)
    subprocess.run(["postconf", "-c", etc, "-M#", "smtp/inet"], check=True)
    r = subprocess.run(["postfix", "-c", etc, "start"], capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"private postfix did not start: {r.stderr}")
    yield etc, spool, base
    subprocess.run(["postfix", "-c", etc, "stop"], capture_output=True)
    pidfile = spool / "pid" / "master.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().split()[0]), 9)
        except (ProcessLookupError, ValueError):
            pass
    shutil.rmtree(base, ignore_errors=True)


def test_listing_shape_matches_postfix(qm, postfix_instance):
    etc, spool, base = postfix_instance
    # Postfix (long queue ids, like Postern's): 4 deferred to two unreachable
    # destinations, 2 of them then held.
    for dom in ("a.example", "b.example"):
        for i in range(2):
            subprocess.run(["sendmail", "-C", etc, "-f", "alice@example.com", f"u{i}@{dom}"],
                           input="Subject: t\n\nhello\n", text=True, check=True,
                           env={**os.environ, "MAIL_CONFIG": str(etc)})
    deadline = time.time() + 60
    while True:
        j = subprocess.run(["postqueue", "-c", etc, "-j"], capture_output=True, text=True)
        objs = [json.loads(l) for l in j.stdout.splitlines()]
        if len(objs) == 4 and all(o["queue_name"] == "deferred" and
                                  "delay_reason" in o["recipients"][0] for o in objs):
            break
        assert time.time() < deadline, j.stdout + (base / "maillog").read_text()
        time.sleep(0.5)
    # Each recipient's own reason (Postfix words a second failure to one
    # site as "delivery temporarily suspended: ...").
    reasons = {o["recipients"][0]["address"]: o["recipients"][0]["delay_reason"] for o in objs}
    held = sorted(o["queue_id"] for o in objs if o["recipients"][0]["address"].startswith("u0"))
    subprocess.run(["postsuper", "-c", etc, "-h", "-"], input="\n".join(held) + "\n",
                   text=True, check=True, capture_output=True)
    pf = subprocess.run(["postqueue", "-c", etc, "-p"], capture_output=True, text=True)

    # Postern: the same queue, the agent giving Postfix's own reasons.
    qm.start(minimal_backoff_time="3000s", maximal_backoff_time="4000s")
    qm.agent("smtp", lambda a: ("4.4.1", reasons[a]))
    ids = {}
    for dom in ("a.example", "b.example"):
        for i in range(2):
            ids[f"u{i}@{dom}"] = qm.inject("alice@example.com", f"u{i}@{dom}")
    qm.trigger()
    qm.wait(lambda: len(qm.files("deferred")) == 4 and qm.idle(), what="deferrals")
    for rcpt in ("u0@a.example", "u0@b.example"):
        assert postsuper(qm, "-h", ids[rcpt]).returncode == 0
    ours = postqueue(qm, "-p")
    assert shape(ours.stdout) == shape(pf.stdout), f"Postfix:\n{pf.stdout}\nPostern:\n{ours.stdout}"


# ---- a whole instance: sendmail, pickup, qmgr, local ----

def test_instance_hold_release_after_routing_change_delivers(live):
    """Mail for a domain with no transport (smtp is not built here) defers;
    held, then released after the domain became local, it is delivered."""
    from live import wait_until
    inst = live.inst
    rcpt = f"{live.login}@remote.example"
    live.sendmail([rcpt], "Subject: held\n\nbody\n")
    assert wait_until(lambda: len(list((inst.spool / "deferred").iterdir())) == 1), live.log()
    (qid,) = [p.name for p in (inst.spool / "deferred").iterdir()]

    # The instance's own user (mail_owner here) lists and holds.
    r = run([POSTQUEUE, "-c", inst.dir, "-p"], user=inst.user)
    assert r.returncode == 0, r.stderr
    assert "(mail transport unavailable)" in r.stdout and rcpt in r.stdout
    r = run([POSTSUPER, "-c", inst.dir, "-h", "ALL"], user=inst.user)
    assert r.returncode == 0 and f"{qid}: placed on hold" in r.stderr, r.stderr
    assert "!" in run([POSTQUEUE, "-c", inst.dir, "-p"], user=inst.user).stdout

    r = inst.postconf("-e", "mydestination=$myhostname, localhost, remote.example")
    assert r.returncode == 0, r.stderr
    assert inst.postern("reload", env=live.env).returncode == 0
    r = run([POSTSUPER, "-c", inst.dir, "-H", qid], user=inst.user)
    assert r.returncode == 0 and f"{qid}: released from hold" in r.stderr, r.stderr
    assert wait_until(lambda: f"{qid}: removed" in live.log()), live.log()
    assert [m["Subject"] for m in live.messages(live.mbox)] == ["held"]
    assert run([POSTQUEUE, "-c", inst.dir, "-p"], user=inst.user).stdout == \
        "Mail queue is empty\n"
    assert f"postern/postsuper[" in live.log()

"""System tests for virtual(8), the virtual mailbox delivery agent.

Two layers, as for local (test_local.py, whose helpers are reused):

* Direct: virtual runs stand-alone (-S unix:SOCKET) in a private
  instance; the test writes queue files and speaks qmgr's side of the
  delivery protocol. As root, virtual also runs as root, as master.cf has
  it, and each mailbox must end up owned by its mapped uid and gid.
* End to end: a started instance with smtpd on a loopback port, qmgr and
  virtual (virtual_transport = virtual, the default), loaded with
  Postfix's smtp-source or smtplib.

Mailboxes are read back with Python's mailbox module. Every process a
test starts is stopped at the end, pass or fail.
"""

import mailbox
import os
import pathlib
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import IS_ROOT, NOBODY
from live import instance_pids, wait_until
from live import server_factory  # noqa: F401  (a fixture used below)
from test_local import LIBEXEC, LocalAgent, only_message, stop_agents


class VirtualAgent(LocalAgent):
    program = "virtual"


def need_virtual():
    path = LIBEXEC / "virtual"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built")


TABLE = ("inline:{ alice@virt.example=virt.example/alice/, "
         "bob@virt.example=virt.example/bob/mbox, "
         "@catchall.example=catchall/ }")


@pytest.fixture
def agent_factory():
    """make(root, **settings): a stand-alone virtual serving a private
    instance whose virtual_mailbox_base is agent.vbase. root: virtual runs
    as root (privileged; needs root), else as nobody (when the tests run
    as root) or as the invoking user."""
    need_virtual()
    made, bases = [], []

    def make(root=False, **settings):
        if root and not IS_ROOT:
            pytest.skip("needs root")
        base = pathlib.Path(tempfile.mkdtemp(prefix="postern-virtual-"))
        bases.append(base)
        os.chmod(base, 0o755)
        user = NOBODY if IS_ROOT and not root else None
        vbase = base / "vmail"
        conf = {"virtual_mailbox_base": str(vbase), "virtual_mailbox_maps": TABLE,
                "virtual_uid_maps": "static:5000", "virtual_gid_maps": "static:5001"}
        if root:
            conf.update(mail_owner=NOBODY, default_privs=NOBODY)
        conf.update(settings)
        a = VirtualAgent(base / "instance", user, conf)
        vbase.mkdir()
        # The owners create their own directories below the base.
        vbase.chmod(0o1777)
        a.chown_all()
        if root:
            os.chmod(a.dir, 0o755)
        a.vbase = vbase
        made.append(a)
        a.start()
        return a

    yield make
    stop_agents(made, bases)


def maildir_messages(path):
    return list(mailbox.Maildir(str(path), factory=None, create=False))


def test_maildir_and_mbox_delivery_with_added_headers(agent_factory):
    a = agent_factory()
    lines = ["From: s@example.org", "Subject: hello", "", "first", "From the body", "last"]
    qid, replies = a.deliver("s@example.org", ["alice@virt.example", "Bob@Virt.Example"], lines)
    assert [replies[i]["status"] for i in (0, 1)] == ["2.0.0", "2.0.0"], replies
    assert replies[0]["action"] == "delivered"
    [msg] = maildir_messages(a.vbase / "virt.example" / "alice")
    assert msg["Return-Path"] == "<s@example.org>"
    assert msg["Delivered-To"] == "alice@virt.example"
    assert msg["X-Original-To"] == "alice@virt.example"
    assert msg.get_payload() == "first\nFrom the body\nlast\n"  # no quoting in a Maildir
    mbox_msg = only_message(a.vbase / "virt.example" / "bob" / "mbox")
    assert mbox_msg["Delivered-To"] == "bob@virt.example"
    assert mbox_msg.get_payload() == "first\n>From the body\nlast\n"
    raw = (a.vbase / "virt.example" / "bob" / "mbox").read_text()
    assert raw.startswith("From s@example.org  ")
    log = a.logtext()
    assert re.search(rf"{qid}: to=<alice@virt.example>, relay=virtual, delay=[0-9.]+, "
                     r"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, "
                     r"status=sent \(delivered to maildir\)", log), log
    assert "status=sent (delivered to mailbox)" in log


def test_extension_and_catch_all_lookups(agent_factory):
    a = agent_factory(recipient_delimiter="+")
    _, replies = a.deliver("s@example.org", ["alice+news@virt.example", "anyone@catchall.example"])
    assert [replies[i]["status"] for i in (0, 1)] == ["2.0.0", "2.0.0"], replies
    [msg] = maildir_messages(a.vbase / "virt.example" / "alice")
    assert msg["Delivered-To"] == "alice+news@virt.example"
    assert len(maildir_messages(a.vbase / "catchall")) == 1


OWNER_TABLE = ("inline:{ alice@virt.example=virt.example/alice/, "
               "owner@virt.example=virt.example/owner/ }")


@pytest.mark.parametrize("special, owner_status", [("yes", "5.1.1"), ("no", "2.0.0")])
def test_owner_request_special_keeps_owner_names_whole(agent_factory, special, owner_status):
    """With '-' as recipient_delimiter, owner-list is not owner's extension
    "list" unless owner_request_special is off (Postfix's split_addr)."""
    a = agent_factory(recipient_delimiter="-", owner_request_special=special,
                      virtual_mailbox_maps=OWNER_TABLE)
    _, replies = a.deliver("s@example.org", ["alice-news@virt.example", "owner-list@virt.example"])
    assert [replies[i]["status"] for i in (0, 1)] == ["2.0.0", owner_status], replies
    assert len(maildir_messages(a.vbase / "virt.example" / "alice")) == 1


def test_unknown_mailbox_bounces_5_1_1(agent_factory):
    a = agent_factory()
    qid, replies = a.deliver("s@example.org", ["carol@virt.example"])
    assert replies[0]["status"] == "5.1.1", replies
    assert replies[0]["action"] == "failed"
    assert 'unknown user: "carol@virt.example"' in replies[0]["reason"]
    assert f"{qid}: to=<carol@virt.example>, relay=virtual" in a.logtext()
    assert "status=bounced" in a.logtext()


def test_table_failure_defers_4_3_0(agent_factory, tmp_path):
    a = agent_factory(virtual_mailbox_maps=f"hash:{tmp_path}/no-such-table")
    _, replies = a.deliver("s@example.org", ["alice@virt.example"])
    assert replies[0]["status"] == "4.3.0", replies
    assert replies[0]["action"] == "deferred"
    assert not (a.vbase / "virt.example").exists()


def test_path_outside_the_base_defers(agent_factory):
    a = agent_factory(virtual_mailbox_maps="inline:{ alice@virt.example=../escape/ }")
    _, replies = a.deliver("s@example.org", ["alice@virt.example"])
    assert replies[0]["status"] == "4.3.5", replies
    assert "is not below virtual_mailbox_base" in a.logtext()
    assert not (a.vbase.parent / "escape").exists()


def test_delivered_to_loop_bounces(agent_factory):
    a = agent_factory()
    _, replies = a.deliver("s@example.org", ["alice@virt.example"],
                           ["Delivered-To: Alice@virt.example", "Subject: x", "", "body"])
    assert replies[0]["status"] == "5.4.6", replies
    assert "mail forwarding loop for alice@virt.example" in replies[0]["reason"]


def test_mbox_over_the_limit_bounces_and_keeps_the_mailbox(agent_factory):
    a = agent_factory(virtual_mailbox_limit="2000")
    _, replies = a.deliver("s@example.org", ["bob@virt.example"])
    assert replies[0]["status"] == "2.0.0", replies
    path = a.vbase / "virt.example" / "bob" / "mbox"
    before = path.read_bytes()
    _, replies = a.deliver("s@example.org", ["bob@virt.example"],
                           ["Subject: big", "", "x" * 3000])
    assert replies[0]["status"] == "5.2.2", replies
    assert path.read_bytes() == before


# ---- started as root: written as the mapped owner ----

def test_root_writes_as_the_mapped_uid_and_gid(agent_factory):
    a = agent_factory(root=True)
    _, replies = a.deliver("s@example.org", ["alice@virt.example", "bob@virt.example"])
    assert [replies[i]["status"] for i in (0, 1)] == ["2.0.0", "2.0.0"], replies
    alice = a.vbase / "virt.example" / "alice"
    [name] = os.listdir(alice / "new")
    for path, mode in ((alice / "new" / name, 0o600), (alice, 0o700), (alice / "new", 0o700),
                       (a.vbase / "virt.example" / "bob" / "mbox", 0o600)):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (5000, 5001, mode), path
    # Back to root between deliveries: a second message to another owner.
    os.chmod(a.dir, 0o755)
    with open(a.dir / "main.cf", "a") as f:
        f.write("virtual_uid_maps = inline:{ alice@virt.example=5002, @virt.example=5000 }\n")
    a.stop()
    a.start()
    _, replies = a.deliver("s@example.org", ["alice@virt.example"])
    assert replies[0]["status"] == "4.2.0", replies  # alice/ belongs to 5000, not 5002
    assert "Permission denied" in replies[0]["reason"]
    _, replies = a.deliver("s@example.org", ["bob@virt.example"])
    assert replies[0]["status"] == "2.0.0", replies


def test_root_refuses_a_uid_below_virtual_minimum_uid(agent_factory):
    a = agent_factory(root=True, virtual_uid_maps="static:50")
    _, replies = a.deliver("s@example.org", ["alice@virt.example"])
    assert replies[0]["status"] == "4.3.5", replies
    assert replies[0]["action"] == "deferred"
    assert "uid 50 in virtual_uid_maps is below virtual_minimum_uid 100" in a.logtext()
    assert not (a.vbase / "virt.example").exists()


@pytest.mark.parametrize("maps", [
    {"virtual_uid_maps": "static:4294967296"},           # wraps to uid 0
    {"virtual_uid_maps": "static:4294967295"},           # (uid_t)-1: seteuid leaves root
    {"virtual_uid_maps": "static:99999999999999999999"},  # strtol overflow
    {"virtual_gid_maps": "static:4294967296"},           # wraps to gid 0
])
def test_root_refuses_an_id_that_is_not_a_valid_uid_or_gid(agent_factory, maps):
    a = agent_factory(root=True, **maps)
    _, replies = a.deliver("s@example.org", ["alice@virt.example"])
    assert replies[0]["status"] == "4.3.5", replies
    assert replies[0]["action"] == "deferred"
    assert "in virtual_" in a.logtext()
    assert not (a.vbase / "virt.example").exists()


def test_root_defers_without_a_uid(agent_factory):
    a = agent_factory(root=True, virtual_uid_maps="inline:{ bob@virt.example=5000 }")
    _, replies = a.deliver("s@example.org", ["alice@virt.example"])
    assert replies[0]["status"] == "4.3.5", replies
    assert "uid not found in virtual_uid_maps" in a.logtext()


# ---- end to end: smtpd -> qmgr -> virtual ----

@pytest.fixture
def vmail():
    """A virtual_mailbox_base every instance user can reach and write."""
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-vmail-"))
    base.chmod(0o755)
    vbase = base / "vmail"
    vbase.mkdir()
    vbase.chmod(0o1777)
    yield vbase
    shutil.rmtree(base, ignore_errors=True)


def start_virtual_server(server_factory, vbase):  # noqa: F811
    srv = server_factory("virtual_mailbox_domains=virt.example",
                         f"virtual_mailbox_base={vbase}",
                         "virtual_mailbox_maps=inline:{ user@virt.example=virt.example/user/ }",
                         services=("qmgr", "virtual"))
    return srv, vbase / "virt.example" / "user"


def smtp_source(port, messages, sessions, subject_tag):
    """Postfix's smtp-source: messages over sessions connections."""
    exe = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    if not os.access(exe, os.X_OK):
        pytest.skip("smtp-source (Debian postfix) not installed")
    return subprocess.run([exe, "-s", str(sessions), "-m", str(messages), "-l", "1024",
                           "-S", subject_tag, "-f", "s@example.org", "-t", "user@virt.example",
                           f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=300)


def delivered(box):
    new = box / "new"
    return len(os.listdir(new)) if new.exists() else 0


def queue_ids_in(box):
    """Postern queue ids of the delivered messages (from their Received:)."""
    ids = []
    for m in maildir_messages(box):
        rcvd = m.get_all("Received") or []
        found = re.search(r"with \S+ id (\w+)", " ".join(rcvd[0].split()))
        ids.append(found.group(1) if found else None)
    return ids


def test_200_messages_in_10_sessions_arrive_exactly_once(server_factory, vmail):  # noqa: F811
    srv, box = start_virtual_server(server_factory, vmail)
    result = smtp_source(srv.port, 200, 10, "load")
    assert result.returncode == 0, result.stderr
    assert wait_until(lambda: delivered(box) >= 200, timeout=120), srv.log()[-3000:]
    time.sleep(1)
    ids = queue_ids_in(box)
    assert len(ids) == 200 and None not in ids and len(set(ids)) == 200
    log = srv.log()
    assert log.count("relay=virtual") == 200, log[-2000:]
    assert "status=sent (delivered to maildir)" in log


def test_sigkill_of_virtual_loses_nothing(server_factory, vmail):  # noqa: F811
    srv, box = start_virtual_server(server_factory, vmail)
    import threading
    result = {}
    load = threading.Thread(target=lambda: result.update(r=smtp_source(srv.port, 300, 10, "k")))
    load.start()
    killed = 0
    deadline = time.time() + 60
    while load.is_alive() and time.time() < deadline:
        for pid in instance_pids(srv.inst.dir):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
            except OSError:
                continue
            if argv0.endswith(b"/virtual"):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
        time.sleep(0.2)
    load.join(300)
    assert result["r"].returncode == 0, result["r"].stderr
    assert killed > 0
    # Deferred mail comes back after the back-off; flush asks for it now.
    srv.inst.postern("flush")
    wait_until(lambda: delivered(box) >= 300, timeout=120)
    ids = queue_ids_in(box)
    assert None not in ids
    assert set(ids) == set(re.findall(r"(\w+): client=", srv.log())), "a message was lost"
    duplicates = len(ids) - len(set(ids))
    # A delivery killed after the link into new/ and before its answer is
    # delivered again: at most one per kill.
    assert duplicates <= killed
    print(f"virtual killed {killed} times; {duplicates} duplicates of 300 messages")

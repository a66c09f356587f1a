"""master starts the queue manager with a better scheduling priority
(qmgr_nice_adjustment) when it runs as root, and no other service.

A real instance made by `postern init` as root, with only its unix
services pickup and qmgr (nothing listens on the network); the nice
values are read from /proc.
"""

import os
import signal

import pytest

from conftest import IS_ROOT, root_owner_settings
from live import instance_pids, stop_instance, wait_until

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="only root may lower a nice value")


def nice_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def comm_of(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def started(inst, *settings):
    """Start inst with pickup and qmgr only; {name: [pid, ...]} once both run."""
    inst.init(*root_owner_settings(), *settings)
    lines = [line for line in inst.master_cf.read_text().splitlines(keepends=True)
             if line.split()[:1] in (["pickup"], ["qmgr"])]
    inst.master_cf.write_text("".join(lines))
    r = inst.postern("start")
    assert r.returncode == 0, r.stderr

    def procs():
        found = {}
        for pid in instance_pids(inst.dir):
            try:
                found.setdefault(comm_of(pid), []).append(pid)
            except OSError:
                pass
        return found if {"master", "pickup", "qmgr"} <= found.keys() else None
    found = wait_until(procs, timeout=10)
    assert found, f"not all of master, pickup, qmgr started: {procs()}"
    return found


@pytest.fixture
def inst(new_instance):
    yield new_instance
    stop_instance(new_instance, None)


def test_qmgr_runs_ten_below_master_by_default_and_nothing_else_moves(inst):
    procs = started(inst)
    master = nice_of(min(procs["master"]))
    assert [nice_of(p) for p in procs["qmgr"]] == [max(-20, master - 10)]
    assert [nice_of(p) for p in procs["pickup"]] == [master]
    assert [nice_of(p) for p in procs["master"]] == [master] * len(procs["master"])


def test_adjustment_zero_leaves_qmgr_at_masters_priority(inst):
    procs = started(inst, "qmgr_nice_adjustment=0")
    master = nice_of(min(procs["master"]))
    assert [nice_of(p) for p in procs["qmgr"]] == [master]


def test_a_restarted_qmgr_gets_the_setting_again(inst):
    procs = started(inst, "qmgr_nice_adjustment=-3")
    master = nice_of(min(procs["master"]))
    old = procs["qmgr"][0]
    assert nice_of(old) == max(-20, master - 3)
    os.kill(old, signal.SIGKILL)

    def new_qmgr():
        pids = [p for p in instance_pids(inst.dir) if p != old and comm_of(p) == "qmgr"]
        return pids or None
    pids = wait_until(new_qmgr, timeout=15)
    assert pids, "master did not start a new qmgr"
    assert [nice_of(p) for p in pids] == [max(-20, master - 3)]


def test_a_positive_adjustment_is_refused(inst):
    inst.init(*root_owner_settings())
    inst.append_main_cf("qmgr_nice_adjustment = 5\n")
    r = inst.postern("check")
    assert r.returncode != 0
    assert "qmgr_nice_adjustment" in r.stderr

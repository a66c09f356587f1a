"""Smoke test of bench/run: a tiny side-by-side run completes, prints the
table with a Postern/Postfix ratio, and leaves no directory or process
behind. Needs root and Debian's postfix package (smtp-source, smtp-sink and
a private Postfix instance); skipped otherwise."""

import os
import re
import subprocess

import pytest

from conftest import BUILD, REPO

BENCH = REPO / "bench" / "run"
NUMBER = r"\d+\.\d"


@pytest.mark.skipif(not all(os.access(p, os.X_OK) for p in
                            ("/usr/sbin/postfix", "/usr/sbin/smtp-source", "/usr/sbin/smtp-sink")),
                    reason="needs Debian's postfix package")
@pytest.mark.skipif(os.geteuid() != 0, reason="the Postfix side needs root")
def test_bench_run_prints_the_table_with_a_ratio_and_cleans_up():
    env = dict(os.environ, POSTERN_BUILD=str(BUILD))
    env.pop("MAIL_CONFIG", None)
    r = subprocess.run(["/usr/bin/python3", str(BENCH), "-n", "50", "-s", "2"], env=env,
                       capture_output=True, text=True, timeout=120)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    header = re.search(r"^workload +Postern msg/s +Postfix msg/s +ratio +Postern peak RSS +"
                       r"Postfix peak RSS$", out, re.M)
    assert header, out
    row = re.search(rf"^smtp -> virtual Maildir +({NUMBER}) +({NUMBER}) +(\d+\.\d\d) +"
                    rf"({NUMBER}) MiB +({NUMBER}) MiB$", out, re.M)
    assert row, out
    pern, pfix, ratio = float(row[1]), float(row[2]), float(row[3])
    assert pern > 0 and pfix > 0
    assert abs(ratio - pern / pfix) < 0.01 + 0.01 * ratio
    assert float(row[4]) > 0 and float(row[5]) > 0
    # Two rounds of each, alternating, each with all 50 messages.
    rounds = re.findall(r"^  (Postern|Postfix) +smtp -> virtual Maildir +round (\d): +50 msgs",
                        out, re.M)
    assert rounds == [("Postern", "1"), ("Postfix", "1"), ("Postern", "2"), ("Postfix", "2")], out
    # Per-process-name peaks for both MTAs.
    assert re.search(r"^  Postern +smtp -> virtual Maildir +.*\bsmtpd \d", out, re.M), out
    assert re.search(r"^  Postfix +smtp -> virtual Maildir +.*\bvirtual \d", out, re.M), out
    if (BUILD / "libexec" / "smtp").exists():
        assert re.search(rf"^smtp -> relay smtp-sink +{NUMBER} +{NUMBER} +\d+\.\d\d ", out,
                         re.M), out
    else:
        assert "relay workload skipped: no smtp client built" in out
    # Nothing left behind: its temporary directory, or a process using it.
    top = re.search(r"temporary directory (\S+)", out)[1]
    assert not os.path.exists(top)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/environ", "rb") as f:
                cmd += f.read()
        except OSError:
            continue
        if top.encode() in cmd:
            left.append(pid)
    assert left == [], left


def test_bench_run_refuses_bad_options():
    r = subprocess.run(["/usr/bin/python3", str(BENCH), "-n", "0"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert "must be positive" in r.stderr


# ---- bench/tables ----

TABLES = REPO / "bench" / "tables"


@pytest.mark.skipif(not all(os.access(p, os.X_OK) for p in ("/usr/sbin/postmap", "/usr/bin/time")),
                    reason="needs Debian's postfix and time packages")
def test_bench_tables_prints_every_measure_with_a_ratio_and_cleans_up():
    env = dict(os.environ, POSTERN_BUILD=str(BUILD))
    env.pop("MAIL_CONFIG", None)
    r = subprocess.run(["/usr/bin/python3", str(TABLES), "-n", "3000", "-q", "400", "-r", "1"],
                       env=env, capture_output=True, text=True, timeout=300)
    out = r.stdout
    assert r.returncode == 0, out + r.stderr
    assert re.search(r"^type +measure +Postern +Postfix +ratio$", out, re.M), out
    kinds = ["hash", "btree", "lmdb"]
    if re.search(r"Postfix has no .*lmdb.* support", r.stderr):   # no postfix-lmdb
        kinds.remove("lmdb")
        assert not re.search(r"^lmdb ", out, re.M), out
    for kind in kinds:
        for measure in ("build s", "file MiB", "build peak RSS MiB", "startup ms", "lookup us"):
            row = re.search(rf"^{kind} +{measure} +(\d+\.\d+) +(\d+\.\d+) +(\d+\.\d\d|-)$", out,
                            re.M)
            assert row, (kind, measure, out)
            pern, pfix = float(row[1]), float(row[2])
            if measure not in ("lookup us", "startup ms"):
                assert pern > 0 and pfix > 0, row[0]
            if row[3] != "-" and pfix >= 1:
                assert abs(float(row[3]) - pern / pfix) < 0.01 + 0.02 * float(row[3]), row[0]
    # Both built the same 3000 keys into files of about the same size.
    for kind in kinds:
        row = re.search(rf"^{kind} +file MiB +(\S+) +(\S+)", out, re.M)
        assert 0.5 < float(row[1]) / float(row[2]) < 2
    top = re.search(r"temporary directory (\S+)", out)[1]
    assert not os.path.exists(top)


def test_bench_tables_refuses_bad_options():
    r = subprocess.run(["/usr/bin/python3", str(TABLES), "-n", "0"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2
    assert "must be positive" in r.stderr

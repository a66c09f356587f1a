"""master.cf's chroot column, in an instance started by root.

smtpd and smtp marked chroot=y run confined to queue_directory (their
/proc/PID/root says so), yet mail still goes through them: smtpd queues
it (with STARTTLS, its keys read before the chroot), smtp relays it to
smtp-sink on loopback, through a [host]:port relayhost and through an MX
lookup at dnsmasq (dns_servers, read before the chroot), and their log
lines still reach maillog_file. In the ASan+UBSan build a chrooted smtpd's
sanitizer reports still reach the fixture's log directory. local marked chroot=y is refused with a
clear error and the mail waits in the queue.

The instance is live.py's root_instance; the test needs root.
"""

import os
import signal
import smtplib
import ssl
import subprocess

import pytest

from conftest import BUILD
from live import (ROOT_RECIPIENT, free_port, instance_pids, listening, wait_until)
from live import root_instance, smtp_sink, dnsmasq, pki  # noqa: F401 (fixtures)

POSTCONF = BUILD / "bin" / "postconf"


def postconf(inst_dir, *args):
    r = subprocess.run([POSTCONF, "-c", inst_dir, *args], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def reload(inst_dir, env):
    r = subprocess.run([BUILD / "bin" / "postern", "-c", inst_dir, "reload"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def maillog(inst_dir):
    path = inst_dir / "maillog"
    return path.read_text(errors="replace") if path.exists() else ""


def daemon_pids(inst_dir, name):
    found = []
    for pid in instance_pids(inst_dir):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                prog = os.path.basename(f.read().split(b"\0", 1)[0]).decode()
        except OSError:
            continue
        if prog == name:
            found.append(pid)
    return found


def proc_root(pid):
    return os.readlink(f"/proc/{pid}/root")


def chrooted_relay(inst_dir, env, pki, *main_cf, chroot="y"):
    """smtpd (STARTTLS, key readable by root alone) on a free port and smtp,
    both with chroot (y by default); the port."""
    port = free_port()
    key = pki / "mx.key"
    os.chmod(key, 0o600)
    postconf(inst_dir, "-e", "inet_interfaces=127.0.0.1", "mynetworks=127.0.0.0/8",
             "smtpd_tls_security_level=may", f"smtpd_tls_cert_file={pki}/mx.crt",
             f"smtpd_tls_key_file={key}", "smtp_tls_security_level=none",
             "smtpd_error_sleep_time=0", *main_cf)
    with open(inst_dir / "master.cf", "a") as f:
        f.write(f"127.0.0.1:{port} inet n - {chroot} - - smtpd\n"
                f"smtp unix - - {chroot} - - smtp\n")
    reload(inst_dir, env)
    assert wait_until(lambda: listening(port), 15), maillog(inst_dir)
    return port


def send_starttls(port, inst_dir, pki, rcpt, subject):
    """Send one message over STARTTLS (the certificate checked against the
    test CA); the smtpd's /proc/PID/root, read while the session is open."""
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.check_hostname = False
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("client.example")
        assert c.has_extn("starttls"), maillog(inst_dir)
        c.starttls(context=ctx)
        c.ehlo("client.example")
        roots = {proc_root(pid) for pid in daemon_pids(inst_dir, "smtpd")}
        c.sendmail("sender@example.org", [rcpt],
                   f"From: sender@example.org\nTo: {rcpt}\nSubject: {subject}\n\nhello\n")
    return roots


def test_chrooted_smtpd_and_smtp_relay_to_relayhost_over_starttls(root_instance, smtp_sink,
                                                                   pki):
    inst_dir, _, env = root_instance
    queue = os.path.realpath(postconf(inst_dir, "-h", "queue_directory"))
    sink = free_port()
    dump = smtp_sink(sink)
    port = chrooted_relay(inst_dir, env, pki, f"relayhost=[127.0.0.1]:{sink}")

    roots = send_starttls(port, inst_dir, pki, "user@remote.example", "chroot-relayhost")
    assert roots == {queue}, (roots, queue)

    def sent():
        return "status=sent" in maillog(inst_dir)
    assert wait_until(sent, 30), maillog(inst_dir)
    assert wait_until(lambda: any(b"Subject: chroot-relayhost" in p.read_bytes()
                                  for p in dump.iterdir()), 10)
    smtp = daemon_pids(inst_dir, "smtp")
    assert smtp and {proc_root(pid) for pid in smtp} == {queue}
    log = maillog(inst_dir)
    # Both daemons' lines reached maillog_file from inside the chroot.
    assert "postern/smtpd[" in log and "postern/smtp[" in log, log
    assert "TLS session tickets are off in a chrooted smtpd" in log, log
    assert "not supported" not in log and "fatal" not in log, log


def test_chrooted_smtp_finds_the_mx_through_dns_servers(root_instance, smtp_sink, dnsmasq,
                                                        pki):
    inst_dir, _, env = root_instance
    sink = free_port()
    dump = smtp_sink(sink)
    dns = dnsmasq("--mx-host=chroot.test,mx.chroot.test,10",
                  "--host-record=mx.chroot.test,127.0.0.1")
    port = chrooted_relay(inst_dir, env, pki, f"relayhost=chroot.test:{sink}",
                          f"dns_servers=127.0.0.1:{dns}")

    send_starttls(port, inst_dir, pki, "user@remote.example", "chroot-mx")
    assert wait_until(lambda: "status=sent" in maillog(inst_dir), 30), maillog(inst_dir)
    assert "relay=mx.chroot.test[127.0.0.1]" in maillog(inst_dir), maillog(inst_dir)
    queue = os.path.realpath(postconf(inst_dir, "-h", "queue_directory"))
    smtp = daemon_pids(inst_dir, "smtp")
    assert smtp and {proc_root(pid) for pid in smtp} == {queue}
    assert wait_until(lambda: any(b"Subject: chroot-mx" in p.read_bytes()
                                  for p in dump.iterdir()), 10)


def test_chroot_is_refused_for_local(root_instance):
    inst_dir, cmd_dir, env = root_instance
    mcf = inst_dir / "master.cf"
    lines = mcf.read_text().splitlines(keepends=True)
    mcf.write_text("".join("local unix - n y - - local\n" if l.split()[:1] == ["local"] else l
                           for l in lines))
    reload(inst_dir, env)
    r = subprocess.run([cmd_dir / "sendmail", "-C", inst_dir, "--", ROOT_RECIPIENT], env=env,
                       input="Subject: chroot-local\n\nhello\n", capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert wait_until(lambda: "cannot run chrooted" in maillog(inst_dir), 30), \
        maillog(inst_dir)
    assert "set the chroot column of this service in master.cf to n" in maillog(inst_dir)
    mbox = inst_dir / "mail" / ROOT_RECIPIENT
    assert not mbox.exists() or "chroot-local" not in mbox.read_text()


def sanitizer_log_dir(env):
    """The directory of the instance's ASan reports (ASAN_OPTIONS log_path)."""
    opts = dict(o.split("=", 1) for o in env["ASAN_OPTIONS"].split(":"))
    return os.path.dirname(opts["log_path"])


def text_of(path):
    return open(path, errors="replace").read() if os.path.exists(path) else ""


def maps_libasan(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


@pytest.mark.parametrize("chroot", ["y", "n"])
def test_smtpd_keeps_its_sanitizer_reports(root_instance, pki, chroot):
    """In the ASan+UBSan build every daemon opens its report file at start,
    before any chroot: it holds two descriptors of log_path.PID (ASan's and
    the one handed to UBSan, which would otherwise write to stderr, that is
    /dev/null), and a real ASan report (the SEGV report ASan's signal
    handler writes when the process gets SIGSEGV) lands in that file."""
    inst_dir, _, env = root_instance
    queue = os.path.realpath(postconf(inst_dir, "-h", "queue_directory"))
    logs = sanitizer_log_dir(env)
    port = chrooted_relay(inst_dir, env, pki, chroot=chroot)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("client.example")
        pids = daemon_pids(inst_dir, "smtpd")
        assert pids, maillog(inst_dir)
        if not maps_libasan(pids[0]):
            pytest.skip("not the sanitizer build (make SANITIZE=1)")
        report = f"{logs}/asan.{pids[0]}"
        assert proc_root(pids[0]) == (queue if chroot == "y" else "/")
        fds = os.listdir(f"/proc/{pids[0]}/fd")
        held = [fd for fd in fds if os.readlink(f"/proc/{pids[0]}/fd/{fd}") == report]
        assert len(held) == 2, (report, fds)
        os.kill(pids[0], signal.SIGSEGV)
        assert wait_until(lambda: "AddressSanitizer: SEGV" in text_of(report), 15), \
            os.listdir(logs)
    # The report was wanted here; the fixture fails on any report left.
    os.unlink(report)

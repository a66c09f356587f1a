"""DANE (RFC 7672) in the smtp client, against a validating resolver.

unbound on a loopback port serves a zone signed here with ldns-signzone
(its own trust anchor, so it validates and sets the AD bit) and an
unsigned one it must treat as insecure; a private Postfix instance
presents a certificate from a throwaway CA. The TLSA records name that
certificate's key (DANE-EE), the CA (DANE-TA), or a key nobody has.
"""

import hashlib
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from live import (PrivatePostfix, free_port, mail, make_test_ca,  # noqa: F401 (fixtures)
                  make_test_cert, relay_factory, stop_process, wait_log, wait_until)


def der(path, *args):
    r = subprocess.run(["openssl", *args, "-in", str(path), "-outform", "DER"], capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def spki_sha256(cert):
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"],
                         capture_output=True, timeout=60, check=True).stdout
    r = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                       capture_output=True, timeout=60, check=True)
    return hashlib.sha256(r.stdout).hexdigest()


@pytest.fixture(scope="module")
def dane_world():
    for tool in ("openssl", "unbound", "ldns-keygen", "ldns-signzone"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    if not PrivatePostfix.available:
        pytest.skip("needs root and the postfix package")
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-dane-"))
    d.chmod(0o755)
    make_test_ca(d, "ca")
    make_test_cert(d, "ca", "mx", "mx.dane.test", "mx.ta.test", "mx.bad.test", "mx.none.test",
                   "mx.plain.example")
    (d / "chain.crt").write_bytes((d / "mx.crt").read_bytes() + (d / "ca.crt").read_bytes())
    pf = PrivatePostfix()
    pf.start("smtpd_tls_security_level=may", f"smtpd_tls_cert_file={d}/chain.crt",
             f"smtpd_tls_key_file={d}/mx.key", "smtpd_tls_loglevel=1",
             "relay_domains=dane.test ta.test bad.test none.test plain.example",
             "default_transport=error:not delivered further in this test")
    port = pf.port
    ee = spki_sha256(d / "mx.crt")
    ta = hashlib.sha256(der(d / "ca.crt", "x509")).hexdigest()
    signed = ["$ORIGIN test.", "$TTL 300",
              "@ SOA ns.test. admin.test. 1 3600 600 86400 300", "@ NS ns.test.",
              "ns A 127.0.0.1"]
    for name, tlsa in (("dane", f"3 1 1 {ee}"), ("ta", f"2 0 1 {ta}"),
                       ("bad", "3 1 1 " + "00" * 32), ("none", None)):
        signed += [f"{name} MX 10 mx.{name}", f"mx.{name} A 127.0.0.1"]
        if tlsa:
            signed.append(f"_{port}._tcp.mx.{name} TLSA {tlsa}")
    (d / "test.zone").write_text("\n".join(signed) + "\n")
    (d / "plain.zone").write_text("\n".join([
        "$ORIGIN plain.example.", "$TTL 300",
        "@ SOA ns.plain.example. admin.plain.example. 1 3600 600 86400 300",
        "@ NS ns.plain.example.", "ns A 127.0.0.1", "@ MX 10 mx", "mx A 127.0.0.1",
        f"_{port}._tcp.mx TLSA 3 1 1 {ee}"]) + "\n")
    key = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "test"], cwd=d,
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    subprocess.run(["ldns-signzone", "test.zone", key], cwd=d, capture_output=True, timeout=60,
                   check=True)
    ub_port = free_port()
    (d / "unbound.conf").write_text(f"""server:
  interface: 127.0.0.1
  port: {ub_port}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{d}"
  logfile: "{d}/unbound.log"
  use-syslog: no
  pidfile: ""
  access-control: 127.0.0.0/8 allow
  do-ip6: no
  module-config: "validator iterator"
  trust-anchor-file: "{d}/{key}.ds"
  local-zone: "test." nodefault
  domain-insecure: "plain.example."
auth-zone:
  name: "test."
  zonefile: "{d}/test.zone.signed"
  for-upstream: yes
  for-downstream: no
  fallback-enabled: no
auth-zone:
  name: "plain.example."
  zonefile: "{d}/plain.zone"
  for-upstream: yes
  for-downstream: no
  fallback-enabled: no
remote-control:
  control-enable: no
""")
    ub = subprocess.Popen(["unbound", "-c", str(d / "unbound.conf")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def answers():
            r = subprocess.run(["dig", "@127.0.0.1", "-p", str(ub_port), "+dnssec",
                                "dane.test", "MX"], capture_output=True, text=True, timeout=10)
            return re.search(r"flags:[^;]* ad;", r.stdout) is not None
        if shutil.which("dig"):
            assert wait_until(answers, timeout=15), (d / "unbound.log").read_text()
        else:
            time.sleep(1)
        yield {"dir": d, "postfix": pf, "dns": ub_port}
    finally:
        stop_process(ub)
        pf.stop()
        shutil.rmtree(d, ignore_errors=True)


def start(relay_factory, world, level="dane", *more):
    return relay_factory(f"dns_servers=127.0.0.1:{world['dns']}",
                         f"smtp_tcp_port={world['postfix'].port}",
                         "smtp_dns_support_level=dnssec", f"smtp_tls_security_level={level}",
                         "smtp_tls_loglevel=1", *more)


def test_dane_ee_record_matching_the_servers_key_verifies(relay_factory, dane_world):
    lv = start(relay_factory, dane_world)
    lv.sendmail(["a@dane.test"], mail("dane-ee"))
    wait_log(lv, r"Verified TLS connection established to mx\.dane\.test\[127\.0\.0\.1\]:\d+: "
                 r"TLSv1\.3 with cipher")
    wait_log(lv, r"to=<a@dane\.test>, relay=mx\.dane\.test\[127\.0\.0\.1\]:\d+, .*status=sent")


def test_dane_ta_record_for_the_issuing_ca_verifies(relay_factory, dane_world):
    lv = start(relay_factory, dane_world, "dane-only")
    lv.sendmail(["b@ta.test"], mail("dane-ta"))
    wait_log(lv, r"Verified TLS connection established to mx\.ta\.test\[127\.0\.0\.1\]:\d+")
    wait_log(lv, r"to=<b@ta\.test>, .*status=sent")


def test_a_tlsa_record_no_certificate_matches_defers_4_7_5(relay_factory, dane_world):
    lv = start(relay_factory, dane_world)
    lv.sendmail(["c@bad.test"], mail("mismatch"))
    wait_log(lv, r"Untrusted TLS connection established to mx\.bad\.test\[127\.0\.0\.1\]:\d+")
    wait_log(lv, r"to=<c@bad\.test>, .*dsn=4\.7\.5, status=deferred \(Server certificate not "
                 r"verified \(host mx\.bad\.test\[127\.0\.0\.1\]:\d+: untrusted certificate\)\)")


def test_no_tlsa_records_is_opportunistic_for_dane_and_a_deferral_for_dane_only(relay_factory,
                                                                                dane_world):
    lv = start(relay_factory, dane_world)
    lv.sendmail(["d@none.test"], mail("no tlsa"))
    # No CA file here: opportunistic TLS cannot check the certificate.
    wait_log(lv, r"Untrusted TLS connection established to mx\.none\.test\[127\.0\.0\.1\]:\d+")
    wait_log(lv, r"to=<d@none\.test>, .*status=sent")
    lv2 = start(relay_factory, dane_world, "dane-only")
    lv2.sendmail(["e@none.test"], mail("no tlsa, dane-only"))
    wait_log(lv2, r"to=<e@none\.test>, .*dsn=4\.7\.5, status=deferred \(no validated TLSA "
                  r"records for mx\.none\.test \(dane-only\)\)")


def test_tlsa_records_of_an_unsigned_zone_are_not_trusted(relay_factory, dane_world):
    # plain.example publishes the right TLSA record, but nothing about it
    # is validated: dane must not claim Verified, dane-only must not send.
    lv = start(relay_factory, dane_world)
    lv.sendmail(["f@plain.example"], mail("insecure"))
    wait_log(lv, r"Untrusted TLS connection established to mx\.plain\.example\[127\.0\.0\.1\]")
    wait_log(lv, r"to=<f@plain\.example>, .*status=sent")
    lv2 = start(relay_factory, dane_world, "dane-only")
    lv2.sendmail(["g@plain.example"], mail("insecure, dane-only"))
    wait_log(lv2, r"to=<g@plain\.example>, .*dsn=4\.7\.5, status=deferred \(no validated TLSA "
                  r"records for mx\.plain\.example \(dane-only\)\)")

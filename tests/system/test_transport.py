"""Routing by tables: transport_maps, relocated_maps,
sender_dependent_relayhost_maps and content_filter (qmgr/qmgr_resolve.c,
global/route_tables.c).

Real instances (pickup, qmgr, local, smtp) send to Postfix's smtp-sink on
loopback ports the test picked; what each sink received, the mailbox and
the log show where every recipient went.
"""

import re

from live import free_port, mail, send, wait_log, wait_until
from live import relay_factory, smtp_sink  # noqa: F401 (fixtures)


def sink_files(dump):
    return [p for p in dump.rglob("*") if p.is_file()]


def sink_rcpts(dump):
    """Recipients of every message a smtp-sink dumped."""
    found = []
    for p in sink_files(dump):
        found += re.findall(rb"X-Rcpt-Args: <([^>]*)>", p.read_bytes())
    return sorted(r.decode() for r in found)


def test_transport_maps_send_a_domain_to_a_sink_and_another_to_local(relay_factory, smtp_sink):
    port = free_port()
    dump = smtp_sink(port)
    lv = relay_factory(f"transport_maps=inline:{{ far.test=smtp:[127.0.0.1]:{port}, "
                       "near.test=local: }")
    send(lv, ["alice@far.test", f"{lv.login}@near.test"], mail("routed"))
    wait_log(lv, rf"to=<alice@far\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{port}, .*"
                 r"status=sent")
    wait_log(lv, rf"to=<{lv.login}@near\.test>, relay=local, .*status=sent")
    assert wait_until(lambda: sink_rcpts(dump) == ["alice@far.test"], timeout=10), \
        sink_rcpts(dump)
    assert [m["Subject"] for m in lv.messages(lv.mbox)] == ["routed"]
    assert wait_until(lv.queue_empty, timeout=10)


def test_transport_maps_dot_domain_user_key_wildcard_and_inherited_fields(relay_factory,
                                                                         smtp_sink):
    sub_port, user_port, star_port = free_port(), free_port(), free_port()
    sub, user, star = smtp_sink(sub_port), smtp_sink(user_port), smtp_sink(star_port)
    # ".parent.test" covers subdomains but not parent.test itself (no
    # parent_domain_matches_subdomains for transport_maps); a user@domain
    # key beats its domain (the extension is stripped for it); "*" is the
    # last resort; ":[host]:port" keeps the class's transport (smtp).
    lv = relay_factory(
        f"transport_maps=inline:{{ .parent.test=smtp:[127.0.0.1]:{sub_port}, "
        f"vip@parent.test=:[127.0.0.1]:{user_port}, *=smtp:[127.0.0.1]:{star_port} }}",
        "recipient_delimiter=+")
    send(lv, ["a@mx.parent.test", "vip+tag@parent.test", "b@parent.test", "c@other.test"],
         mail("keys"))
    assert wait_until(lambda: len(sink_files(star)) >= 1 and len(sink_files(sub)) == 1
                      and len(sink_files(user)) == 1, timeout=30), lv.log()
    assert sink_rcpts(sub) == ["a@mx.parent.test"]
    assert sink_rcpts(user) == ["vip+tag@parent.test"]
    assert sink_rcpts(star) == ["b@parent.test", "c@other.test"]
    assert wait_until(lv.queue_empty, timeout=10)


def test_relocated_recipient_bounces_with_its_new_address(relay_factory):
    lv = relay_factory("relocated_maps=inline:{ gone@test.example=new@elsewhere.test }")
    send(lv, ["gone@test.example"], mail("hello old friend"))
    wait_log(lv, r"to=<gone@test\.example>, relay=none, .*dsn=5\.1\.6, status=bounced "
                 r"\(User has moved to new@elsewhere\.test\)")
    assert wait_until(lambda: lv.dsns(), timeout=30), lv.log()
    report = lv.dsns()[0].as_string()
    assert "Status: 5.1.6" in report
    assert "User has moved to new@elsewhere.test" in report


def test_content_filter_sends_every_recipient_to_the_filter(relay_factory, smtp_sink):
    port = free_port()
    dump = smtp_sink(port)
    lv = relay_factory(f"content_filter=smtp:[127.0.0.1]:{port}")
    send(lv, [lv.addr, "bob@remote.test"], mail("filter me"))
    assert wait_until(lambda: sink_rcpts(dump) == sorted([lv.addr, "bob@remote.test"]),
                      timeout=30), lv.log()
    # Nothing reached the local mailbox: the filter has the message.
    assert lv.messages(lv.mbox) == []
    assert wait_until(lv.queue_empty, timeout=10)


def test_sender_dependent_relayhost_replaces_relayhost(relay_factory, smtp_sink):
    main_port, special_port = free_port(), free_port()
    main_dump, special_dump = smtp_sink(main_port), smtp_sink(special_port)
    lv = relay_factory(f"relayhost=[127.0.0.1]:{main_port}",
                       "sender_dependent_relayhost_maps=inline:{ "
                       f"@special.test=[127.0.0.1]:{special_port}, dunno@special.test=DUNNO }}")
    args = ["--", "x@remote.test"]
    for sender in ("someone@special.test", "plain@test.example", "dunno@special.test"):
        r = send_as(lv, sender, args, mail(f"from {sender}"))
        assert r.returncode == 0, r.stderr
    assert wait_until(lambda: len(sink_files(special_dump)) == 1
                      and len(sink_files(main_dump)) == 2, timeout=30), lv.log()
    assert b"X-Mail-Args: <someone@special.test>" in sink_files(special_dump)[0].read_bytes()


def send_as(lv, sender, args, text):
    from conftest import run as run_cmd
    from live import BIN
    return run_cmd([BIN / "sendmail", "-C", lv.dir, "-i", "-f", sender, *args],
                   user=lv.inst.user, input=text)


def test_transport_table_error_defers_with_4_3_0_and_keeps_the_mail(relay_factory):
    lv = relay_factory("transport_maps=fail:broken")
    send(lv, ["someone@remote.test"], mail("waits"))
    wait_log(lv, r"to=<someone@remote\.test>, relay=none, .*dsn=4\.3\.0, status=deferred "
                 r"\(address resolver failure\)")
    assert re.search(r"warning: .*<someone@remote\.test>: transport_maps: fail:broken",
                     lv.log()), lv.log()
    # qmgr logs the deferral before it moves the file into deferred/.
    deferred = lv.dir / "spool" / "deferred"
    assert wait_until(lambda: any(deferred.rglob("*")), timeout=10), lv.log()
    assert lv.dsns() == []

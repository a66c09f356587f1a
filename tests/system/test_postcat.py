"""postcat on queue and maildrop files made here, byte by byte.

The files are encoded by this test from docs/PROTOCOLS.md, not by Postern's
own writer, so a format bug on either side shows up as a disagreement.
"""

import os
import random
import subprocess

import pytest

from conftest import program


def rec(rtype, payload=b""):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    length = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        length.append(b | (0x80 if n else 0))
        if not n:
            break
    return rtype.encode() + bytes(length) + payload


def queue_file(envelope, content, sizes=None):
    """V S <envelope> M <content> E, the S record computed unless given.

    Returns (bytes, offsets): offsets of every record, in order."""
    records = [rec("V", "1"), None] + list(envelope) + [rec("M")] + list(content) + [rec("E")]
    s_len = len(rec("S", " " * 47))
    head = len(records[0]) + s_len
    content_offset = head + sum(len(r) for r in envelope) + len(rec("M"))
    rcpts = sum(1 for r in envelope if r[:1] in (b"R", b"D"))
    if sizes is None:
        body_bytes = 0
        for r in content:
            body_bytes += len(r) - 2 + (1 if r[:1] == b"L" else 0)
        sizes = (content_offset, body_bytes, rcpts)
    records[1] = rec("S", "%15d %15d %15d" % sizes)
    offsets, off = [], 0
    for r in records:
        offsets.append(off)
        off += len(r)
    return b"".join(records), offsets


ENVELOPE = [
    rec("T", "1700000000.000000"),
    rec("F", "alice@example.com"),
    rec("A", "protocol=ESMTP"),
    rec("O", "postmaster"),
    rec("n", "6"),
    rec("R", "bob@example.org"),
    rec("D", "carol@example.org"),
]
CONTENT = [
    rec("L", "Subject: hello"),
    rec("L", " folded"),
    rec("L", "To: bob@example.org"),
    rec("L", ""),
    rec("P", "long "),
    rec("P", "line "),
    rec("L", "joined"),
    rec("L", b"8-bit \xc3\xa9\xff"),
]


def postcat(*args, input_file=None):
    cmd = [str(program("postcat")), *[str(a) for a in args]]
    env = {k: v for k, v in os.environ.items() if k != "MAIL_CONFIG"}
    env["TZ"] = "UTC"
    return subprocess.run(cmd, capture_output=True, timeout=30, env=env)


@pytest.fixture
def qfile(tmp_path):
    data, offsets = queue_file(ENVELOPE, CONTENT)
    path = tmp_path / "4Xb1AbCdEf"
    path.write_bytes(data)
    return path, data, offsets


def test_prints_envelope_contents_and_end_in_postfix_shape(qfile):
    path, _, _ = qfile
    r = postcat(path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    out = r.stdout.split(b"\n")
    assert out[0] == b"*** ENVELOPE RECORDS %s ***" % bytes(path)
    assert out[1].startswith(b"message_size: ")
    assert out[2] == b"message_arrival_time: Tue Nov 14 22:13:20 2023"
    assert out[3:9] == [b"sender: alice@example.com", b"named_attribute: protocol=ESMTP",
                        b"original_recipient: postmaster", b"dsn_notify_flags: 6",
                        b"recipient: bob@example.org", b"done_recipient: carol@example.org"]
    assert out[9] == b"*** MESSAGE CONTENTS %s ***" % bytes(path)
    assert out[10:16] == [b"Subject: hello", b" folded", b"To: bob@example.org", b"",
                          b"long line joined", b"8-bit \xc3\xa9\xff"]
    assert out[16] == b"*** MESSAGE FILE END %s ***" % bytes(path)
    assert out[17:] == [b""]


def test_sections_are_selected_by_e_h_b(qfile):
    path, _, _ = qfile
    env = postcat("-e", path).stdout.decode("latin-1")
    assert "sender: alice@example.com" in env and "Subject:" not in env
    head = postcat("-h", path).stdout.decode("latin-1").splitlines()
    assert head[0].startswith("*** PRIMARY MESSAGE HEADER ")
    assert head[1:4] == ["Subject: hello", " folded", "To: bob@example.org"]
    assert head[4].startswith("*** MESSAGE FILE END ")
    body = postcat("-b", path).stdout.decode("latin-1").splitlines()
    assert body[0].startswith("*** MESSAGE BODY ")
    assert body[1:3] == ["long line joined", "8-bit \xc3\xa9\xff"]
    both = postcat("-h", "-b", path).stdout.decode("latin-1").splitlines()
    assert both[0].startswith("*** MESSAGE CONTENTS ")
    assert "" in both  # the separator shows when both halves do


def test_offsets_are_those_of_the_records(qfile):
    path, _, offsets = qfile
    lines = postcat("-o", path).stdout.decode("latin-1").splitlines()
    by_text = {l[10:]: int(l[:9]) for l in lines if not l.startswith("***")}
    assert by_text["sender: alice@example.com"] == offsets[3]
    assert by_text["recipient: bob@example.org"] == offsets[7]
    # The joined line carries the offset of its first piece.
    assert by_text["long line joined"] == offsets[1 + 1 + len(ENVELOPE) + 1 + 4]


def test_maildrop_file_is_recognised(tmp_path):
    data = b"".join([rec("V", "1"), rec("T", "1700000000.000001"), rec("F", "user"),
                     rec("A", "flags=1"), rec("M"), rec("L", "To: a@example.org"), rec("L", ""),
                     rec("L", "hi"), rec("E")])
    path = tmp_path / "maildropfile"
    path.write_bytes(data)
    r = postcat(path)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert "message_size" not in text
    assert "sender: user\nnamed_attribute: flags=1\n*** MESSAGE CONTENTS" in text
    assert text.endswith("hi\n*** MESSAGE FILE END %s ***\n" % path)


def fatal(r, path, offset, reason):
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = r.stderr.decode()
    assert "postcat: fatal: %s: offset %d: " % (path, offset) in err, err
    assert reason in err, err


def test_truncated_file_prints_what_it_can_then_fails_with_the_offset(qfile, tmp_path):
    _, data, offsets = qfile
    cut = tmp_path / "cut"
    # Inside the second recipient record.
    cut.write_bytes(data[:offsets[8] + 3])
    r = postcat(cut)
    fatal(r, cut, offsets[8], "file ends inside a record")
    assert b"recipient: bob@example.org" in r.stdout
    assert b"done_recipient" not in r.stdout
    # Before the end record: the content is there, the end is not.
    cut.write_bytes(data[:-2])
    r = postcat(cut)
    fatal(r, cut, len(data) - 2, "file ends before the end record")
    assert b"long line joined" in r.stdout
    assert b"MESSAGE FILE END" not in r.stdout
    # Every cut point fails cleanly, never crashes.
    for n in range(len(data)):
        cut.write_bytes(data[:n])
        r = postcat(cut)
        assert r.returncode == 1, n
        assert b"postcat: fatal: " in r.stderr


@pytest.mark.parametrize("bad,reason", [
    (rec("Z", "x"), "unknown record type 0x5a"),
    (b"L\x80\x80\x80\x80\x01", "record length field too long"),
    (b"L\x81\x80\x40", "record length over the limit"),
    (rec("R", "late@example.org"), "unexpected recipient record"),
    (rec("L", "a\x00b") + rec("P", "x"), None),
])
def test_damage_in_the_content_is_reported_at_its_record(tmp_path, bad, reason):
    data, offsets = queue_file(ENVELOPE, CONTENT[:2])
    at = len(data) - 2  # where E was
    path = tmp_path / "bad"
    path.write_bytes(data[:at] + bad + rec("E"))
    r = postcat(path)
    if reason is None:  # a P before E: the E is what is wrong
        fatal(r, path, at + len(rec("L", "a\x00b")) + len(rec("P", "x")), "line after a piece")
        assert b"a\x00b" in r.stdout
    else:
        fatal(r, path, at, reason)
    assert b"Subject: hello" in r.stdout


def test_data_after_end_and_wrong_sizes_are_refused(tmp_path, qfile):
    _, data, offsets = qfile
    path = tmp_path / "after"
    path.write_bytes(data + b"junk")
    fatal(postcat(path), path, len(data), "data after the end record")
    bad, offs = queue_file(ENVELOPE, CONTENT, sizes=(1, 2, 3))
    path.write_bytes(bad)
    m_offset = offs[2 + len(ENVELOPE)]
    fatal(postcat(path), path, m_offset, "size record disagrees with the file")


def test_symlinks_and_directories_are_refused(qfile, tmp_path):
    path, _, _ = qfile
    link = tmp_path / "link"
    link.symlink_to(path)
    r = postcat(link)
    assert r.returncode == 1 and b"is a symbolic link" in r.stderr
    r = postcat(tmp_path)
    assert r.returncode == 1 and b"not a regular file" in r.stderr


def test_q_finds_an_id_in_any_queue(tmp_path):
    spool = tmp_path / "spool"
    for q in ("incoming", "active", "deferred", "hold", "maildrop", "corrupt"):
        (spool / q).mkdir(parents=True)
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "main.cf").write_text("queue_directory = %s\n" % spool)
    data, _ = queue_file(ENVELOPE, CONTENT)
    (spool / "deferred" / "4Xb1Qz").write_bytes(data)
    r = postcat("-c", conf, "-q", "4Xb1Qz")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"*** ENVELOPE RECORDS deferred/4Xb1Qz ***\n")
    r = postcat("-c", conf, "-q", "NoSuchId")
    assert r.returncode == 1
    assert b"NoSuchId: no such queue file" in r.stderr
    r = postcat("-c", conf, "-q", "../etc/main.cf")
    assert r.returncode == 1
    assert b"not a queue id" in r.stderr


def test_random_bytes_never_crash_it(tmp_path):
    rnd = random.Random(4242)
    good, _ = queue_file(ENVELOPE, CONTENT)
    path = tmp_path / "random"
    for i in range(150):
        if i % 2:
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(64)))
        else:  # a good file with a few bytes changed
            data = bytearray(good)
            for _ in range(rnd.randrange(1, 4)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
            data = bytes(data)
        path.write_bytes(data)
        r = postcat(path)
        assert r.returncode in (0, 1), (i, data, r.returncode, r.stderr)
        if r.returncode == 1:
            assert b"postcat: fatal: " in r.stderr

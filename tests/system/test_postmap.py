"""postmap: builds, queries, dumps, deletes and incremental updates of every
table type, errors that name file and line, builds that are atomic, and the
same answers as Debian's Postfix postmap for the same files."""

import os
import pathlib
import shutil

import pytest

from conftest import program, run

POSTFIX_POSTMAP = pathlib.Path("/usr/sbin/postmap")

SOURCE = """\
# a virtual table
Joe@Example.COM   joe@local,
    jim@local
postmaster        root
# a comment between entries
@example.org      catchall
postmaster        second value, ignored
keyonly
"""


@pytest.fixture
def conf(tmp_path):
    """A configuration directory with an empty main.cf (defaults only)."""
    d = tmp_path / "conf"
    d.mkdir()
    (d / "main.cf").write_text("")
    return d


def postmap(conf, *args, input=None):
    return run([program("postmap"), "-c", conf, *args], input=input)


def write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("kind", ["hash", "btree", "lmdb"])
def test_build_query_dump_delete_incremental(conf, tmp_path, kind):
    src = write(tmp_path / "virtual", SOURCE)
    table = f"{kind}:{src}"
    result = postmap(conf, table)
    assert result.returncode == 0, result.stderr
    # Duplicates and lines without a value are warned about with file and line.
    assert f"{src}, line 7: duplicate entry \"postmaster\" ignored" in result.stderr
    assert f"{src}, line 8: expected format: key whitespace value" in result.stderr
    suffix = ".lmdb" if kind == "lmdb" else ".db"
    assert (tmp_path / ("virtual" + suffix)).exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]

    result = postmap(conf, "-q", "JOE@example.com", table)
    assert (result.returncode, result.stdout) == (0, "joe@local,    jim@local\n")
    assert postmap(conf, "-q", "postmaster", table).stdout == "root\n"
    result = postmap(conf, "-q", "nobody", table)
    assert (result.returncode, result.stdout) == (1, "")

    result = postmap(conf, "-q", "-", table, input="postmaster\nnobody\n@EXAMPLE.org\n")
    assert result.returncode == 0
    assert result.stdout == "postmaster\troot\n@EXAMPLE.org\tcatchall\n"

    dump = postmap(conf, "-s", table)
    assert dump.returncode == 0
    assert sorted(dump.stdout.splitlines()) == sorted([
        "joe@example.com\tjoe@local,    jim@local", "postmaster\troot",
        "@example.org\tcatchall"])

    assert postmap(conf, "-d", "POSTMASTER", table).returncode == 0
    assert postmap(conf, "-d", "postmaster", table).returncode == 1
    assert postmap(conf, "-q", "postmaster", table).returncode == 1

    result = postmap(conf, "-i", table, input="New key\n@example.org other\n")
    assert result.returncode == 0
    assert "duplicate entry \"@example.org\" ignored" in result.stderr
    assert postmap(conf, "-q", "new", table).stdout == "key\n"
    assert postmap(conf, "-q", "@example.org", table).stdout == "catchall\n"
    result = postmap(conf, "-i", "-r", table, input="@example.org other\n")
    assert result.returncode == 0 and result.stderr == ""
    assert postmap(conf, "-q", "@example.org", table).stdout == "other\n"


def test_replace_and_quiet_duplicates(conf, tmp_path):
    src = write(tmp_path / "t", "k first\nk second\n")
    result = postmap(conf, "-r", f"hash:{src}")
    assert result.returncode == 0 and result.stderr == ""
    assert postmap(conf, "-q", "k", f"hash:{src}").stdout == "second\n"
    result = postmap(conf, "-w", f"hash:{src}")
    assert result.returncode == 0 and result.stderr == ""
    assert postmap(conf, "-q", "k", f"hash:{src}").stdout == "first\n"


def test_default_type_from_main_cf(conf, tmp_path):
    src = write(tmp_path / "t", "k v\n")
    (conf / "main.cf").write_text("default_database_type = btree\n")
    assert postmap(conf, str(src)).returncode == 0
    assert postmap(conf, "-q", "k", f"btree:{src}").stdout == "v\n"


def test_texthash_query_and_dump(conf, tmp_path):
    src = write(tmp_path / "virtual", SOURCE)
    table = f"texthash:{src}"
    assert postmap(conf, "-q", "joe@EXAMPLE.com", table).stdout == "joe@local,    jim@local\n"
    assert len(postmap(conf, "-s", table).stdout.splitlines()) == 3
    result = postmap(conf, table)  # nothing to build: the file is the table
    assert result.returncode != 0 and "read-only" in result.stderr


def test_search_stops_at_first_table_with_the_key(conf, tmp_path):
    a = write(tmp_path / "a", "k from-a\n")
    b = write(tmp_path / "b", "k from-b\nonly-b yes\n")
    assert postmap(conf, f"hash:{b}").returncode == 0
    assert postmap(conf, "-q", "k", f"texthash:{a}", f"hash:{b}").stdout == "from-a\n"
    assert postmap(conf, "-q", "only-b", f"texthash:{a}", f"hash:{b}").stdout == "yes\n"


PCRE = r"""# header checks style
/^(.*)@(example)\.com$/   user=$1 dom=${2} cost $$5
/^(a)|(b)$/               [$1][$2]
/^abc$/i                  exact case
if !/^x/
/y$/                      not x, ends in y
endif
/^u(a+)/U                 lazy $1
!/@/                      no at sign
"""

REGEXP = r"""/^([^@]+)@(.+)\.example$/ $2 has $1
/^exact$/i exact
if /^x/
/y$/ x and y
endif
"""

CIDR = """192.0.2.7 the host
192.0.2.0/24 REJECT test net
if 10.0.0.0/8
10.1.0.0/16 ten one
endif
2001:db8::/32 doc six
[::1] loopback
0.0.0.0/0 any
"""

KEYS = ["Joe@Example.COM", "a", "b", "abc", "ABC", "ay", "xy", "uaaa", "x@y", "zz@q",
        "joe@mail.EXAMPLE", "exact", "EXACT", "xay", "192.0.2.7", "192.0.2.9", "10.1.2.3",
        "10.2.0.0", "2001:db8::1", "::1", "fe80::1", "8.8.8.8", "junk"]


@pytest.mark.parametrize("kind,text", [("pcre", PCRE), ("regexp", REGEXP), ("cidr", CIDR)])
def test_rule_tables_through_postmap_q(conf, tmp_path, kind, text):
    src = write(tmp_path / f"t.{kind}", text)
    result = postmap(conf, "-q", "-", f"{kind}:{src}", input="\n".join(KEYS) + "\n")
    assert result.returncode == 0, result.stderr
    answers = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    expected = {
        "pcre": {"Joe@Example.COM": "user=Joe dom=Example cost $5", "b": "[][b]",
                 "abc": "[a][]", "ay": "[a][]", "uaaa": "lazy a", "xy": "no at sign"},
        "regexp": {"joe@mail.EXAMPLE": "mail has joe", "exact": "exact", "xay": "x and y"},
        "cidr": {"192.0.2.7": "the host", "192.0.2.9": "REJECT test net",
                 "10.1.2.3": "ten one", "10.2.0.0": "any", "2001:db8::1": "doc six",
                 "::1": "loopback", "8.8.8.8": "any"},
    }[kind]
    for key, value in expected.items():
        assert answers.get(key) == value, key
    one = postmap(conf, "-q", KEYS[0], f"{kind}:{src}")
    assert one.returncode == (0 if KEYS[0] in answers else 1)


@pytest.mark.skipif(not POSTFIX_POSTMAP.exists(), reason="Postfix's postmap not installed")
@pytest.mark.parametrize("kind,text", [("pcre", PCRE), ("regexp", REGEXP), ("cidr", CIDR)])
def test_rule_tables_answer_like_postfix(conf, tmp_path, kind, text):
    src = write(tmp_path / f"t.{kind}", text)
    keys = "\n".join(KEYS) + "\n"
    ours = postmap(conf, "-q", "-", f"{kind}:{src}", input=keys)
    theirs = run([POSTFIX_POSTMAP, "-c", conf, "-q", "-", f"{kind}:{src}"], input=keys)
    assert ours.stdout == theirs.stdout
    assert ours.returncode == theirs.returncode


@pytest.mark.skipif(not POSTFIX_POSTMAP.exists(), reason="Postfix's postmap not installed")
def test_hash_tables_shared_with_postfix(conf, tmp_path):
    ours = write(tmp_path / "ours", SOURCE)
    theirs = write(tmp_path / "theirs", SOURCE)
    assert postmap(conf, f"hash:{ours}").returncode == 0
    assert run([POSTFIX_POSTMAP, "-c", conf, f"hash:{theirs}"]).returncode == 0
    keys = "joe@example.com\npostmaster\n@example.org\nnobody\n"
    expected = "joe@example.com\tjoe@local,    jim@local\npostmaster\troot\n" \
               "@example.org\tcatchall\n"
    for table in (ours, theirs):
        assert postmap(conf, "-q", "-", f"hash:{table}", input=keys).stdout == expected
        assert run([POSTFIX_POSTMAP, "-c", conf, "-q", "-", f"hash:{table}"],
                   input=keys).stdout == expected


@pytest.mark.parametrize("kind,text,line,reason", [
    ("pcre", "/ok/ fine\n/a(/ broken\n", 2, "pcre pattern"),
    ("pcre", "/ok/ fine\n\n/x/Q flag\n", 3, "unknown pcre flag"),
    ("regexp", "/ok/ fine\nif /a/\n", 2, "\"if\" without \"endif\""),
    ("cidr", "10.0.0.0/8 fine\n10.0.0.1/8 host bits\n", 2, "bits set after"),
])
def test_syntax_errors_name_file_and_line(conf, tmp_path, kind, text, line, reason):
    src = write(tmp_path / f"bad.{kind}", text)
    result = postmap(conf, "-q", "ok", f"{kind}:{src}")
    assert result.returncode == 2  # an error, never "not found"
    assert f"{src}, line {line}:" in result.stderr
    assert reason in result.stderr


@pytest.mark.parametrize("kind", ["hash", "lmdb"])
def test_failed_build_leaves_old_table(conf, tmp_path, kind):
    src = write(tmp_path / "t", "k old\n")
    assert postmap(conf, f"{kind}:{src}").returncode == 0
    src.write_bytes(b"k new\nbroken \x00 line\n")
    result = postmap(conf, f"{kind}:{src}")
    assert result.returncode == 1
    assert f"{src}, line 2: NUL byte" in result.stderr
    assert "not changed" in result.stderr
    assert postmap(conf, "-q", "k", f"{kind}:{src}").stdout == "old\n"
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]
    src.write_text("k " + "v" * 70000 + "\n")
    result = postmap(conf, f"{kind}:{src}")
    assert result.returncode == 1 and "line 1: logical line longer than" in result.stderr
    assert postmap(conf, "-q", "k", f"{kind}:{src}").stdout == "old\n"


def test_missing_table_and_bad_usage(conf, tmp_path):
    result = postmap(conf, "-q", "k", f"hash:{tmp_path}/none")
    assert result.returncode == 2 and f"{tmp_path}/none.db" in result.stderr
    result = postmap(conf, "-q", "k", f"pcre:{tmp_path}/none")
    assert result.returncode == 2 and f"{tmp_path}/none" in result.stderr
    result = postmap(conf, "-q", "k", f"nosuchtype:{tmp_path}/x")
    assert result.returncode == 2 and "unsupported dictionary type" in result.stderr
    assert postmap(conf, "-q", "k", "-s", f"hash:{tmp_path}/x").returncode == 1
    assert postmap(conf).returncode == 1
    result = postmap(conf, "-i", f"hash:{tmp_path}/a", f"hash:{tmp_path}/b", input="k v\n")
    assert result.returncode == 1 and "-i takes one table" in result.stderr
    assert not list(tmp_path.glob("*.db"))


def test_unix_tables(conf):
    result = postmap(conf, "-q", "root", "unix:passwd.byname")
    assert result.returncode == 0 and result.stdout.startswith("root:x:0:0:")
    result = postmap(conf, "-q", "root", "unix:group.byname")
    assert result.returncode == 0 and result.stdout.startswith("root:x:0:")
    assert postmap(conf, "-q", "no-such-user-x", "unix:passwd.byname").returncode == 1


def test_no_nul_option_round_trip(conf, tmp_path):
    src = write(tmp_path / "t", "k v\n")
    assert postmap(conf, "-n", f"hash:{src}").returncode == 0
    assert postmap(conf, "-q", "k", f"hash:{src}").stdout == "v\n"
    assert postmap(conf, "-N", "-q", "k", f"hash:{src}").returncode == 1
    if shutil.which("db5.3_dump"):
        dump = run(["db5.3_dump", "-p", f"{src}.db"]).stdout
        assert " k\n v\n" in dump


# Tables in the shape of the examples in Postfix's documentation (written
# for this test), with the continuation lines, comments, odd spacing and
# case that real files have.
EXAMPLE_TABLES = {
    "access": """\
# access(5): clients, senders, recipients
1.2.3.4            REJECT
1.2.3              OK
192.168.7.0        DUNNO
spammer.example    REJECT spam is not welcome here
.spammer.example   REJECT
user@Example.COM   OK
postmaster@        OK
abuse@             550 5.7.1 go away
mail.example.net   450 4.7.1 try again
                   later
@bad.example       DISCARD
""",
    "virtual": """\
# virtual(5)
example.com        anything
postmaster@example.com  postmaster
info@example.com   joe@local.example, \t jane@local.example
sales@example.com  sales-team
  @lists.example
@example.net       catchall@example.com
Mixed.Case@Example.Org   Target@Example.Org
""",
    "transport": """\
# transport(5)
example.com        smtp:mx.example.com
.example.com       smtp:[relay.example.com]:587
internal.example   local:
user@example.org   error:5.1.1 mailbox unavailable
*                  smtp:fallback.example
""",
    "canonical": """\
# canonical(5)
wietse             Wietse.Venema
  # a comment inside an entry does not end it
@old.example       @new.example
joe@host.example   Joe.Public@example.com
root               root@example.com
""",
}

ALIASES = """\
# aliases(5)
postmaster:  root
MAILER-DAEMON: postmaster
abuse:       postmaster, security
security:    "|/usr/bin/logger -t sec",
             /var/log/security.mbox
team:        :include:/etc/postern/team.list
Root:        admin@example.com
"""


def example_keys():
    keys = []
    for text in list(EXAMPLE_TABLES.values()) + [ALIASES]:
        for line in text.splitlines():
            if not line or line[0] in " \t#":
                continue
            key = line.split()[0].rstrip(":")
            keys += [key, key.upper(), key.lower(), key.title(), "x" + key, key + "x"]
    keys += ["", "nobody", "example", "@", "*", "1.2.3.5", "192.168.7.1", "user@example.com"]
    # The derived keys global/addr_find tries for an address: with and
    # without an extension, the bare local part, @domain, parent domains
    # in both spellings.
    keys += ["info+tag@example.com", "info+tag", "info", "@example.com", "sub.example.com",
             ".sub.example.com", "example.com.", "com", ".com", "postmaster+x@example.com",
             "wietse+ext", "joe+x@host.example", "@host.example", "host.example"]
    return keys


@pytest.mark.skipif(not POSTFIX_POSTMAP.exists(), reason="Postfix's postmap not installed")
@pytest.mark.parametrize("kind", ["hash", "btree", "texthash"])
def test_example_tables_answer_like_postfix(conf, tmp_path, kind):
    keys = "\n".join(example_keys()) + "\n"
    assert len(example_keys()) >= 100
    for name, text in EXAMPLE_TABLES.items():
        ours = write(tmp_path / f"ours-{name}", text)
        theirs = write(tmp_path / f"theirs-{name}", text)
        if kind != "texthash":
            assert postmap(conf, f"{kind}:{ours}").returncode == 0
            assert run([POSTFIX_POSTMAP, "-c", conf, f"{kind}:{theirs}"]).returncode == 0
        answers = []
        for table in (ours, theirs):
            # Each program reads each table: the files are interchangeable.
            for cmd in ([program("postmap")], [POSTFIX_POSTMAP]):
                result = run([*cmd, "-c", conf, "-q", "-", f"{kind}:{table}"], input=keys)
                answers.append((result.returncode, result.stdout))
        assert len(set(answers)) == 1, name
        assert answers[0][1].count("\n") >= 10, name
    for name, text in EXAMPLE_TABLES.items():
        for key in ("1.2.3.4", "Postmaster@", "INFO@example.com", "nonexistent"):
            ours = postmap(conf, "-q", key, f"{kind}:{tmp_path}/ours-{name}")
            theirs = run([POSTFIX_POSTMAP, "-c", conf, "-q", key,
                          f"{kind}:{tmp_path}/theirs-{name}"])
            assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)


POSTFIX_POSTALIAS = pathlib.Path("/usr/sbin/postalias")


@pytest.mark.skipif(not POSTFIX_POSTALIAS.exists(), reason="Postfix's postalias not installed")
def test_alias_tables_answer_like_postfix(conf, tmp_path):
    keys = "\n".join(example_keys()) + "\n"
    ours = write(tmp_path / "ours", ALIASES)
    theirs = write(tmp_path / "theirs", ALIASES)
    assert run([program("postalias"), "-c", conf, f"hash:{ours}"]).returncode == 0
    assert run([POSTFIX_POSTALIAS, "-c", conf, f"hash:{theirs}"]).returncode == 0
    answers = set()
    for table in (ours, theirs):
        for cmd in ([program("postmap")], [POSTFIX_POSTMAP]):
            result = run([*cmd, "-c", conf, "-q", "-", f"hash:{table}"], input=keys)
            answers.add((result.returncode, result.stdout))
    assert len(answers) == 1
    assert "security\t" in answers.pop()[1]

"""System tests for mynetworks with tables and files: a real smtpd decides
permit_mynetworks (in the default smtpd_relay_restrictions) for a client
on 127.0.0.1 from a cidr: table, a /file/name with negation, and defers
with 451 4.3.0 when a table of the list cannot be read."""

import pytest

from live import server_factory  # noqa: F401 (fixture)


@pytest.fixture
def tables_dir(unprivileged_dir):
    """Where the test writes the files mynetworks names (readable by the
    instance's user)."""
    base, _ = unprivileged_dir
    d = base / "nets"
    d.mkdir()
    d.chmod(0o755)
    return d


def relay_reply(server):
    s = server.raw()
    assert s.reply().startswith("220 ")
    s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<a@example.org>").startswith("250")
    reply = s.cmd("RCPT TO:<user@remote.example>")
    s.cmd("QUIT")
    return reply


def write(path, text):
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_a_client_in_a_cidr_table_is_permitted_by_permit_mynetworks(server_factory, tables_dir):
    table = write(tables_dir / "trusted.cidr", "# our hosts\n192.0.2.0/24 x\n127.0.0.1/32 ours\n")
    server = server_factory(f"mynetworks=cidr:{table}", services=())
    assert relay_reply(server).startswith("250 ")


def test_a_client_not_in_the_cidr_table_may_not_relay(server_factory, tables_dir):
    table = write(tables_dir / "other.cidr", "127.0.0.2/32 not us\n")
    server = server_factory(f"mynetworks=192.0.2.0/24 cidr:{table}", services=())
    assert relay_reply(server) == "454 4.7.1 <user@remote.example>: Relay access denied"
    assert server.queued() == []


def test_a_file_with_comments_and_negation(server_factory, tables_dir):
    nets = write(tables_dir / "nets", "# everything local but one host\n!127.0.0.1\n"
                                      "127.0.0.0/8, [::1]/128\n")
    server = server_factory(f"mynetworks={nets}", services=())
    assert relay_reply(server) == "454 4.7.1 <user@remote.example>: Relay access denied"
    nets = write(tables_dir / "nets2", "# the whole loopback net\n127.0.0.0/8\n")
    server = server_factory(f"mynetworks=!192.0.2.1 {nets}", services=())
    assert relay_reply(server).startswith("250 ")


def test_an_unreadable_table_defers_never_permits(server_factory, tables_dir):
    missing = tables_dir / "missing.cidr"
    server = server_factory(f"mynetworks=cidr:{missing} 127.0.0.0/8", services=())
    assert relay_reply(server) == "451 4.3.0 <localhost[127.0.0.1]>: Temporary lookup failure"
    assert server.queued() == []
    log = server.log()
    assert str(missing) in log and "No such file or directory" in log

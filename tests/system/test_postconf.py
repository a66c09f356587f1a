"""postconf on instances made by postern init, as an administrator uses it."""

import re

import pytest

from conftest import (BUILD, IS_ROOT, REPO, expected_owner, program, root_owner_settings, run,
                      stderr_lines)


def settings_of(text):
    """{name: value} from postconf's "name = value" lines."""
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition(" = ")
        assert sep, f"not name = value: {line!r}"
        assert name not in out, f"{name} twice"
        out[name] = value
    return out


def table_parameter_count():
    """Entries in the parameter table, counted from its source."""
    text = (REPO / "global" / "param_table.c").read_text()
    return len(re.findall(r'^\s*\{\s*"[A-Za-z0-9_]+"\s*,', text, re.M))


def init_settings(inst):
    """What postern init writes for inst, besides the arguments."""
    d = inst.dir
    expect = {
        "queue_directory": f"{d}/spool",
        "data_directory": f"{d}/data",
        "command_directory": str(BUILD / "bin"),
        "daemon_directory": str(BUILD / "libexec"),
        "mail_spool_directory": f"{d}/mail",
        "maillog_file": f"{d}/maillog",
        "alias_maps": f"hash:{d}/aliases",
        "alias_database": f"hash:{d}/aliases",
        "inet_interfaces": "127.0.0.1",
    }
    user, group = expected_owner()
    expect["mail_owner"] = user
    expect["setgid_group"] = group
    return expect


def test_n_after_init_shows_exactly_the_settings_init_made(new_instance):
    new_instance.init(*root_owner_settings(), "myhostname=mx.example.test")
    result = new_instance.postconf("-n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    expect = init_settings(new_instance)
    expect["myhostname"] = "mx.example.test"
    assert settings_of(result.stdout) == expect
    assert result.stdout.splitlines() == sorted(result.stdout.splitlines())


def test_d_prints_one_line_per_parameter_in_the_table(instance):
    result = instance.postconf("-d")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == table_parameter_count()
    assert len(settings_of(result.stdout)) == len(lines)


def test_d_shows_defaults_not_main_cf(instance):
    result = instance.postconf("-d", "inet_interfaces", "queue_directory")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "inet_interfaces = all\nqueue_directory = /var/spool/postern\n"


def test_every_parameter_is_printed_without_options(instance):
    every = settings_of(instance.postconf().stdout)
    defaults = settings_of(instance.postconf("-d").stdout)
    assert every.keys() == defaults.keys()
    assert every["queue_directory"] == f"{instance.dir}/spool"


def test_h_prints_values_only(instance):
    result = instance.postconf("-h", "inet_interfaces")
    assert (result.returncode, result.stdout) == (0, "127.0.0.1\n")


def test_e_changes_one_line_and_keeps_comments_and_layout(instance):
    before = instance.main_cf.read_text().splitlines()
    result = instance.postconf("-e", "inet_interfaces=all", "myhostname=mx.example.test")
    assert result.returncode == 0, result.stderr
    after = instance.main_cf.read_text().splitlines()
    i = before.index("inet_interfaces = 127.0.0.1")
    assert after[:i] == before[:i]
    assert after[i] == "inet_interfaces = all"
    assert after[i + 1:len(before)] == before[i + 1:]
    assert after[len(before):] == ["myhostname = mx.example.test"]
    assert instance.postconf("-h", "myhostname").stdout == "mx.example.test\n"


def test_e_replaces_a_value_with_continuation_lines(instance):
    instance.append_main_cf("mydestination = a.example,\n    b.example\n# kept\n")
    result = instance.postconf("-e", "mydestination=c.example")
    assert result.returncode == 0, result.stderr
    assert instance.main_cf.read_text().endswith("mydestination = c.example\n# kept\n")


def test_X_removes_a_setting_and_nothing_else(instance):
    before = instance.main_cf.read_text().splitlines()
    result = instance.postconf("-X", "inet_interfaces")
    assert result.returncode == 0, result.stderr
    after = instance.main_cf.read_text().splitlines()
    assert after == [l for l in before if l != "inet_interfaces = 127.0.0.1"]
    assert "inet_interfaces" not in settings_of(instance.postconf("-n").stdout)


def test_M_lists_the_stock_services(instance):
    result = instance.postconf("-M")
    assert result.returncode == 0, result.stderr
    services = [tuple(line.split()[:2]) for line in result.stdout.splitlines()]
    assert services == [("smtp", "inet"), ("pickup", "unix"), ("qmgr", "unix"),
                        ("showq", "unix"), ("anvil", "unix"), ("smtp", "unix"),
                        ("relay", "unix"),
                        ("lmtp", "unix"), ("local", "unix"), ("virtual", "unix")]
    fields = {tuple(l.split()[:2]): l.split() for l in result.stdout.splitlines()}
    assert fields[("pickup", "unix")][2:] == ["n", "-", "n", "60", "1", "pickup"]
    assert fields[("showq", "unix")][2:] == ["n", "-", "n", "-", "-", "showq"]
    assert fields[("anvil", "unix")][2:] == ["-", "-", "n", "-", "1", "anvil"]
    assert fields[("relay", "unix")][7:] == ["smtp", "-o", "syslog_name=postern/relay"]


def test_unknown_name_in_main_cf_is_a_warning_naming_file_and_line(instance):
    n = instance.line_count()
    instance.append_main_cf("no_such_parameter = 1\n")
    result = instance.postconf("-n")
    assert result.returncode == 0
    assert stderr_lines(result) == [
        f"postconf: warning: {instance.main_cf}, line {n + 1}: unknown parameter "
        "no_such_parameter"]


def test_expansion_loop_is_one_line_naming_file_and_line(instance):
    n = instance.line_count()
    instance.append_main_cf("loop_a = $loop_b\nloop_b = $loop_a\n")
    result = instance.postconf("-x", "loop_a")
    assert result.returncode == 1
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"postconf: fatal: {instance.main_cf}, line {n + 1}: ")
    assert "loop_a" in lines[0] and "loop_b" in lines[0]


def test_a_1mib_line_is_one_error_naming_file_and_line(instance):
    n = instance.line_count()
    instance.append_main_cf("myhostname = " + "x" * (1 << 20) + "\n")
    result = instance.postconf("-n")
    assert result.returncode == 1
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr[:2000]
    assert lines[0].startswith(f"postconf: fatal: {instance.main_cf}, line {n + 1}: ")
    assert len(lines[0]) < 300


def test_c_is_required_to_reach_an_instance_or_mail_config(instance):
    result = run([program("postconf"), "-h", "queue_directory"],
                 env={"MAIL_CONFIG": str(instance.dir)})
    assert (result.returncode, result.stdout) == (0, f"{instance.dir}/spool\n")

"""postern init and postern check, as an administrator uses them."""

import os
import pathlib
import pwd
import grp
import stat

import pytest

from conftest import (BUILD, IS_ROOT, NOBODY, NOGROUP, Instance, expected_owner, program,
                      root_owner_settings, run, stderr_lines, without_daemon_warning)

# Postfix's queue tree: name -> (mode, owned by mail_owner, group is setgid_group)
QUEUE_TREE = {
    "": (0o755, False, False),
    "maildrop": (0o1770, True, True),
    "incoming": (0o700, True, False),
    "active": (0o700, True, False),
    "deferred": (0o700, True, False),
    "hold": (0o700, True, False),
    "corrupt": (0o700, True, False),
    "bounce": (0o700, True, False),
    "defer": (0o700, True, False),
    "trace": (0o700, True, False),
    "public": (0o710, True, True),
    "private": (0o700, True, False),
    "pid": (0o755, False, False),
}


def owner_of(path):
    st = os.stat(path)
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name


def assert_check_ok(inst):
    result = inst.postern("check")
    assert without_daemon_warning(stderr_lines(result)) == []
    assert result.stdout == "configuration OK\n"
    assert result.returncode == 0


def assert_check_fails(inst, expected_errors):
    """check exits 1 and reports exactly these problems, in this order."""
    result = inst.postern("check")
    assert without_daemon_warning(stderr_lines(result)) == [
        f"postern: error: {e}" for e in expected_errors]
    assert result.stdout == ""
    assert result.returncode == 1


# init

def test_init_makes_config_files_and_the_queue_tree_with_postfix_modes(instance):
    user, group = expected_owner()
    me = pwd.getpwuid(os.geteuid()).pw_name
    for name, (mode, mail_owned, setgid) in QUEUE_TREE.items():
        path = instance.spool / name if name else instance.spool
        st = os.stat(path)
        assert stat.S_ISDIR(st.st_mode), path
        assert stat.S_IMODE(st.st_mode) == mode, f"{path}: {oct(st.st_mode)}"
        owner, owner_group = owner_of(path)
        assert owner == (user if mail_owned else me), path
        if setgid:
            assert owner_group == group, path
    assert stat.S_IMODE(os.stat(instance.dir / "data").st_mode) == 0o700
    assert owner_of(instance.dir / "data")[0] == user
    assert (instance.dir / "mail").is_dir()
    for name in ("main.cf", "master.cf", "aliases"):
        assert (instance.dir / name).is_file()
    assert instance.master_cf.read_text() == (
        pathlib.Path(__file__).parents[2] / "conf" / "master.cf").read_text()


def test_init_prints_each_thing_it_made(new_instance):
    result = new_instance.init(*root_owner_settings())
    d = new_instance.dir
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"created {d}/main.cf", f"created {d}/master.cf",
                         f"created {d}/aliases"]
    user, group = expected_owner()
    assert f"created {d}/spool/maildrop mode 1770 owner {user} group {group}" in lines
    assert f"created {d}/spool/public mode 0710 owner {user} group {group}" in lines
    made = [l.split()[1] for l in lines if l.startswith("created ")]
    assert made == [f"{d}/main.cf", f"{d}/master.cf", f"{d}/aliases"] + [
        f"{d}/spool" + (f"/{n}" if n else "") for n in QUEUE_TREE] + [
        f"{d}/data", f"{d}/mail"]
    assert lines[-2:] == [f"built hash:{d}/aliases",
                          f"instance ready in {d}; verify it with: postern -c {d} check"]


def test_init_builds_the_alias_table_that_local_will_read(instance):
    assert (instance.dir / "aliases.db").is_file()
    result = run([program("postalias"), "-c", instance.dir, "-q", "postmaster",
                  f"hash:{instance.dir}/aliases"])
    assert (result.returncode, result.stdout) == (0, "root\n")


def test_init_points_every_path_into_the_instance_and_the_build(instance):
    result = instance.postconf("-h", "queue_directory", "data_directory", "mail_spool_directory",
                               "maillog_file", "command_directory", "daemon_directory",
                               "inet_interfaces")
    assert result.returncode == 0, result.stderr
    d = instance.dir
    assert result.stdout.splitlines() == [
        f"{d}/spool", f"{d}/data", f"{d}/mail", f"{d}/maillog",
        str(BUILD / "bin"), str(BUILD / "libexec"), "127.0.0.1"]


def test_init_refuses_to_replace_main_cf_without_f(instance):
    instance.append_main_cf("# an administrator's note\n")
    before = instance.main_cf.read_text()
    result = instance.postern("init")
    assert result.returncode == 1
    assert stderr_lines(result) == [
        f"postern: fatal: {instance.dir}/main.cf exists; use postern -c {instance.dir} init -f "
        "to replace it"]
    assert instance.main_cf.read_text() == before


def test_init_f_rewrites_the_configuration_and_resets_modes(instance):
    instance.append_main_cf("# an administrator's note\n")
    (instance.spool / "private").chmod(0o777)
    result = instance.postern("init", "-f", *root_owner_settings())
    assert result.returncode == 0, result.stderr
    assert f"updated {instance.spool}/private mode 0700" in result.stdout
    assert "# an administrator's note" not in instance.main_cf.read_text()
    assert_check_ok(instance)


def test_init_accepts_a_relative_directory_and_writes_absolute_paths(tmp_path):
    result = run([program("postern"), "-c", "rel/inst", "init", *root_owner_settings()],
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"queue_directory = {tmp_path}/rel/inst/spool\n" in (
        tmp_path / "rel/inst/main.cf").read_text()


def test_mail_config_names_the_directory_when_c_is_absent(tmp_path):
    inst = tmp_path / "viaenv"
    result = run([program("postern"), "init", *root_owner_settings()],
                 env={"MAIL_CONFIG": str(inst)})
    assert result.returncode == 0, result.stderr
    assert (inst / "main.cf").is_file()
    result = run([program("postern"), "check"], env={"MAIL_CONFIG": str(inst)})
    assert result.stdout == "configuration OK\n"


def test_init_applies_settings_after_its_own(new_instance):
    new_instance.init(*root_owner_settings(), "inet_interfaces=all", "myhostname = mx.example.test")
    text = new_instance.main_cf.read_text()
    assert "inet_interfaces = all\n" in text
    assert "inet_interfaces = 127.0.0.1" not in text
    assert "myhostname = mx.example.test\n" in text


def test_init_warns_about_an_unknown_name_and_writes_it(new_instance):
    result = new_instance.init(*root_owner_settings(), "no_such_parameter=1")
    assert 'postern: warning: init: unknown parameter name "no_such_parameter" (set anyway)' in (
        stderr_lines(result))
    assert "no_such_parameter = 1\n" in new_instance.main_cf.read_text()


@pytest.mark.parametrize("arg,why", [
    ("myhostname", "expected name=value"),
    ("=value", "a parameter name is letters, digits and underscores"),
    ("my-hostname=x", "a parameter name is letters, digits and underscores"),
    ("myhostname=a\nmail_owner=root", "control character in setting"),
])
def test_init_rejects_a_malformed_setting_and_writes_nothing(new_instance, arg, why):
    result = new_instance.postern("init", arg)
    assert result.returncode == 2
    assert stderr_lines(result) == [
        f'postern: error: init: bad setting "{arg}": {why}'.replace("\n", "?"),
        "usage: postern [-v] [-c DIR] init [-f] [name=value ...]"]
    assert not new_instance.dir.exists()


def test_init_as_an_unprivileged_user_makes_that_user_mail_owner(unprivileged_dir):
    base, user = unprivileged_dir
    inst = Instance(base / "inst", user=user)
    result = inst.postern("init")
    assert result.returncode == 0, result.stderr
    name = user or pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(pwd.getpwnam(name).pw_gid).gr_name
    text = inst.main_cf.read_text()
    assert f"mail_owner = {name}\n" in text
    assert f"setgid_group = {group}\n" in text
    for path in (inst.spool, inst.spool / "maildrop", inst.spool / "pid", inst.dir / "data"):
        assert owner_of(path)[0] == name
    assert stat.S_IMODE(os.stat(inst.dir / "mail").st_mode) == 0o700
    assert_check_ok(inst)


@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_init_as_root_keeps_the_stock_mail_owner_and_check_names_the_missing_user(new_instance):
    stock_user = "postern"
    try:
        pwd.getpwnam(stock_user)
        pytest.skip("this machine has a postern user")
    except KeyError:
        pass
    result = new_instance.postern("init")
    assert result.returncode == 0, result.stderr
    assert (f"postern: warning: init: mail_owner {stock_user}: no such user; its directories "
            "stay owned by root until it exists (create it, then run init -f)") in (
        stderr_lines(result))
    assert "mail_owner" not in new_instance.main_cf.read_text()
    assert owner_of(new_instance.spool / "private")[0] == "root"
    result = new_instance.postern("check")
    assert result.returncode == 1
    assert (f"postern: error: mail_owner {stock_user}: no such user (create it, or set "
            f"mail_owner in {new_instance.main_cf})") in stderr_lines(result)


# check

def test_check_passes_on_a_fresh_instance(instance):
    assert_check_ok(instance)


def test_check_reports_a_world_writable_private_directory(instance):
    (instance.spool / "private").chmod(0o777)
    assert_check_fails(instance, [f"{instance.spool}/private: mode 0777, expected 0700"])


def test_check_lists_every_problem_it_finds(instance):
    (instance.spool / "private").chmod(0o777)
    (instance.spool / "maildrop").chmod(0o1733)
    (instance.spool / "hold").rmdir()
    (instance.dir / "data").rename(instance.dir / "data.old")
    assert_check_fails(instance, [
        f"{instance.spool}/maildrop: mode 1733, expected 1770",
        f"{instance.spool}/hold: directory does not exist",
        f"{instance.spool}/private: mode 0777, expected 0700",
        f"{instance.dir}/data: data_directory does not exist",
    ])


def test_check_refuses_configuration_files_others_can_write(instance):
    instance.main_cf.chmod(0o666)
    instance.master_cf.chmod(0o664)
    assert_check_fails(instance, [
        f"{instance.main_cf}: mode 0666, writable by group or others",
        f"{instance.master_cf}: mode 0664, writable by group or others",
    ])


def test_check_does_not_fix_what_it_reports(instance):
    (instance.spool / "private").chmod(0o777)
    instance.postern("check")
    assert stat.S_IMODE(os.stat(instance.spool / "private").st_mode) == 0o777


def test_check_refuses_a_symlink_in_place_of_a_queue_directory(instance):
    (instance.spool / "corrupt").rmdir()
    (instance.spool / "corrupt").symlink_to("/tmp")
    assert_check_fails(instance, [
        f"{instance.spool}/corrupt: is a symbolic link, expected a directory"])


@pytest.mark.skipif(not IS_ROOT, reason="needs root to change owners")
def test_check_reports_a_queue_directory_with_the_wrong_owner_or_group(instance):
    os.chown(instance.spool / "incoming", 0, -1)
    os.chown(instance.spool / "public", -1, 0)
    assert_check_fails(instance, [
        f"{instance.spool}/incoming: owner root, expected {NOBODY}",
        f"{instance.spool}/public: group root, expected {NOGROUP}",
    ])


def test_check_refuses_root_as_mail_owner(instance):
    assert instance.postconf("-e", "mail_owner=root").returncode == 0
    result = instance.postern("check")
    assert result.returncode == 1
    assert "postern: error: mail_owner root: must not be root (uid 0)" in stderr_lines(result)


def test_check_reports_an_unknown_setgid_group(instance):
    assert instance.postconf("-e", "setgid_group=no_such_group_here").returncode == 0
    result = instance.postern("check")
    assert result.returncode == 1
    assert ("postern: error: setgid_group no_such_group_here: no such group (create it, or set "
            f"setgid_group in {instance.main_cf})") in stderr_lines(result)


def test_check_reports_missing_directories_named_by_parameters(instance):
    (instance.dir / "mail").rmdir()
    assert instance.postconf("-e", f"maillog_file={instance.dir}/logs/maillog").returncode == 0
    assert_check_fails(instance, [
        f"{instance.dir}/mail: mail_spool_directory does not exist",
        f"maillog_file {instance.dir}/logs/maillog: directory {instance.dir}/logs does not exist",
    ])


def test_check_reports_a_relative_queue_directory(instance):
    assert instance.postconf("-e", "queue_directory=spool").returncode == 0
    result = instance.postern("check")
    assert result.returncode == 1
    assert "postern: error: queue_directory = spool: expected an absolute path" in (
        stderr_lines(result))


def test_check_without_main_cf_fails_with_one_line(tmp_path):
    result = run([program("postern"), "-c", tmp_path / "none", "check"])
    assert result.returncode == 1
    assert len(stderr_lines(result)) == 1
    assert stderr_lines(result)[0].startswith("postern: error: ")
    assert f"{tmp_path}/none/main.cf" in result.stderr


def test_check_names_file_and_line_of_an_expansion_loop(instance):
    n = instance.line_count()
    instance.append_main_cf("loop_a = $loop_b\nloop_b = $loop_a\n")
    result = instance.postern("check")
    assert result.returncode == 1
    errors = [l for l in without_daemon_warning(stderr_lines(result))
              if l.startswith("postern: error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"postern: error: {instance.main_cf}, line {n + 1}: "), errors
    assert "loop_a" in errors[0] and "loop_b" in errors[0]


def test_check_names_file_and_line_of_a_1mib_line(instance):
    n = instance.line_count()
    instance.append_main_cf("myhostname = " + "x" * (1 << 20) + "\n")
    result = instance.postern("check")
    assert result.returncode == 1
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr[:2000]
    assert lines[0].startswith(f"postern: error: {instance.main_cf}, line {n + 1}: ")
    assert len(lines[0]) < 300


def test_check_reports_a_malformed_master_cf_line_with_file_and_line(instance):
    n = len(instance.master_cf.read_text().splitlines())
    with open(instance.master_cf, "a") as f:
        f.write("broken unix -\n")
    result = instance.postern("check")
    assert result.returncode == 1
    errors = without_daemon_warning(stderr_lines(result))
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"postern: error: {instance.master_cf}, line {n + 1}: ")


# the command itself

def test_an_unknown_verb_lists_the_verbs(tmp_path):
    result = run([program("postern"), "-c", tmp_path, "explode"])
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert lines[0] == 'postern: error: unknown verb "explode"'
    assert lines[1] == "usage: postern [-v] [-f] [-c DIR] VERB [ARGS ...]"
    assert [l.split()[0] for l in lines[3::2]] == [
        "init", "check", "start", "stop", "abort", "reload", "status", "flush"]


def test_no_verb_is_a_usage_error():
    result = run([program("postern")])
    assert result.returncode == 2
    assert result.stderr.startswith("usage: postern ")

/*
 * local_config - the parameters local uses, read once at start-up
 *
 * Tables are opened in pre_init, while local still has the rights it was
 * started with; a table that cannot be opened defers the mail that needs
 * it (global/maps), it does not stop the daemon. Who local is (root or an
 * instance's user) is decided in post_init, after the skeleton's
 * privilege drop: master.cf can make local unprivileged (-u).
 */
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "local/local.h"
#include "util/mem.h"
#include "util/msg.h"

local_config local_cf;

/* LOCAL_CLASS_* bits from a list such as "alias, forward". */
static int class_bits(config *cfg, const char *name)
{
    static const struct {
        const char *word;
        int bit;
    } classes[] = {
        {"alias", LOCAL_CLASS_ALIAS},     {"forward", LOCAL_CLASS_FORWARD},
        {"include", LOCAL_CLASS_INCLUDE}, {"command", LOCAL_CLASS_COMMAND},
        {"file", LOCAL_CLASS_FILE},
    };
    argv_t *words = config_list(cfg, name);
    int bits = 0;

    for (size_t i = 0; i < words->argc; i++) {
        size_t c;

        for (c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
            if (strcasecmp(words->argv[i], classes[c].word) == 0) {
                bits |= classes[c].bit;
                break;
            }
        }
        if (c == sizeof(classes) / sizeof(classes[0]))
            msg_warn("%s: unknown class \"%s\" ignored", name, words->argv[i]);
    }
    argv_free(words);
    return bits;
}

static maps *open_maps(const char *name)
{
    return maps_open(name, config_str(local_cf.cfg, name), O_RDONLY, 0);
}

void local_config_init(config *cfg)
{
    local_cf.cfg = cfg;
    local_cf.queue_directory = config_str(cfg, "queue_directory");
    local_cf.myhostname = config_str(cfg, "myhostname");
    local_cf.myorigin = config_str(cfg, "myorigin");
    local_cf.mydestination = config_list(cfg, "mydestination");
    local_cf.recipient_delimiter = config_str(cfg, "recipient_delimiter");
    local_cf.home_mailbox = config_str(cfg, "home_mailbox");
    local_cf.mail_spool_directory = config_str(cfg, "mail_spool_directory");
    local_cf.mailbox_command = config_str(cfg, "mailbox_command");
    local_cf.forward_path = config_str(cfg, "forward_path");
    local_cf.command_expansion_filter = config_str(cfg, "command_expansion_filter");
    local_cf.local_command_shell = config_str(cfg, "local_command_shell");
    local_cf.command_execution_directory = config_str(cfg, "command_execution_directory");
    local_cf.export_environment = config_list(cfg, "export_environment");
    local_cf.mailbox_size_limit = config_size(cfg, "mailbox_size_limit");
    local_cf.command_time_limit = (long)config_time(cfg, "command_time_limit");
    local_cf.lock.attempts = (long)config_int(cfg, "deliver_lock_attempts");
    local_cf.lock.delay_ms = (unsigned)(config_time(cfg, "deliver_lock_delay") * 1000);
    local_cf.lock.stale_secs = (unsigned)config_time(cfg, "stale_lock_time");
    mbox_lock_methods(&local_cf.lock, "mailbox_delivery_lock",
                      config_str(cfg, "mailbox_delivery_lock"));
    local_cf.allow_commands = class_bits(cfg, "allow_mail_to_commands");
    local_cf.allow_files = class_bits(cfg, "allow_mail_to_files");
    local_cf.delivered_header = class_bits(cfg, "prepend_delivered_header");
    local_cf.strict_ownership = config_bool(cfg, "strict_mailbox_ownership");
    local_cf.owner_request_special = config_bool(cfg, "owner_request_special");
    local_cf.enable_original_recipient = config_bool(cfg, "enable_original_recipient");
    if (local_cf.command_time_limit < 1)
        local_cf.command_time_limit = 1;

    local_cf.luser_relay = config_str(cfg, "luser_relay");
    local_cf.alias_maps = open_maps("alias_maps");
    local_cf.mailbox_command_maps = open_maps("mailbox_command_maps");
}

/* A table rebuilt since it was opened (postalias writes a new file and
 * renames it) is opened again, so the next delivery sees the new one.
 * Started as root, local still can; made unprivileged by master.cf, a
 * table only root may read becomes a deferring surrogate, as at start. */
static void refresh(maps **m, const char *name)
{
    (void)maps_refresh(m, config_str(local_cf.cfg, name), O_RDONLY, 0);
}

void local_config_refresh(void)
{
    refresh(&local_cf.alias_maps, "alias_maps");
    refresh(&local_cf.mailbox_command_maps, "mailbox_command_maps");
}

/* An account's uid and gid: fatal when a privileged local needs it and it
 * does not exist. */
static int account(const char *param, const char *name, uid_t *uid, gid_t *gid, char **login)
{
    struct passwd *pw = getpwnam(name);

    if (pw == NULL)
        return -1;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (login != NULL)
        *login = mem_strdup(pw->pw_name);
    (void)param;
    return 0;
}

void local_identity_init(void)
{
    config *cfg = local_cf.cfg;
    const char *default_privs = config_str(cfg, "default_privs");
    const char *mail_owner = config_str(cfg, "mail_owner");
    struct passwd *pw;

    local_cf.privileged = geteuid() == 0;
    local_cf.self_uid = getuid();
    pw = getpwuid(local_cf.self_uid);
    if (pw == NULL)
        msg_fatal("no account for uid %ld", (long)local_cf.self_uid);
    local_cf.self_name = mem_strdup(pw->pw_name);
    if (!local_cf.privileged) {
        /* One user does everything. */
        local_cf.default_uid = local_cf.mail_owner_uid = local_cf.self_uid;
        local_cf.default_gid = local_cf.mail_owner_gid = getgid();
        local_cf.default_name = mem_strdup(local_cf.self_name);
    } else {
        if (account("default_privs", default_privs, &local_cf.default_uid, &local_cf.default_gid,
                    &local_cf.default_name) < 0)
            msg_fatal("default_privs: unknown account \"%s\"", default_privs);
        if (local_cf.default_uid == 0)
            msg_fatal("default_privs: \"%s\" is root; specify an unprivileged account",
                      default_privs);
        if (account("mail_owner", mail_owner, &local_cf.mail_owner_uid, &local_cf.mail_owner_gid,
                    NULL) < 0)
            msg_fatal("mail_owner: unknown account \"%s\"", mail_owner);
        if (local_cf.mail_owner_uid == 0)
            msg_fatal("mail_owner: \"%s\" is root; specify an unprivileged account", mail_owner);
    }
    local_cf.default_priv.uid = local_cf.default_uid;
    local_cf.default_priv.gid = local_cf.default_gid;
    local_cf.default_priv.name = local_cf.default_name;
    local_cf.default_priv.home = "/";
    local_cf.default_priv.shell = "/bin/sh";
}

void local_config_free(void)
{
    maps_free(local_cf.alias_maps);
    maps_free(local_cf.mailbox_command_maps);
    argv_free(local_cf.mydestination);
    argv_free(local_cf.export_environment);
    mem_free(local_cf.self_name);
    mem_free(local_cf.default_name);
    memset(&local_cf, 0, sizeof(local_cf));
}

/*
 * param_table - every main.cf parameter Postern knows, with its default
 *
 * The rows are sorted by name (param_lookup searches them by bisection; a
 * unit test checks the order). Names and defaults are Postfix's, except
 * where a comment in the description says otherwise: the paths and
 * accounts are Postern's own (/etc/postern, postern, posterndrop), and
 * defaults that would permit routing tricks or weak TLS are the safe ones.
 *
 * Keep one row per parameter, starting with {"name", on its own line:
 * tests count the rows that way.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/param_table.h"

/* The bounds, unit, choices and flags columns, by kind of parameter. */
#define NOBOUNDS 0, 0, 0, NULL, 0
#define RAW 0, 0, 0, NULL, PARAM_F_RAW
#define DERIVED 0, 0, 0, NULL, PARAM_F_DERIVED
#define ONE_OF(choices) 0, 0, 0, choices, 0
#define ANY_OF(choices) 0, 0, 0, choices, PARAM_F_LIST
#define COUNT(lo) lo, PARAM_MAX, 0, NULL, 0
#define RANGE(lo, hi) lo, hi, 0, NULL, 0
#define TIME(unit, lo) lo, PARAM_MAX, unit, NULL, 0

// clang-format off
static const param_def param_rows[] = {
    {"2bounce_notice_recipient", PARAM_STR, "postmaster", NOBOUNDS,
     "Who receives undeliverable bounces (double bounces), and notices of the 2bounce class."},
    {"access_map_defer_code", PARAM_INT, "450", RANGE(400, 599),
     "The reply code of a DEFER action in an access table."},
    {"access_map_reject_code", PARAM_INT, "554", RANGE(400, 599),
     "The reply code of a REJECT action in an access table."},
    {"alias_database", PARAM_STR, "hash:/etc/aliases", NOBOUNDS,
     "The alias tables that newaliases builds."},
    {"alias_maps", PARAM_STR, "hash:/etc/aliases", NOBOUNDS,
     "The alias tables that local delivery looks recipients up in."},
    {"allow_mail_to_commands", PARAM_STR, "alias, forward", ANY_OF("alias|forward|include"),
     "Where |command destinations are allowed."},
    {"allow_mail_to_files", PARAM_STR, "alias, forward", ANY_OF("alias|forward|include"),
     "Where /file destinations are allowed."},
    {"allow_min_user", PARAM_BOOL, "no", NOBOUNDS,
     "Allow addresses that start with a - (they could be taken for command options)."},
    {"allow_percent_hack", PARAM_BOOL, "no", NOBOUNDS,
     "Rewrite user%domain@localhost to user@domain (Postfix's default is yes; Postern refuses "
     "routing tricks by default)."},
    {"allow_untrusted_routing", PARAM_BOOL, "no", NOBOUNDS,
     "Let untrusted clients relay with sender-specified routing (user%domain, user!domain, "
     "@route:user)."},
    {"alternate_config_directories", PARAM_STR, "", NOBOUNDS,
     "Other configuration directories that set-gid programs accept with -c or MAIL_CONFIG."},
    {"always_add_missing_headers", PARAM_BOOL, "no", NOBOUNDS,
     "Add From:, To:, Date: and Message-ID: also to mail from remote clients."},
    {"always_bcc", PARAM_STR, "", NOBOUNDS,
     "An address that receives a copy of every message."},
    {"anvil_rate_time_unit", PARAM_TIME, "60s", TIME('s', 1),
     "The time unit over which anvil counts connection, message and recipient rates."},
    {"anvil_status_update_time", PARAM_TIME, "600s", TIME('s', 0),
     "How often anvil logs its maximum counts and rates (statistics:); 0: never."},
    {"append_at_myorigin", PARAM_BOOL, "yes", NOBOUNDS,
     "Append @$myorigin to locally posted addresses without a domain."},
    {"append_dot_mydomain", PARAM_BOOL, "no", NOBOUNDS,
     "Append .$mydomain to addresses whose domain has no dot."},
    {"authorized_flush_users", PARAM_STR, "static:anyone", NOBOUNDS,
     "Users who may flush the queue with sendmail -q."},
    {"authorized_mailq_users", PARAM_STR, "static:anyone", NOBOUNDS,
     "Users who may see the queue with mailq."},
    {"authorized_submit_users", PARAM_STR, "static:anyone", NOBOUNDS,
     "Users who may submit mail with sendmail."},
    {"berkeley_db_create_buffer_size", PARAM_SIZE, "16777216", COUNT(1024),
     "The buffer Berkeley DB uses when postmap or postalias builds a table."},
    {"berkeley_db_read_buffer_size", PARAM_SIZE, "131072", COUNT(1024),
     "The buffer Berkeley DB uses when a program reads a table."},
    {"body_checks", PARAM_STR, "", NOBOUNDS,
     "Tables of patterns applied to each body line."},
    {"body_checks_size_limit", PARAM_SIZE, "51200", COUNT(0),
     "The most bytes of each body part (counted from its start) that body_checks see."},
    {"bounce_notice_recipient", PARAM_STR, "postmaster", NOBOUNDS,
     "Who receives the notices of the bounce class: copies of the headers of bounced mail."},
    {"bounce_queue_lifetime", PARAM_TIME, "5d", TIME('d', 0),
     "How long a bounce message may stay deferred before it is given up."},
    {"bounce_size_limit", PARAM_SIZE, "50000", COUNT(1),
     "The most bytes of the original message returned in a bounce."},
    {"bounce_template_file", PARAM_STR, "", NOBOUNDS,
     "A file with the texts of bounce messages; empty: the built-in ones."},
    {"broken_sasl_auth_clients", PARAM_BOOL, "no", NOBOUNDS,
     "Also announce AUTH the non-standard way (AUTH=), for old Outlook clients."},
    {"canonical_classes", PARAM_STR,
     "envelope_sender, envelope_recipient, header_sender, header_recipient",
     ANY_OF("envelope_sender|envelope_recipient|header_sender|header_recipient"),
     "Which addresses canonical_maps rewrites."},
    {"canonical_maps", PARAM_STR, "", NOBOUNDS,
     "Tables that rewrite sender and recipient addresses in the envelope and headers."},
    {"command_directory", PARAM_STR, "/usr/sbin", NOBOUNDS,
     "Where the administrative commands are installed."},
    {"command_execution_directory", PARAM_STR, "", RAW,
     "The working directory of commands run by local delivery; empty: the recipient's home "
     "directory."},
    {"command_expansion_filter", PARAM_STR,
     "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
     NOBOUNDS,
     "The characters allowed in $name values substituted into commands; others become "
     "underscores."},
    {"command_time_limit", PARAM_TIME, "1000s", TIME('s', 1),
     "How long a command delivery (|command, mailbox_command) may take."},
    {"compatibility_level", PARAM_STR, "3.6", NOBOUNDS,
     "Accepted for compatibility with Postfix configuration files; Postern's defaults are "
     "always the safe ones."},
    {"config_directory", PARAM_STR, "/etc/postern", NOBOUNDS,
     "Where main.cf and master.cf live; set by -c DIR or MAIL_CONFIG, not in main.cf."},
    {"confirm_delay_cleared", PARAM_BOOL, "no", NOBOUNDS,
     "Tell the sender when a message that was reported delayed has been delivered."},
    {"content_filter", PARAM_STR, "", NOBOUNDS,
     "The transport:nexthop that every message goes to after it is queued."},
    {"cyrus_sasl_config_path", PARAM_STR, "", NOBOUNDS,
     "Where Cyrus SASL looks for smtpd.conf; empty: its built-in search path."},
    {"daemon_directory", PARAM_STR, "/usr/lib/postern", NOBOUNDS,
     "Where master finds the daemon programs."},
    {"daemon_timeout", PARAM_TIME, "18000s", TIME('s', 1),
     "How long a daemon may work on one request before it is stopped."},
    {"data_directory", PARAM_STR, "/var/lib/postern", NOBOUNDS,
     "Writable data of the mail system (caches, pseudo-random state), owned by mail_owner."},
    {"debug_peer_level", PARAM_INT, "2", COUNT(1),
     "How much more detail is logged for a host in debug_peer_list."},
    {"debug_peer_list", PARAM_STR, "", NOBOUNDS,
     "Hosts and networks whose sessions are logged with more detail."},
    {"default_database_type", PARAM_STR, "hash", NOBOUNDS,
     "The table type postmap and postalias use when none is given."},
    {"default_destination_concurrency_failed_cohort_limit", PARAM_INT, "1", COUNT(0),
     "Failed deliveries in a row after which a destination is considered dead."},
    {"default_destination_concurrency_limit", PARAM_INT, "20", COUNT(0),
     "Parallel deliveries to one destination; transport_destination_concurrency_limit "
     "overrides it per transport."},
    {"default_destination_rate_delay", PARAM_TIME, "0s", TIME('s', 0),
     "Pause between deliveries to one destination; 0: none."},
    {"default_destination_recipient_limit", PARAM_INT, "50", COUNT(0),
     "Recipients per delivery request; transport_destination_recipient_limit overrides it per "
     "transport."},
    {"default_extra_recipient_limit", PARAM_INT, "1000", COUNT(1),
     "Room for more recipients in memory per transport when a message has many."},
    {"default_filter_nexthop", PARAM_STR, "", NOBOUNDS,
     "The next hop of a content_filter or FILTER without one; empty: the recipient domain."},
    {"default_privs", PARAM_STR, "nobody", NOBOUNDS,
     "The account that local delivery runs as for aliases and other addresses that belong to "
     "no user."},
    {"default_process_limit", PARAM_INT, "100", COUNT(1),
     "The most processes of a service when master.cf says - for maxproc."},
    {"default_rbl_reply", PARAM_STR,
     "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
     "$rbl_domain${rbl_reason?; $rbl_reason}",
     RAW,
     "The reply template for a DNSBL hit without an entry in rbl_reply_maps."},
    {"default_recipient_limit", PARAM_INT, "20000", COUNT(1),
     "The most recipients in memory per transport."},
    {"default_transport", PARAM_STR, "smtp", NOBOUNDS,
     "The transport for mail to domains that are neither local, virtual nor relay domains."},
    {"defer_code", PARAM_INT, "450", RANGE(400, 599),
     "The reply code of the defer restriction."},
    {"delay_logging_resolution_limit", PARAM_INT, "2", RANGE(0, 6),
     "Digits after the decimal point in the delay= and delays= fields of log lines."},
    {"delay_notice_recipient", PARAM_STR, "postmaster", NOBOUNDS,
     "Who receives the notices of the delay class."},
    {"delay_warning_time", PARAM_TIME, "0h", TIME('h', 0),
     "After how long the sender is told that a message is still undelivered; 0: never."},
    {"deliver_lock_attempts", PARAM_INT, "20", COUNT(1),
     "How often local delivery tries to lock a mailbox."},
    {"deliver_lock_delay", PARAM_TIME, "1s", TIME('s', 1),
     "The pause between attempts to lock a mailbox."},
    {"disable_mime_input_processing", PARAM_BOOL, "no", NOBOUNDS,
     "Treat the message as one text, without looking into its MIME parts."},
    {"disable_vrfy_command", PARAM_BOOL, "no", NOBOUNDS,
     "Refuse VRFY, which tells whether an address exists."},
    {"dns_lookup_timeout", PARAM_TIME, "10s", TIME('s', 1),
     "How long one DNS lookup may take, every server and retry included; smtpd's client-name "
     "lookups (PTR, then A/AAAA) share one (Postern's own; Postfix leaves this to the "
     "resolver)."},
    {"dns_servers", PARAM_STR, "", NOBOUNDS,
     "The DNS servers to query, as address or address:port; empty: those in /etc/resolv.conf. "
     "For tests against a local name server on a high port."},
    {"double_bounce_sender", PARAM_STR, "double-bounce", NOBOUNDS,
     "The sender of postmaster notices; mail to it is discarded, so bounces never loop."},
    {"duplicate_filter_limit", PARAM_INT, "1000", COUNT(0),
     "Recipients remembered per message to drop duplicates."},
    {"empty_address_recipient", PARAM_STR, "MAILER-DAEMON", NOBOUNDS,
     "The recipient of mail addressed to the null sender."},
    {"empty_address_relayhost_maps_lookup_key", PARAM_STR, "<>", NOBOUNDS,
     "The sender_dependent_relayhost_maps key for the null sender."},
    {"enable_original_recipient", PARAM_BOOL, "yes", NOBOUNDS,
     "Keep each recipient's original address for delivery status notifications."},
    {"error_notice_recipient", PARAM_STR, "postmaster", NOBOUNDS,
     "Who receives the notices of the resource, software, protocol and policy classes."},
    {"expand_owner_alias", PARAM_BOOL, "no", NOBOUNDS,
     "Send bounces for an alias with an owner-alias to the expanded owner address."},
    {"export_environment", PARAM_STR, "TZ MAIL_CONFIG LANG", NOBOUNDS,
     "Environment variables passed on to external commands run by local delivery."},
    {"fallback_transport", PARAM_STR, "", NOBOUNDS,
     "Where local delivery hands recipients it does not find in the password database or "
     "aliases."},
    {"fork_attempts", PARAM_INT, "5", COUNT(1),
     "How often a process tries to fork before it gives up."},
    {"fork_delay", PARAM_TIME, "1s", TIME('s', 1),
     "The pause between attempts to fork."},
    {"forward_path", PARAM_STR,
     "$home/.forward${recipient_delimiter}${extension}, $home/.forward",
     RAW,
     "The .forward files local delivery looks for; $home, $user, $extension and friends are "
     "filled in for each recipient."},
    {"header_address_token_limit", PARAM_INT, "10240", COUNT(1),
     "The most address tokens in one header."},
    {"header_checks", PARAM_STR, "", NOBOUNDS,
     "Tables of patterns applied to each of the message's own headers, unfolded (REJECT, WARN, "
     "IGNORE, PREPEND, ...; see header_checks(5))."},
    {"header_from_format", PARAM_STR, "standard", ONE_OF("standard|obsolete"),
     "The format of the From: header added to mail without one."},
    {"header_size_limit", PARAM_SIZE, "102400", COUNT(1),
     "The largest message header, in bytes; beyond it the rest is treated as body."},
    {"home_mailbox", PARAM_STR, "", NOBOUNDS,
     "The mailbox path relative to the recipient's home directory; ending in / makes it a "
     "Maildir. Empty: mbox in mail_spool_directory."},
    {"hopcount_limit", PARAM_INT, "50", COUNT(1),
     "The most Received: headers a message may have before it bounces as looping."},
    {"import_environment", PARAM_STR, "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C", NOBOUNDS,
     "Environment variables that daemons keep from their parent (name) or set (name=value)."},
    {"in_flow_delay", PARAM_TIME, "1s", TIME('s', 0),
     "How long submission waits when mail comes in faster than it is delivered; 0: no "
     "waiting."},
    {"inet_interfaces", PARAM_STR, "all", NOBOUNDS,
     "The addresses the SMTP server and other inet services listen on: all, loopback-only, or "
     "a list of addresses."},
    {"inet_protocols", PARAM_STR, "all", ANY_OF("all|ipv4|ipv6"),
     "The IP protocols used for listening and for outbound connections: all, ipv4, ipv6 or "
     "both."},
    {"initial_destination_concurrency", PARAM_INT, "5", COUNT(1),
     "The starting concurrency of slow start to a destination."},
    {"invalid_hostname_reject_code", PARAM_INT, "501", RANGE(400, 599),
     "The reply code of reject_invalid_helo_hostname."},
    {"ipc_idle", PARAM_TIME, "5s", TIME('s', 1),
     "How long a client keeps an idle connection to another Postern process."},
    {"ipc_timeout", PARAM_TIME, "3600s", TIME('s', 1),
     "The time limit for one exchange with another Postern process."},
    {"line_length_limit", PARAM_SIZE, "2048", COUNT(1),
     "The longest line kept whole; longer lines are broken into pieces of this length."},
    {"lmdb_map_size", PARAM_SIZE, "16777216", COUNT(8192),
     "The initial size of a new lmdb: table; it grows when full."},
    {"lmtp_connect_timeout", PARAM_TIME, "0s", TIME('s', 0),
     "The time limit to connect to an LMTP server; 0: the system's."},
    {"lmtp_lhlo_name", PARAM_STR, "$myhostname", NOBOUNDS,
     "The name the client sends in LHLO."},
    {"lmtp_lhlo_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit for the greeting and the reply to LHLO."},
    {"lmtp_tcp_port", PARAM_STR, "24", NOBOUNDS,
     "The port the LMTP client connects to when the next hop names none."},
    {"local_command_shell", PARAM_STR, "", NOBOUNDS,
     "The shell that runs |command deliveries; empty: /bin/sh for commands with shell syntax, "
     "else run directly."},
    {"local_destination_concurrency_limit", PARAM_INT, "2", COUNT(0),
     "Parallel deliveries to one local recipient."},
    {"local_destination_recipient_limit", PARAM_INT, "1", COUNT(0),
     "Recipients per local delivery request."},
    {"local_header_rewrite_clients", PARAM_STR, "permit_inet_interfaces", NOBOUNDS,
     "Clients whose message headers are rewritten (qualified with myorigin) as if posted "
     "locally."},
    {"local_recipient_maps", PARAM_STR, "unix:passwd.byname $alias_maps", NOBOUNDS,
     "Tables of the valid local recipients; mail for others is refused at RCPT with 550 "
     "5.1.1. Empty: accept every local recipient."},
    {"local_transport", PARAM_STR, "local:$myhostname", NOBOUNDS,
     "The transport for mail to mydestination and the host's own addresses."},
    {"luser_relay", PARAM_STR, "", RAW,
     "Where mail for unknown local recipients goes instead of bouncing ($user, $domain filled "
     "in)."},
    {"mail_name", PARAM_STR, "Postern", NOBOUNDS,
     "The mail system's name, in the SMTP greeting and in bounce messages."},
    {"mail_owner", PARAM_STR, "postern", NOBOUNDS,
     "The account that owns the queue and runs the unprivileged daemons; must not be root or "
     "shared with another service."},
    {"mail_spool_directory", PARAM_STR, "/var/mail", NOBOUNDS,
     "The directory of mbox mailboxes, one file per user."},
    {"mail_version", PARAM_STR, "0.1", NOBOUNDS,
     "The version of Postern (read-only)."},
    {"mailbox_command", PARAM_STR, "", RAW,
     "A command, such as procmail, that delivers to the mailbox instead of local delivery; "
     "run as the recipient."},
    {"mailbox_command_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from user to a mailbox_command for that user."},
    {"mailbox_delivery_lock", PARAM_STR, "fcntl, dotlock", ANY_OF("fcntl|flock|dotlock"),
     "How mbox files are locked during delivery."},
    {"mailbox_size_limit", PARAM_SIZE, "51200000", COUNT(0),
     "The largest mailbox file local delivery appends to, in bytes; 0: no limit."},
    {"mailbox_transport", PARAM_STR, "", NOBOUNDS,
     "Where local delivery hands mail for local users after alias and .forward processing "
     "(e.g. lmtp:unix:/path)."},
    {"maillog_file", PARAM_STR, "", NOBOUNDS,
     "Log to this file instead of syslog; empty: syslog."},
    {"maillog_file_prefixes", PARAM_STR, "/var, /dev/stdout", NOBOUNDS,
     "The prefixes a maillog_file pathname must start with."},
    {"mailq_path", PARAM_STR, "/usr/bin/mailq", NOBOUNDS,
     "The full path of the mailq command."},
    {"manpage_directory", PARAM_STR, "/usr/share/man", NOBOUNDS,
     "Where the manual pages are installed."},
    {"maps_rbl_reject_code", PARAM_INT, "554", RANGE(400, 599),
     "The reply code when a DNSBL lists the client, sender or HELO domain."},
    {"masquerade_classes", PARAM_STR,
     "envelope_sender, header_sender, header_recipient",
     ANY_OF("envelope_sender|envelope_recipient|header_sender|header_recipient"),
     "Which addresses are masqueraded."},
    {"masquerade_domains", PARAM_STR, "", NOBOUNDS,
     "Domains whose subdomains are hidden in sender addresses: user@host.example.com becomes "
     "user@example.com."},
    {"masquerade_exceptions", PARAM_STR, "", NOBOUNDS,
     "Local parts (such as root) that are never masqueraded."},
    {"master_service_disable", PARAM_STR, "", NOBOUNDS,
     "master.cf services to leave out, as service/type."},
    {"max_idle", PARAM_TIME, "100s", TIME('s', 1),
     "How long a daemon waits for its next client before it exits."},
    {"max_use", PARAM_INT, "100", COUNT(1),
     "How many clients a daemon serves before it exits."},
    {"maximal_backoff_time", PARAM_TIME, "4000s", TIME('s', 1),
     "The longest time a deferred message waits before the next attempt."},
    {"maximal_queue_lifetime", PARAM_TIME, "5d", TIME('d', 0),
     "How long a message may stay deferred before it is bounced; 0: one attempt only."},
    {"message_drop_headers", PARAM_STR, "bcc, content-length, resent-bcc, return-path", NOBOUNDS,
     "The message headers (by name, any case) removed from every message when it is queued; header_checks still see them."},
    {"message_reject_characters", PARAM_STR, "", NOBOUNDS,
     "Characters that make a message be refused when they appear in it."},
    {"message_size_limit", PARAM_SIZE, "10240000", COUNT(0),
     "The largest message accepted, envelope included, in bytes; 0: no limit."},
    {"message_strip_characters", PARAM_STR, "", NOBOUNDS,
     "Characters removed from messages."},
    {"milter_command_timeout", PARAM_TIME, "30s", TIME('s', 1),
     "The time limit for a milter's reply to a command."},
    {"milter_connect_timeout", PARAM_TIME, "30s", TIME('s', 1),
     "The time limit to connect to a milter."},
    {"milter_content_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit for a milter's reply to message content."},
    {"milter_default_action", PARAM_STR, "tempfail", ONE_OF("accept|reject|tempfail|quarantine"),
     "What happens to mail when a milter is unavailable or misbehaves."},
    {"milter_protocol", PARAM_INT, "6", RANGE(2, 6),
     "The milter protocol version spoken."},
    {"mime_boundary_length_limit", PARAM_INT, "2048", COUNT(1),
     "The longest MIME boundary string remembered."},
    {"mime_header_checks", PARAM_STR, "$header_checks", NOBOUNDS,
     "Tables of patterns applied to MIME headers (Content-*, MIME-Version) and to every header "
     "of a multipart part."},
    {"mime_nesting_limit", PARAM_INT, "100", COUNT(1),
     "The deepest nesting of multipart entities and attached messages followed."},
    {"minimal_backoff_time", PARAM_TIME, "300s", TIME('s', 1),
     "The shortest time a deferred message waits before the next attempt."},
    {"mydestination", PARAM_STR, "$myhostname, localhost.$mydomain, localhost", NOBOUNDS,
     "The domains delivered locally (aliases, .forward, mailboxes); mail for them never "
     "leaves this host."},
    {"mydomain", PARAM_STR, NULL, DERIVED,
     "The domain of this host. Default: myhostname without its first label, or localdomain "
     "when it has only one."},
    {"myhostname", PARAM_STR, NULL, DERIVED,
     "The fully qualified name of this host, used in the SMTP greeting, HELO/EHLO and "
     "Received: headers. Default: the system's host name, qualified through the resolver, "
     "else with .localdomain appended."},
    {"mynetworks", PARAM_STR, NULL, DERIVED,
     "The client networks trusted to relay through this host (permit_mynetworks), tried in "
     "order, the first match deciding: network/prefix or address (IPv6 in brackets), "
     "/file/name (its patterns, '#' comments), type:table (the client address looked up), "
     "!pattern (not trusted). A table that cannot be read defers (451 4.3.0). Default: "
     "computed from mynetworks_style."},
    {"mynetworks_style", PARAM_STR, "host", ONE_OF("host|subnet|class"),
     "How the default mynetworks is computed: host trusts 127.0.0.0/8, [::1]/128 and this "
     "host's own addresses; subnet adds the subnets of its interfaces; class their whole "
     "address classes."},
    {"myorigin", PARAM_STR, "$myhostname", NOBOUNDS,
     "The domain that locally posted mail appears to come from, and that unqualified "
     "addresses are completed with."},
    {"nested_header_checks", PARAM_STR, "$header_checks", NOBOUNDS,
     "Tables of patterns applied to the headers of attached messages."},
    {"newaliases_path", PARAM_STR, "/usr/bin/newaliases", NOBOUNDS,
     "The full path of the newaliases command."},
    {"non_fqdn_reject_code", PARAM_INT, "504", RANGE(400, 599),
     "The reply code of the reject_non_fqdn_* restrictions."},
    {"non_smtpd_milters", PARAM_STR, "", NOBOUNDS,
     "Milter applications that see mail submitted with sendmail."},
    {"notify_classes", PARAM_STR,
     "resource, software",
     ANY_OF("bounce|2bounce|data|delay|policy|protocol|resource|software"),
     "Which problems are reported to the postmaster by mail."},
    {"owner_request_special", PARAM_BOOL, "yes", NOBOUNDS,
     "Give list-request and owner-list addresses their special meaning for mailing lists."},
    {"parent_domain_matches_subdomains", PARAM_STR,
     "debug_peer_list, fast_flush_domains, mynetworks, permit_mx_backup_networks, "
     "qmqpd_authorized_clients, relay_domains, smtpd_access_maps",
     NOBOUNDS,
     "Features in which a domain name also matches its subdomains; elsewhere .domain must be "
     "written for that."},
    {"permit_mx_backup_networks", PARAM_STR, "", NOBOUNDS,
     "Networks whose primary MX hosts permit_mx_backup accepts mail for."},
    {"plaintext_reject_code", PARAM_INT, "450", RANGE(400, 599),
     "The reply code when a command requires TLS that is not in use."},
    {"prepend_delivered_header", PARAM_STR,
     "command, file, forward",
     ANY_OF("command|file|forward|alias"),
     "Deliveries that get a Delivered-To: header."},
    {"process_id_directory", PARAM_STR, "pid", NOBOUNDS,
     "Where the lock files of master and other single daemons are, relative to "
     "queue_directory."},
    {"propagate_unmatched_extensions", PARAM_STR,
     "canonical, virtual",
     ANY_OF("canonical|virtual|alias|forward|include|generic"),
     "Where an address extension is carried over to the result of a table lookup that matched "
     "without it."},
    {"proxy_interfaces", PARAM_STR, "", NOBOUNDS,
     "Addresses of a proxy or NAT in front of this host that also count as this host's own."},
    {"qmgr_clog_warn_time", PARAM_TIME, "300s", TIME('s', 0),
     "How often the queue manager logs that the active queue is full; 0: never."},
    {"qmgr_message_active_limit", PARAM_INT, "20000", COUNT(1),
     "The most messages in the active queue at once."},
    {"qmgr_message_recipient_limit", PARAM_INT, "20000", COUNT(1),
     "The most recipients held in memory by the queue manager."},
    {"qmgr_message_recipient_minimum", PARAM_INT, "10", COUNT(1),
     "The fewest recipients of one message held in memory."},
    {"qmgr_nice_adjustment", PARAM_INT, "-10", RANGE(-20, 0),
     "Postern: added by a master running as root to its own nice value for the queue manager it starts (qmgr, which must not wait behind the delivery agents it schedules); 0: none."},
    {"queue_directory", PARAM_STR, "/var/spool/postern", NOBOUNDS,
     "The root of the mail queue."},
    {"queue_minfree", PARAM_SIZE, "0", COUNT(0),
     "Free space in the queue file system below which mail is refused; 0: no check beyond 1.5 "
     "times message_size_limit."},
    {"queue_run_delay", PARAM_TIME, "300s", TIME('s', 1),
     "How often the deferred queue is scanned."},
    {"rbl_reply_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from DNSBL domain to a reply template for reject_rbl_client and friends."},
    {"receive_override_options", PARAM_STR, "", NOBOUNDS,
     "Switch off parts of message reception, per service (no_header_body_checks, "
     "no_address_mappings, ...)."},
    {"recipient_bcc_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from recipient to an address that receives a copy."},
    {"recipient_canonical_maps", PARAM_STR, "", NOBOUNDS,
     "Tables that rewrite recipient addresses."},
    {"recipient_delimiter", PARAM_STR, "", NOBOUNDS,
     "The characters that separate a user name from an address extension (user+ext); empty: "
     "no extensions."},
    {"reject_code", PARAM_INT, "554", RANGE(400, 599),
     "The reply code of the reject restriction."},
    {"reject_tempfail_action", PARAM_STR,
     "defer_if_permit",
     ONE_OF("defer|defer_if_permit|defer_if_reject|reject"),
     "What a restriction does when a lookup fails temporarily."},
    {"relay_clientcerts", PARAM_STR, "", NOBOUNDS,
     "Tables of client certificate fingerprints that permit_tls_clientcerts trusts to relay."},
    {"relay_domains", PARAM_STR, "", NOBOUNDS,
     "Domains this host relays to from anywhere, such as a backup MX for them; the rest of "
     "the world may only send to local and virtual domains."},
    {"relay_domains_reject_code", PARAM_INT, "554", RANGE(400, 599),
     "The reply code of reject_unauth_destination."},
    {"relay_recipient_maps", PARAM_STR, "", NOBOUNDS,
     "Tables of the valid recipients in relay_domains; mail for others is refused at RCPT."},
    {"relay_transport", PARAM_STR, "relay", NOBOUNDS,
     "The transport for mail to relay_domains."},
    {"relayhost", PARAM_STR, "", NOBOUNDS,
     "Send mail for non-local domains to this host instead of looking up MX records: host, "
     "[host], host:port or [host]:port."},
    {"relocated_maps", PARAM_STR, "", NOBOUNDS,
     "Tables of addresses that have moved: smtpd refuses them at RCPT and queued mail to "
     "them bounces, with 5.1.6 and the new address."},
    {"remote_header_rewrite_domain", PARAM_STR, "", NOBOUNDS,
     "The domain that headers of mail from other clients are qualified with; empty: not "
     "rewritten."},
    {"require_home_directory", PARAM_BOOL, "no", NOBOUNDS,
     "Defer delivery to a user whose home directory does not exist."},
    {"resolve_dequoted_address", PARAM_BOOL, "yes", NOBOUNDS,
     "Resolve an address with a quoted local part such as \"user@domain\"@example.com after "
     "removing the quotes."},
    {"resolve_null_domain", PARAM_BOOL, "no", NOBOUNDS,
     "Resolve user@ (an empty domain) as a local address instead of refusing it."},
    {"resolve_numeric_domain", PARAM_BOOL, "no", NOBOUNDS,
     "Resolve user@ipaddress as a local address when the address is one of this host's."},
    {"sender_bcc_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from sender to an address that receives a copy."},
    {"sender_canonical_maps", PARAM_STR, "", NOBOUNDS,
     "Tables that rewrite sender addresses."},
    {"sender_dependent_default_transport_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from sender address or domain to a transport, overriding default_transport."},
    {"sender_dependent_relayhost_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from sender address or domain to a relayhost, overriding relayhost."},
    {"sendmail_fix_line_endings", PARAM_STR, "always", ONE_OF("always|strict|never"),
     "When sendmail turns bare LF line endings into CRLF."},
    {"sendmail_path", PARAM_STR, "/usr/sbin/sendmail", NOBOUNDS,
     "The full path of the sendmail command."},
    {"service_throttle_time", PARAM_TIME, "60s", TIME('s', 1),
     "How long master waits before it starts a service that failed at start-up again."},
    {"setgid_group", PARAM_STR, "posterndrop", NOBOUNDS,
     "The group of postdrop and postqueue, which alone may write to the maildrop directory."},
    {"smtp_address_preference", PARAM_STR, "any", ONE_OF("any|ipv4|ipv6"),
     "Which address family to try first when a server has both."},
    {"smtp_bind_address", PARAM_STR, "", NOBOUNDS,
     "The IPv4 address outbound connections come from; empty: any."},
    {"smtp_bind_address6", PARAM_STR, "", NOBOUNDS,
     "The IPv6 address outbound connections come from; empty: any."},
    {"smtp_connect_timeout", PARAM_TIME, "30s", TIME('s', 1),
     "The time limit to connect to a server."},
    {"smtp_connection_cache_destinations", PARAM_STR, "", NOBOUNDS,
     "Destinations whose connections are always kept open for reuse."},
    {"smtp_connection_cache_on_demand", PARAM_BOOL, "yes", NOBOUNDS,
     "Keep a connection open for the next message to the same destination."},
    {"smtp_connection_cache_time_limit", PARAM_TIME, "2s", TIME('s', 1),
     "How long an unused cached connection stays open."},
    {"smtp_connection_reuse_count_limit", PARAM_INT, "0", COUNT(0),
     "How often one connection may be reused; 0: no limit."},
    {"smtp_connection_reuse_time_limit", PARAM_TIME, "300s", TIME('s', 1),
     "How long one connection may be reused."},
    {"smtp_data_done_timeout", PARAM_TIME, "600s", TIME('s', 1),
     "The time limit for the reply after the final dot."},
    {"smtp_data_init_timeout", PARAM_TIME, "120s", TIME('s', 1),
     "The time limit for the reply to DATA."},
    {"smtp_data_xfer_timeout", PARAM_TIME, "180s", TIME('s', 1),
     "The time limit for sending each piece of message content."},
    {"smtp_defer_if_no_mx_address_found", PARAM_BOOL, "no", NOBOUNDS,
     "Defer instead of using the A record when MX hosts have no address."},
    {"smtp_dns_support_level", PARAM_STR, "", ONE_OF("|disabled|enabled|dnssec"),
     "DNS features the SMTP client uses; dnssec is needed for DANE. Empty: enabled."},
    {"smtp_fallback_relay", PARAM_STR, "", NOBOUNDS,
     "Hosts to try when the destination's own servers cannot be reached."},
    {"smtp_generic_maps", PARAM_STR, "", NOBOUNDS,
     "Tables that rewrite addresses in mail sent to other hosts (e.g. local names to public "
     "ones)."},
    {"smtp_helo_name", PARAM_STR, "$myhostname", NOBOUNDS,
     "The name the client sends in HELO/EHLO."},
    {"smtp_helo_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit for the greeting and the reply to HELO/EHLO."},
    {"smtp_host_lookup", PARAM_STR, "dns", ANY_OF("dns|native"),
     "How the SMTP client finds the addresses of servers: DNS, the system's resolver, or both "
     "in turn."},
    {"smtp_line_length_limit", PARAM_INT, "998", COUNT(0),
     "The longest line sent; longer lines are folded. 0: no limit."},
    {"smtp_mail_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit for the reply to MAIL FROM."},
    {"smtp_mx_address_limit", PARAM_INT, "5", COUNT(0),
     "The most server addresses tried per delivery; 0: no limit."},
    {"smtp_mx_session_limit", PARAM_INT, "2", COUNT(0),
     "The most SMTP sessions tried per delivery; 0: no limit."},
    {"smtp_never_send_ehlo", PARAM_BOOL, "no", NOBOUNDS,
     "Send HELO, never EHLO."},
    {"smtp_quit_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit for the reply to QUIT."},
    {"smtp_rcpt_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit for the reply to RCPT TO."},
    {"smtp_sasl_auth_enable", PARAM_BOOL, "no", NOBOUNDS,
     "Authenticate to servers with SMTP AUTH."},
    {"smtp_sasl_auth_soft_bounce", PARAM_BOOL, "yes", NOBOUNDS,
     "Defer, not bounce, mail when a server refuses the login with 5xx."},
    {"smtp_sasl_mechanism_filter", PARAM_STR, "", NOBOUNDS,
     "The SASL mechanisms the client may use, of those a server offers; empty: all."},
    {"smtp_sasl_password_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from sender (smtp_sender_dependent_authentication), next hop as written "
     "([host]:port), host, or server name to username:password."},
    {"smtp_sasl_path", PARAM_STR, "", NOBOUNDS,
     "The Cyrus SASL application name of the client (Cyrus's client reads no configuration "
     "file: accepted for compatibility)."},
    {"smtp_sasl_security_options", PARAM_STR,
     "noplaintext, noanonymous",
     ANY_OF("noanonymous|noplaintext|noactive|nodictionary|mutual_auth"),
     "SASL mechanism properties required without TLS."},
    {"smtp_sasl_tls_security_options", PARAM_STR, "$smtp_sasl_security_options", NOBOUNDS,
     "SASL mechanism properties required over TLS."},
    {"smtp_sasl_type", PARAM_STR, "cyrus", ONE_OF("cyrus"),
     "The SASL implementation of the client."},
    {"smtp_sender_dependent_authentication", PARAM_BOOL, "no", NOBOUNDS,
     "Look smtp_sasl_password_maps up by sender first."},
    {"smtp_skip_5xx_greeting", PARAM_BOOL, "yes", NOBOUNDS,
     "Try the next server when one greets with 5xx, instead of bouncing."},
    {"smtp_starttls_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit of the client's TLS handshake."},
    {"smtp_tcp_port", PARAM_STR, "smtp", NOBOUNDS,
     "The port the SMTP client connects to when the next hop names none."},
    {"smtp_tls_CAfile", PARAM_STR, "", NOBOUNDS,
     "CA certificates for verifying servers."},
    {"smtp_tls_CApath", PARAM_STR, "", NOBOUNDS,
     "A directory of CA certificates for verifying servers."},
    {"smtp_tls_cert_file", PARAM_STR, "", NOBOUNDS,
     "The client certificate (PEM), sent when a server asks for one."},
    {"smtp_tls_chain_files", PARAM_STR, "", NOBOUNDS,
     "Files with client keys and certificate chains."},
    {"smtp_tls_ciphers", PARAM_STR, "medium", ONE_OF("export|low|medium|high|null"),
     "The minimum cipher grade when TLS is opportunistic."},
    {"smtp_tls_exclude_ciphers", PARAM_STR, "", NOBOUNDS,
     "Ciphers or cipher types never used by the client."},
    {"smtp_tls_fingerprint_cert_match", PARAM_STR, "", NOBOUNDS,
     "Fingerprints accepted at the fingerprint level."},
    {"smtp_tls_fingerprint_digest", PARAM_STR, "sha256", ONE_OF("md5|sha1|sha256|sha512"),
     "The digest of server certificate fingerprints."},
    {"smtp_tls_key_file", PARAM_STR, "$smtp_tls_cert_file", NOBOUNDS,
     "The private key of smtp_tls_cert_file."},
    {"smtp_tls_loglevel", PARAM_INT, "0", RANGE(0, 4),
     "How much the client logs about TLS: 0 nothing, 1 a summary, more for debugging."},
    {"smtp_tls_mandatory_ciphers", PARAM_STR, "medium", ONE_OF("export|low|medium|high|null"),
     "The minimum cipher grade when TLS is required."},
    {"smtp_tls_mandatory_exclude_ciphers", PARAM_STR, "", NOBOUNDS,
     "Ciphers excluded in addition when TLS is required."},
    {"smtp_tls_mandatory_protocols", PARAM_STR, ">=TLSv1.2", NOBOUNDS,
     "TLS versions the client uses when TLS is required."},
    {"smtp_tls_note_starttls_offer", PARAM_BOOL, "no", NOBOUNDS,
     "Log servers that offer STARTTLS when TLS is not used with them."},
    {"smtp_tls_policy_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from destination to a TLS policy (level and attributes such as match= and "
     "protocols=)."},
    {"smtp_tls_protocols", PARAM_STR, ">=TLSv1.2", NOBOUNDS,
     "TLS versions the client uses when TLS is opportunistic."},
    {"smtp_tls_secure_cert_match", PARAM_STR, "nexthop, dot-nexthop", NOBOUNDS,
     "The names a server certificate must match at the secure level."},
    {"smtp_tls_security_level", PARAM_STR,
     "none",
     ONE_OF("none|may|encrypt|dane|dane-only|fingerprint|verify|secure"),
     "TLS in the SMTP client: none, may, encrypt, dane, dane-only, fingerprint, verify or "
     "secure."},
    {"smtp_tls_servername", PARAM_STR, "", NOBOUNDS,
     "The name sent with SNI: hostname, nexthop or a fixed name; empty: none."},
    {"smtp_tls_session_cache_database", PARAM_STR, "", NOBOUNDS,
     "A table shared by smtp processes for client TLS sessions; not implemented (warned about, "
     "ignored): each process keeps its own."},
    {"smtp_tls_session_cache_timeout", PARAM_TIME, "3600s", TIME('s', 0),
     "How long the smtp client keeps a TLS session to resume it; 0: no resumption."},
    {"smtp_tls_verify_cert_match", PARAM_STR, "hostname", NOBOUNDS,
     "The names a server certificate must match at the verify level."},
    {"smtp_tls_wrappermode", PARAM_BOOL, "no", NOBOUNDS,
     "Start TLS at connection time (port 465) instead of with STARTTLS."},
    {"smtpd_banner", PARAM_STR, "$myhostname ESMTP $mail_name", NOBOUNDS,
     "The text after 220 in the SMTP greeting; must begin with $myhostname."},
    {"smtpd_client_auth_rate_limit", PARAM_INT, "0", COUNT(0),
     "AUTH commands one client may send per minute; 0: no limit."},
    {"smtpd_client_connection_count_limit", PARAM_INT, "50", COUNT(0),
     "Simultaneous connections one client may hold; 0: no limit."},
    {"smtpd_client_connection_rate_limit", PARAM_INT, "0", COUNT(0),
     "Connections one client may make per anvil_rate_time_unit; 0: no limit."},
    {"smtpd_client_event_limit_exceptions", PARAM_STR,
     "${smtpd_client_connection_limit_exceptions:$mynetworks}", NOBOUNDS,
     "Client addresses and networks (mynetworks syntax) the connection and rate limits do not "
     "apply to."},
    {"smtpd_client_message_rate_limit", PARAM_INT, "0", COUNT(0),
     "Messages (MAIL FROM) one client may send per anvil_rate_time_unit; 0: no limit."},
    {"smtpd_client_port_logging", PARAM_BOOL, "no", NOBOUNDS,
     "Log the client's port with its address."},
    {"smtpd_client_recipient_rate_limit", PARAM_INT, "0", COUNT(0),
     "Recipients (RCPT TO) one client may send to per anvil_rate_time_unit; 0: no limit."},
    {"smtpd_client_restrictions", PARAM_STR, "", NOBOUNDS,
     "Restrictions applied to the client's name and address."},
    {"smtpd_data_restrictions", PARAM_STR, "", NOBOUNDS,
     "Restrictions applied at DATA."},
    {"smtpd_delay_reject", PARAM_BOOL, "yes", NOBOUNDS,
     "Apply the client, HELO and sender restrictions at RCPT, so that rejections name the "
     "recipient."},
    {"smtpd_discard_ehlo_keywords", PARAM_STR, "", NOBOUNDS,
     "EHLO keywords not offered to clients."},
    {"smtpd_end_of_data_restrictions", PARAM_STR, "", NOBOUNDS,
     "Restrictions applied when the message has been received."},
    {"smtpd_error_sleep_time", PARAM_TIME, "1s", TIME('s', 0),
     "The delay before each error reply once the client has made smtpd_soft_error_limit "
     "errors."},
    {"smtpd_etrn_restrictions", PARAM_STR, "", NOBOUNDS,
     "Restrictions applied to ETRN."},
    {"smtpd_forbid_bare_newline", PARAM_BOOL, "yes", NOBOUNDS,
     "Refuse a command or message line that ends in a bare LF or CR (no SMTP smuggling): "
     "521 and disconnect. Postern's smtpd always does; no is not implemented."},
    {"smtpd_forbid_bare_newline_exclusions", PARAM_STR, "$mynetworks", NOBOUNDS,
     "Clients allowed to send bare newlines (Postfix). Not implemented: Postern exempts no "
     "client."},
    {"smtpd_forbid_unauth_pipelining", PARAM_BOOL, "yes", NOBOUNDS,
     "Disconnect clients that send commands before they may (before the greeting, or "
     "pipelined without PIPELINING)."},
    {"smtpd_hard_error_limit", PARAM_INT, "20", COUNT(1),
     "Errors in one session after which the server disconnects."},
    {"smtpd_helo_required", PARAM_BOOL, "no", NOBOUNDS,
     "Require HELO or EHLO before MAIL."},
    {"smtpd_helo_restrictions", PARAM_STR, "", NOBOUNDS,
     "Restrictions applied to the HELO/EHLO name."},
    {"smtpd_history_flush_threshold", PARAM_INT, "100", COUNT(1),
     "Commands remembered for the postmaster notice of a protocol error."},
    {"smtpd_junk_command_limit", PARAM_INT, "100", COUNT(1),
     "NOOP, VRFY, ETRN and RSET commands allowed per session before they count as errors."},
    {"smtpd_milters", PARAM_STR, "", NOBOUNDS,
     "Milter applications (inet:host:port or unix:path) that see mail received by SMTP."},
    {"smtpd_null_access_lookup_key", PARAM_STR, "<>", NOBOUNDS,
     "The key looked up in access tables for the null sender."},
    {"smtpd_peername_lookup", PARAM_BOOL, "yes", NOBOUNDS,
     "Look up the client's host name by its address (/etc/hosts, then DNS, forward-confirmed)."},
    {"smtpd_per_record_deadline", PARAM_BOOL, "no", NOBOUNDS,
     "Make smtpd_timeout a limit on each read or write instead of on each command."},
    {"smtpd_policy_service_default_action", PARAM_STR, "451 4.3.5 Server configuration problem", NOBOUNDS,
     "The access(5) action used when check_policy_service gets no answer from its server."},
    {"smtpd_policy_service_max_idle", PARAM_TIME, "300s", TIME('s', 1),
     "How long an unused connection to a policy server is kept open."},
    {"smtpd_policy_service_max_ttl", PARAM_TIME, "1000s", TIME('s', 1),
     "How long a connection to a policy server is used before a new one is made."},
    {"smtpd_policy_service_policy_context", PARAM_STR, "", NOBOUNDS,
     "A value sent to policy servers as policy_context, to tell apart the smtpd services that ask."},
    {"smtpd_policy_service_request_limit", PARAM_INT, "0", COUNT(0),
     "Requests sent over one connection to a policy server (0: no limit)."},
    {"smtpd_policy_service_retry_delay", PARAM_TIME, "1s", TIME('s', 0),
     "The wait before a policy request is tried again after a failure."},
    {"smtpd_policy_service_timeout", PARAM_TIME, "100s", TIME('s', 1),
     "The time limit for connecting to a policy server, sending a request and reading its reply."},
    {"smtpd_policy_service_try_limit", PARAM_INT, "2", COUNT(1),
     "Tries of a policy request before smtpd_policy_service_default_action is used."},
    {"smtpd_recipient_limit", PARAM_INT, "1000", COUNT(1),
     "The most recipients accepted per message."},
    {"smtpd_recipient_overshoot_limit", PARAM_INT, "1000", COUNT(1),
     "Recipients beyond smtpd_recipient_limit that count as errors."},
    {"smtpd_recipient_restrictions", PARAM_STR, "", NOBOUNDS,
     "Restrictions applied to each RCPT TO address, after smtpd_relay_restrictions."},
    {"smtpd_reject_footer", PARAM_STR, "", RAW,
     "Text appended to each reject reply."},
    {"smtpd_reject_unlisted_recipient", PARAM_BOOL, "yes", NOBOUNDS,
     "Reject recipients in local, virtual and relay domains that their recipient tables do "
     "not list."},
    {"smtpd_reject_unlisted_sender", PARAM_BOOL, "no", NOBOUNDS,
     "Reject a sender address in a local or virtual domain that is not a valid recipient."},
    {"smtpd_relay_restrictions", PARAM_STR,
     "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
     NOBOUNDS,
     "Relay control, applied at RCPT before smtpd_recipient_restrictions: who may send to "
     "which domains."},
    {"smtpd_restriction_classes", PARAM_STR, "", NOBOUNDS,
     "Names of user-defined restriction lists, each set as a parameter of its own and usable "
     "in access tables."},
    {"smtpd_sasl_auth_enable", PARAM_BOOL, "no", NOBOUNDS,
     "Offer SMTP AUTH."},
    {"smtpd_sasl_authenticated_header", PARAM_BOOL, "no", NOBOUNDS,
     "Put the SASL login name in the Received: header."},
    {"smtpd_sasl_exceptions_networks", PARAM_STR, "", NOBOUNDS,
     "Clients that AUTH is not offered to."},
    {"smtpd_sasl_local_domain", PARAM_STR, "", NOBOUNDS,
     "The SASL realm of users without one."},
    {"smtpd_sasl_path", PARAM_STR, "smtpd", NOBOUNDS,
     "The Cyrus SASL application name: its configuration is smtpd.conf in the SASL "
     "configuration directory."},
    {"smtpd_sasl_security_options", PARAM_STR,
     "noanonymous",
     ANY_OF("noanonymous|noplaintext|noactive|nodictionary|mutual_auth|forward_secrecy"),
     "SASL mechanism properties required without TLS."},
    {"smtpd_sasl_service", PARAM_STR, "smtp", NOBOUNDS,
     "The service name given to the SASL library."},
    {"smtpd_sasl_tls_security_options", PARAM_STR, "$smtpd_sasl_security_options", NOBOUNDS,
     "SASL mechanism properties required over TLS."},
    {"smtpd_sasl_type", PARAM_STR, "cyrus", ONE_OF("cyrus"),
     "The SASL implementation."},
    {"smtpd_sender_login_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from sender address to the SASL login names that may use it."},
    {"smtpd_sender_restrictions", PARAM_STR, "", NOBOUNDS,
     "Restrictions applied to the MAIL FROM address."},
    {"smtpd_soft_error_limit", PARAM_INT, "10", COUNT(0),
     "Errors in one session after which each reply is delayed by smtpd_error_sleep_time."},
    {"smtpd_starttls_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "The time limit of the server's TLS handshake."},
    {"smtpd_timeout", PARAM_TIME, "300s", TIME('s', 1),
     "How long the SMTP server waits for a client command or data, and to send a reply."},
    {"smtpd_tls_CAfile", PARAM_STR, "", NOBOUNDS,
     "CA certificates for verifying client certificates."},
    {"smtpd_tls_CApath", PARAM_STR, "", NOBOUNDS,
     "A directory of CA certificates for verifying client certificates."},
    {"smtpd_tls_ask_ccert", PARAM_BOOL, "no", NOBOUNDS,
     "Ask clients for a certificate."},
    {"smtpd_tls_auth_only", PARAM_BOOL, "no", NOBOUNDS,
     "Offer AUTH only after STARTTLS."},
    {"smtpd_tls_ccert_verifydepth", PARAM_INT, "9", COUNT(1),
     "The longest client certificate chain verified."},
    {"smtpd_tls_cert_file", PARAM_STR, "", NOBOUNDS,
     "The server certificate (PEM), with its chain."},
    {"smtpd_tls_chain_files", PARAM_STR, "", NOBOUNDS,
     "Files with keys and certificate chains, one per algorithm (replaces the cert and key "
     "file pairs)."},
    {"smtpd_tls_ciphers", PARAM_STR, "medium", ONE_OF("export|low|medium|high|null"),
     "The minimum cipher grade when TLS is optional."},
    {"smtpd_tls_eccert_file", PARAM_STR, "", NOBOUNDS,
     "A second, ECDSA server certificate."},
    {"smtpd_tls_eckey_file", PARAM_STR, "$smtpd_tls_eccert_file", NOBOUNDS,
     "The private key of smtpd_tls_eccert_file."},
    {"smtpd_tls_exclude_ciphers", PARAM_STR, "", NOBOUNDS,
     "Ciphers or cipher types never used by the server."},
    {"smtpd_tls_fingerprint_digest", PARAM_STR, "sha256", ONE_OF("md5|sha1|sha256|sha512"),
     "The digest of client certificate fingerprints."},
    {"smtpd_tls_key_file", PARAM_STR, "$smtpd_tls_cert_file", NOBOUNDS,
     "The private key of smtpd_tls_cert_file."},
    {"smtpd_tls_loglevel", PARAM_INT, "0", RANGE(0, 4),
     "How much the server logs about TLS: 0 nothing, 1 a summary, more for debugging."},
    {"smtpd_tls_mandatory_ciphers", PARAM_STR, "medium", ONE_OF("export|low|medium|high|null"),
     "The minimum cipher grade when TLS is required."},
    {"smtpd_tls_mandatory_exclude_ciphers", PARAM_STR, "", NOBOUNDS,
     "Ciphers excluded in addition when TLS is required."},
    {"smtpd_tls_mandatory_protocols", PARAM_STR, ">=TLSv1.2", NOBOUNDS,
     "TLS versions the server accepts when TLS is required."},
    {"smtpd_tls_protocols", PARAM_STR, ">=TLSv1.2", NOBOUNDS,
     "TLS versions the server accepts when TLS is optional."},
    {"smtpd_tls_received_header", PARAM_BOOL, "no", NOBOUNDS,
     "Name the TLS version and cipher in the Received: header."},
    {"smtpd_tls_req_ccert", PARAM_BOOL, "no", NOBOUNDS,
     "Require a verified client certificate (with smtpd_tls_security_level = encrypt)."},
    {"smtpd_tls_security_level", PARAM_STR, "none", ONE_OF("none|may|encrypt"),
     "TLS in the SMTP server: none, may (offer STARTTLS) or encrypt (require it)."},
    {"smtpd_tls_session_cache_database", PARAM_STR, "", NOBOUNDS,
     "A table that caches server TLS sessions; empty: session tickets only."},
    {"smtpd_tls_session_cache_timeout", PARAM_TIME, "3600s", TIME('s', 0),
     "How long a TLS session may be resumed, and how often the session ticket key shared by "
     "the smtpd processes changes; 0: no session tickets."},
    {"smtpd_tls_wrappermode", PARAM_BOOL, "no", NOBOUNDS,
     "Start TLS as soon as a client connects (port 465) instead of waiting for STARTTLS."},
    {"smtputf8_enable", PARAM_BOOL, "yes", NOBOUNDS,
     "Offer SMTPUTF8 and accept internationalized addresses."},
    {"soft_bounce", PARAM_BOOL, "no", NOBOUNDS,
     "Turn every permanent delivery or reception failure into a temporary one, for testing a "
     "new configuration."},
    {"stale_lock_time", PARAM_TIME, "500s", TIME('s', 1),
     "The age after which a dot-lock file is considered stale and removed."},
    {"strict_mailbox_ownership", PARAM_BOOL, "yes", NOBOUNDS,
     "Refuse to deliver to an mbox file that is not owned by its recipient."},
    {"strict_rfc821_envelopes", PARAM_BOOL, "no", NOBOUNDS,
     "Require MAIL FROM and RCPT TO addresses in <> without comments or phrases."},
    {"swap_bangpath", PARAM_BOOL, "no", NOBOUNDS,
     "Rewrite site!user to user@site (Postfix's default is yes; Postern refuses routing "
     "tricks by default)."},
    {"syslog_facility", PARAM_STR, "mail", NOBOUNDS,
     "The syslog facility used for logging."},
    {"syslog_name", PARAM_STR, "postern", NOBOUNDS,
     "The prefix of log lines: postern/smtpd[pid]."},
    {"tls_export_cipherlist", PARAM_STR, "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH",
     NOBOUNDS,
     "The OpenSSL cipher list of the export grade (*_tls_ciphers = export)."},
    {"tls_high_cipherlist", PARAM_STR, "aNULL:-aNULL:HIGH:@STRENGTH", NOBOUNDS,
     "The OpenSSL cipher list of the high grade (*_tls_ciphers = high)."},
    {"tls_low_cipherlist", PARAM_STR, "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH", NOBOUNDS,
     "The OpenSSL cipher list of the low grade (*_tls_ciphers = low)."},
    {"tls_medium_cipherlist", PARAM_STR, "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH", NOBOUNDS,
     "The OpenSSL cipher list of the medium grade (*_tls_ciphers = medium, the default)."},
    {"tls_null_cipherlist", PARAM_STR, "eNULL:!aNULL", NOBOUNDS,
     "The OpenSSL cipher list of the null grade: authentication without encryption."},
    {"transport_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from recipient address or domain to transport:nexthop, overriding the default "
     "routing."},
    {"transport_retry_time", PARAM_TIME, "60s", TIME('s', 1),
     "How long a transport that failed stays unused."},
    {"trigger_timeout", PARAM_TIME, "10s", TIME('s', 1),
     "How long a trigger to a daemon may take."},
    {"undisclosed_recipients_header", PARAM_STR, "", NOBOUNDS,
     "The header added when a message has no recipient headers; empty: none."},
    {"unknown_address_reject_code", PARAM_INT, "450", RANGE(400, 599),
     "The reply code when a sender or recipient domain has no DNS address or MX."},
    {"unknown_address_tempfail_action", PARAM_STR, "$reject_tempfail_action", NOBOUNDS,
     "What the unknown-domain restrictions do when a lookup fails temporarily."},
    {"unknown_client_reject_code", PARAM_INT, "450", RANGE(400, 599),
     "The reply code of reject_unknown_client_hostname."},
    {"unknown_helo_hostname_tempfail_action", PARAM_STR, "$reject_tempfail_action", NOBOUNDS,
     "What reject_unknown_helo_hostname does when a lookup fails temporarily."},
    {"unknown_hostname_reject_code", PARAM_INT, "450", RANGE(400, 599),
     "The reply code of reject_unknown_helo_hostname."},
    {"unknown_local_recipient_reject_code", PARAM_INT, "550", RANGE(400, 599),
     "The reply code for a recipient not in local_recipient_maps."},
    {"unknown_relay_recipient_reject_code", PARAM_INT, "550", RANGE(400, 599),
     "The reply code for a recipient not in relay_recipient_maps."},
    {"unknown_virtual_alias_reject_code", PARAM_INT, "550", RANGE(400, 599),
     "The reply code for a recipient in virtual_alias_domains with no alias."},
    {"unknown_virtual_mailbox_reject_code", PARAM_INT, "550", RANGE(400, 599),
     "The reply code for a recipient in virtual_mailbox_domains with no mailbox."},
    {"virtual_alias_address_length_limit", PARAM_INT, "1000", COUNT(1),
     "The longest address virtual alias expansion may produce."},
    {"virtual_alias_domains", PARAM_STR, "$virtual_alias_maps", NOBOUNDS,
     "Domains whose every address is an alias in virtual_alias_maps; no mailboxes exist "
     "there."},
    {"virtual_alias_expansion_limit", PARAM_INT, "1000", COUNT(1),
     "The most recipients one virtual alias expansion may produce."},
    {"virtual_alias_maps", PARAM_STR, "", NOBOUNDS,
     "Tables that redirect recipients of any domain to other addresses, one to many, before "
     "delivery."},
    {"virtual_alias_recursion_limit", PARAM_INT, "1000", COUNT(1),
     "The deepest nesting of virtual alias expansion."},
    {"virtual_destination_concurrency_limit", PARAM_INT, "$default_destination_concurrency_limit",
     COUNT(0), "Parallel deliveries to one virtual mailbox domain."},
    {"virtual_destination_recipient_limit", PARAM_INT, "$default_destination_recipient_limit",
     COUNT(0), "Recipients per virtual delivery request."},
    {"virtual_gid_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from recipient address to the group id of its virtual mailbox (or static:gid)."},
    {"virtual_mailbox_base", PARAM_STR, "", NOBOUNDS,
     "The directory that virtual mailbox paths are relative to."},
    {"virtual_mailbox_domains", PARAM_STR, "$virtual_mailbox_maps", NOBOUNDS,
     "Domains whose recipients have mailboxes under virtual_mailbox_base."},
    {"virtual_mailbox_limit", PARAM_SIZE, "51200000", COUNT(0),
     "The largest virtual mailbox file in bytes; 0: no limit."},
    {"virtual_mailbox_lock", PARAM_STR, "fcntl, dotlock", ANY_OF("fcntl|flock|dotlock"),
     "How virtual mbox files are locked (flock is not supported: a warning)."},
    {"virtual_mailbox_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from recipient address to mailbox path under virtual_mailbox_base; a path ending "
     "in / is a Maildir."},
    {"virtual_minimum_uid", PARAM_INT, "100", COUNT(1),
     "The smallest user id that virtual_uid_maps may give."},
    {"virtual_transport", PARAM_STR, "virtual", NOBOUNDS,
     "The transport for mail to virtual_mailbox_domains (the virtual delivery agent)."},
    {"virtual_uid_maps", PARAM_STR, "", NOBOUNDS,
     "Tables from recipient address to the user id that owns its virtual mailbox (or "
     "static:uid)."},
};
// clang-format on

#define PARAM_ROWS (sizeof(param_rows) / sizeof(param_rows[0]))

static int compare_name(const void *key, const void *row)
{
    return strcmp((const char *)key, ((const param_def *)row)->name);
}

const param_def *param_lookup(const char *name)
{
    return bsearch(name, param_rows, PARAM_ROWS, sizeof(param_rows[0]), compare_name);
}

size_t param_count(void)
{
    return PARAM_ROWS;
}

const param_def *param_at(size_t i)
{
    return i < PARAM_ROWS ? &param_rows[i] : NULL;
}

long long param_unit_seconds(int unit)
{
    switch (unit) {
    case 's':
        return 1;
    case 'm':
        return 60;
    case 'h':
        return 3600;
    case 'd':
        return 86400;
    case 'w':
        return 7 * 86400;
    default:
        return 0;
    }
}

int param_choice_ok(const char *choices, const char *word, size_t len)
{
    const char *p = choices;

    for (;;) {
        size_t n = strcspn(p, "|");

        if (n == len && strncasecmp(p, word, len) == 0)
            return 1;
        if (p[n] == 0)
            return 0;
        p += n + 1;
    }
}

/* Append text for roff: no request can start inside it, backslashes and
 * hyphens print as themselves. */
static void roff_escape(vstr *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            vstr_append_str(out, "\\e");
        else if (*s == '-')
            vstr_append_str(out, "\\-");
        else
            vstr_append_char(out, *s);
    }
}

static void roff_line(vstr *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        vstr_append_str(out, "\\&");
    roff_escape(out, s);
    vstr_append_char(out, '\n');
}

/* A time bound in the largest unit that divides it. */
static void time_text(vstr *out, long long secs)
{
    static const char units[] = "wdhm";

    for (const char *u = units; *u; u++) {
        long long n = param_unit_seconds(*u);

        if (secs != 0 && secs % n == 0) {
            vstr_append_fmt(out, "%lld%c", secs / n, *u);
            return;
        }
    }
    vstr_append_fmt(out, "%llds", secs);
}

/* One sentence on the kind of value the parameter takes. */
static void roff_kind(vstr *out, const param_def *p)
{
    vstr s = VSTR_INIT;

    switch (p->type) {
    case PARAM_BOOL:
        vstr_append_str(&s, "Value: yes or no.");
        break;
    case PARAM_INT:
    case PARAM_SIZE:
        vstr_append_str(&s, p->type == PARAM_INT ? "Value: a number" : "Value: a size in bytes");
        if (p->max != PARAM_MAX)
            vstr_append_fmt(&s, " from %lld to %lld.", p->min, p->max);
        else
            vstr_append_fmt(&s, ", at least %lld.", p->min);
        break;
    case PARAM_TIME:
        vstr_append_fmt(&s, "Value: a time with unit s, m, h, d or w (without one: %c), at least ",
                        p->unit);
        time_text(&s, p->min);
        vstr_append_str(&s, ".");
        break;
    case PARAM_STR:
        if (p->choices != NULL) {
            vstr_append_str(&s, p->flags & PARAM_F_LIST ? "Value: a list of " : "Value: one of ");
            for (const char *c = p->choices; *c; c++) {
                if (*c == '|')
                    vstr_append_str(&s, ", ");
                else
                    vstr_append_char(&s, *c);
            }
            if (p->choices[0] == '|')
                vstr_append_str(&s, " or empty");
            vstr_append_str(&s, ".");
        }
        if (p->flags & PARAM_F_RAW)
            vstr_append_str(&s, "Not expanded when read: the $names in it are filled in "
                                "when it is used.");
        break;
    }
    if (vstr_len(&s))
        roff_line(out, vstr_str(&s));
    vstr_release(&s);
}

void param_table_roff(vstr *out)
{
    for (size_t i = 0; i < PARAM_ROWS; i++) {
        const param_def *p = &param_rows[i];

        vstr_append_str(out, ".TP\n.B ");
        roff_escape(out, p->name);
        vstr_append_str(out, "\n(default: ");
        if (p->flags & PARAM_F_DERIVED) {
            vstr_append_str(out, "computed");
        } else if (p->def[0] == 0) {
            vstr_append_str(out, "empty");
        } else {
            vstr_append_str(out, "\\fI");
            roff_escape(out, p->def);
            vstr_append_str(out, "\\fR");
        }
        vstr_append_str(out, ")\n");
        roff_line(out, p->desc);
        roff_kind(out, p);
    }
}

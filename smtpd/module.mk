# smtpd/: the SMTP server. Built once smtpd/smtpd.c exists; every smtpd/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard smtpd/smtpd.c),smtpd)
smtpd_SRCS := $(wildcard smtpd/*.c)
# The address parser's unit test and fuzz target link the parser itself.
smtpd_addr_test_EXTRA_SRCS := smtpd/smtpd_addr.c
smtpd_command_EXTRA_SRCS := smtpd/smtpd_addr.c
# The access-table key order and action parser are pure: tested and fuzzed alone.
smtpd_access_test_EXTRA_SRCS := smtpd/smtpd_access_keys.c smtpd/smtpd_access_action.c
smtpd_access_action_EXTRA_SRCS := smtpd/smtpd_access_keys.c smtpd/smtpd_access_action.c
# The policy protocol's request and reply formats are pure: tested and fuzzed alone.
smtpd_policy_test_EXTRA_SRCS := smtpd/smtpd_policy_proto.c
smtpd_policy_reply_EXTRA_SRCS := smtpd/smtpd_policy_proto.c

# anvil/: the anvil daemon (connection counts and rates for smtpd).
LIBEXEC_PROGS += $(if $(wildcard anvil/anvil.c),anvil)
anvil_SRCS := $(wildcard anvil/*.c)
# The counting table is pure: its unit test links it alone.
anvil_table_test_EXTRA_SRCS := anvil/anvil_table.c

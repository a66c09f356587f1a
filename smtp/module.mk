# smtp/: the SMTP and LMTP delivery agent. Built once smtp/smtp.c exists; every smtp/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard smtp/smtp.c),smtp)
smtp_SRCS := $(wildcard smtp/*.c)

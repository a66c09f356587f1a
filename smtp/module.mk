# smtp/: the SMTP and LMTP delivery agent. Built once smtp/smtp.c exists; every smtp/*.c is part of it.
LIBEXEC_PROGS += $(if $(wildcard smtp/smtp.c),smtp)
smtp_SRCS := $(wildcard smtp/*.c)
# The reply reader's unit test links the reader itself.
smtp_reply_test_EXTRA_SRCS := smtp/smtp_reply.c

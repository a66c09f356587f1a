# postdrop/: postdrop (writes maildrop files) and sendmail (the CLI; mailq and
# newaliases are links to it). Each is built once its main file exists.
BIN_PROGS += $(if $(wildcard postdrop/postdrop.c),postdrop)
postdrop_SRCS := postdrop/postdrop.c
BIN_PROGS += $(if $(wildcard postdrop/sendmail.c),sendmail)
sendmail_SRCS := $(filter-out postdrop/postdrop.c,$(wildcard postdrop/*.c))
BIN_LINK_NAMES += $(if $(wildcard postdrop/sendmail.c),mailq newaliases)
mailq_LINK := sendmail
newaliases_LINK := sendmail

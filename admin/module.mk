# admin/: administration commands. A program is built once its main file exists.
BIN_PROGS += $(if $(wildcard admin/postconf.c),postconf)
postconf_SRCS := admin/postconf.c
BIN_PROGS += $(if $(wildcard admin/postern.c),postern)
postern_SRCS := $(wildcard admin/postern*.c)
BIN_PROGS += $(if $(wildcard admin/postcat.c),postcat)
postcat_SRCS := admin/postcat.c
BIN_PROGS += $(if $(wildcard admin/postalias.c),postalias)
postalias_SRCS := admin/postalias.c

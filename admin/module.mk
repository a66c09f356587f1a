# admin/: administration commands. A program is built once its main file exists.
BIN_PROGS += $(if $(wildcard admin/postconf.c),postconf)
postconf_SRCS := admin/postconf.c
BIN_PROGS += $(if $(wildcard admin/postern.c),postern)
postern_SRCS := $(wildcard admin/postern*.c)
BIN_PROGS += $(if $(wildcard admin/postcat.c),postcat)
postcat_SRCS := admin/postcat.c
BIN_PROGS += $(if $(wildcard admin/postalias.c),postalias)
postalias_SRCS := admin/postalias.c admin/table_cmd.c
BIN_PROGS += $(if $(wildcard admin/postmap.c),postmap)
postmap_SRCS := admin/postmap.c admin/table_cmd.c
BIN_PROGS += $(if $(wildcard admin/postqueue.c),postqueue)
postqueue_SRCS := admin/postqueue.c
BIN_PROGS += $(if $(wildcard admin/postsuper.c),postsuper)
postsuper_SRCS := admin/postsuper.c

# postern carries conf/'s stock files in its binary (admin/postern_stock.c),
# regenerated when one of them changes. A rule here would become make's
# default goal, so the goal in force before it is put back after it.
postern_saved_goal := $(.DEFAULT_GOAL)
$(BUILD)/gen/postern_stock.h: conf/main.cf conf/master.cf conf/aliases admin/embed-files
	@mkdir -p $(@D)
	admin/embed-files stock_main_cf=conf/main.cf stock_master_cf=conf/master.cf \
		stock_aliases=conf/aliases >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/admin/postern_stock.o: $(BUILD)/gen/postern_stock.h
$(BUILD)/obj/admin/postern_stock.o: CPPFLAGS_ALL += -I$(BUILD)/gen
.DEFAULT_GOAL := $(postern_saved_goal)

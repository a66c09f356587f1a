# Unit tests (cmocka): one binary per tests/unit/NAME_test.c.
UNIT_TESTS += $(wildcard tests/unit/*_test.c)
# libFuzzer targets: one binary per tests/fuzz/NAME.c.
FUZZ_TARGETS += $(wildcard tests/fuzz/*.c)

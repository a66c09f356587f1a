/* Unit tests for global/deliver_request: what a delivery agent accepts from qmgr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <unistd.h>

#include "global/deliver_request.h"

/* Send a request with the given recipient indexes; read it back. */
static int read_back(const char *queue_name, const long *indexes, int n, deliver_request *req)
{
    int fds[2];
    vstream *w, *r;
    attr_list *list = attr_list_new();
    int status;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    w = vstream_fdopen(fds[0], VSTREAM_WRITE);
    r = vstream_fdopen(fds[1], VSTREAM_READ);
    attr_set_str(list, "queue_name", queue_name);
    attr_set_str(list, "queue_id", "4Xb1zz09");
    attr_set_str(list, "sender", "a@example.org");
    attr_set_int(list, "rcpt_count", n);
    assert_int_equal(attr_write(w, list), 0);
    for (int i = 0; i < n; i++) {
        attr_list_reset(list);
        attr_set_int(list, "index", indexes[i]);
        attr_set_str(list, "address", "b@example.org");
        assert_int_equal(attr_write(w, list), 0);
    }
    assert_int_equal(vstream_flush(w), 0);
    vstream_close(w);
    attr_list_free(list);
    status = deliver_request_read(r, req, 1000, 1000);
    vstream_close(r);
    return status;
}

static void a_request_with_each_index_once_is_read(void **state)
{
    const long idx[] = {2, 0, 1};
    deliver_request req;

    (void)state;
    assert_int_equal(read_back("active", idx, 3, &req), 1);
    assert_int_equal(req.rcpt_count, 3);
    assert_int_equal(req.rcpts[0].index, 2);
    assert_string_equal(req.rcpts[2].address, "b@example.org");
    deliver_request_free(&req);
}

static void an_index_twice_or_out_of_range_is_malformed(void **state)
{
    const long twice[] = {0, 1, 0}, out[] = {0, 3, 1};
    deliver_request req;

    (void)state;
    assert_int_equal(read_back("active", twice, 3, &req), -1);
    deliver_request_free(&req);
    assert_int_equal(read_back("active", out, 3, &req), -1);
    deliver_request_free(&req);
}

static void a_queue_name_that_is_a_path_is_malformed(void **state)
{
    const long idx[] = {0};
    deliver_request req;

    (void)state;
    assert_int_equal(read_back("../active", idx, 1, &req), -1);
    deliver_request_free(&req);
    assert_int_equal(read_back("..", idx, 1, &req), -1);
    deliver_request_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_request_with_each_index_once_is_read),
        cmocka_unit_test(an_index_twice_or_out_of_range_is_malformed),
        cmocka_unit_test(a_queue_name_that_is_a_path_is_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

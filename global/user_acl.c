/*
 * user_acl - authorized_*_users lists; see user_acl.h
 */
#include <fcntl.h>
#include <pwd.h>
#include <string.h>

#include "global/maps.h"
#include "global/user_acl.h"
#include "util/dict.h"

/* Does one pattern (without its "!") match login? 1, 0, or -1 on error. */
static int pattern_matches(const char *pattern, const char *login, vstr *err)
{
    const char *colon = strchr(pattern, ':');
    vstr value = VSTR_INIT;
    dict *d;
    int st;

    if (*pattern == '/') {
        vstr_set_fmt(err, "%s: /file/name patterns are not supported; use a type:table", pattern);
        return -1;
    }
    if (colon == NULL || colon == pattern)
        return strcmp(pattern, login) == 0;
    if ((d = dict_open(pattern, O_RDONLY, DICT_FLAG_NONE, err)) == NULL)
        return -1;
    st = dict_lookup(d, login, &value);
    if (st == DICT_ERROR)
        vstr_set_fmt(err, "%s: %s", pattern, dict_error(d));
    dict_discard(d);
    vstr_release(&value);
    return st == DICT_ERROR ? -1 : st == DICT_FOUND;
}

user_acl_result user_acl_check(const char *list, const char *login, vstr *err)
{
    argv_t *items = maps_split(list);
    user_acl_result result = USER_ACL_DENY;

    for (size_t i = 0; i < items->argc; i++) {
        const char *item = items->argv[i];
        int negate = *item == '!';
        int m = pattern_matches(item + negate, login, err);

        if (m < 0) {
            result = USER_ACL_ERROR;
            break;
        }
        if (m) {
            result = negate ? USER_ACL_DENY : USER_ACL_ALLOW;
            break;
        }
    }
    argv_free(items);
    return result;
}

const char *user_acl_login(uid_t uid, vstr *buf)
{
    struct passwd *pw = getpwuid(uid);

    vstr_set_str(buf, pw ? pw->pw_name : "unknown");
    return vstr_str(buf);
}

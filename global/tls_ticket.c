/*
 * tls_ticket - session ticket keys shared through a file (see tls_ticket.h)
 *
 * The file is at most TICKET_KEYS records of TICKET_RECORD bytes, newest
 * first: key name (16), AES-256-CBC key (32), HMAC-SHA256 key (32), the
 * time the key was made (8, big-endian seconds). Anything else in the
 * file (a short or overlong one) is taken as no key at all and replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "global/tls_ticket.h"
#include "util/fileio.h"
#include "util/lock.h"
#include "util/mem.h"
#include "util/msg.h"
#include "util/safe_open.h"
#include "util/vstr.h"

#define TICKET_NAME 16
#define TICKET_AES 32
#define TICKET_HMAC 32
#define TICKET_RECORD (TICKET_NAME + TICKET_AES + TICKET_HMAC + 8)
#define TICKET_KEYS 2

typedef struct ticket_key {
    unsigned char name[TICKET_NAME];
    unsigned char aes[TICKET_AES];
    unsigned char hmac[TICKET_HMAC];
    long long created;
} ticket_key;

struct tls_tickets {
    char *path;
    char *lock_path;
    int lifetime;
    ticket_key keys[TICKET_KEYS]; /* newest first */
    int count;
    dev_t dev; /* of the file last read; 0: none */
    ino_t ino;
    struct timespec mtime;
    int failing; /* a problem was logged and has not gone away */
};

tls_tickets *tls_tickets_new(const char *path, int lifetime_s)
{
    tls_tickets *t = mem_calloc(1, sizeof(*t));
    vstr lock = VSTR_INIT;

    t->path = mem_strdup(path);
    vstr_set_fmt(&lock, "%s.lock", path);
    t->lock_path = vstr_steal(&lock);
    t->lifetime = lifetime_s > 0 ? lifetime_s : 1;
    return t;
}

void tls_tickets_free(tls_tickets *t)
{
    if (t == NULL)
        return;
    OPENSSL_cleanse(t->keys, sizeof(t->keys));
    mem_free(t->path);
    mem_free(t->lock_path);
    mem_free(t);
}

static void complain(tls_tickets *t, const char *what, const char *why)
{
    if (!t->failing)
        msg_warn("TLS session tickets: %s %s: %s; no tickets until this is fixed", what, t->path,
                 why);
    t->failing = 1;
}

static void decode(const unsigned char *p, ticket_key *k)
{
    memcpy(k->name, p, TICKET_NAME);
    memcpy(k->aes, p + TICKET_NAME, TICKET_AES);
    memcpy(k->hmac, p + TICKET_NAME + TICKET_AES, TICKET_HMAC);
    k->created = 0;
    for (int i = 0; i < 8; i++)
        k->created = (k->created << 8) | p[TICKET_NAME + TICKET_AES + TICKET_HMAC + i];
}

static void encode(const ticket_key *k, unsigned char *p)
{
    memcpy(p, k->name, TICKET_NAME);
    memcpy(p + TICKET_NAME, k->aes, TICKET_AES);
    memcpy(p + TICKET_NAME + TICKET_AES, k->hmac, TICKET_HMAC);
    for (int i = 0; i < 8; i++)
        p[TICKET_NAME + TICKET_AES + TICKET_HMAC + i] =
            (unsigned char)(k->created >> (56 - 8 * i));
}

/* Read the file again when it is not the one last read. 0, or -1 when it
 * exists and cannot be read (logged). A missing file is no key. */
static int reload(tls_tickets *t)
{
    struct stat st;
    vstr data = VSTR_INIT, err = VSTR_INIT;
    int fd;

    if (stat(t->path, &st) < 0) {
        t->count = 0;
        t->dev = 0;
        return errno == ENOENT ? 0 : (complain(t, "cannot find", strerror(errno)), -1);
    }
    if (t->dev == st.st_dev && t->ino == st.st_ino && t->mtime.tv_sec == st.st_mtim.tv_sec &&
        t->mtime.tv_nsec == st.st_mtim.tv_nsec)
        return 0;
    if ((fd = safe_open_existing(t->path, O_RDONLY, geteuid(), 0600, &err)) < 0) {
        complain(t, "cannot open", vstr_str(&err));
        vstr_release(&err);
        return -1;
    }
    if (fileio_read_fd(fd, TICKET_RECORD * TICKET_KEYS + 1, &data) < 0) {
        complain(t, "cannot read", strerror(errno));
        close(fd);
        vstr_release(&err);
        return -1;
    }
    close(fd);
    t->count = 0;
    if (vstr_len(&data) % TICKET_RECORD == 0 && vstr_len(&data) <= TICKET_RECORD * TICKET_KEYS)
        for (size_t off = 0; off < vstr_len(&data); off += TICKET_RECORD)
            decode((const unsigned char *)vstr_str(&data) + off, &t->keys[t->count++]);
    OPENSSL_cleanse((void *)vstr_str(&data), vstr_len(&data));
    t->dev = st.st_dev;
    t->ino = st.st_ino;
    t->mtime = st.st_mtim;
    vstr_release(&data);
    vstr_release(&err);
    return 0;
}

/* A new key in front of the newest old one, written atomically. */
static int rotate(tls_tickets *t, long long now)
{
    unsigned char buf[TICKET_RECORD * TICKET_KEYS];
    vstr err = VSTR_INIT;
    ticket_key fresh;
    int n = 0, status;

    if (RAND_bytes(fresh.name, TICKET_NAME) != 1 || RAND_bytes(fresh.aes, TICKET_AES) != 1 ||
        RAND_bytes(fresh.hmac, TICKET_HMAC) != 1) {
        complain(t, "no random bytes for", "RAND_bytes failed");
        return -1;
    }
    fresh.created = now;
    encode(&fresh, buf);
    n = 1;
    if (t->count > 0)
        encode(&t->keys[0], buf + TICKET_RECORD * n++);
    status = fileio_write_atomic(t->path, buf, TICKET_RECORD * (size_t)n, 0600, &err);
    OPENSSL_cleanse(buf, sizeof(buf));
    OPENSSL_cleanse(&fresh, sizeof(fresh));
    if (status < 0)
        complain(t, "cannot write", vstr_str(&err));
    vstr_release(&err);
    return status;
}

/* Make sure the newest key may still encrypt: reload, and rotate under
 * the lock when it is too old (another process may have done it while
 * this one waited for the lock). 0, or -1 (logged). */
static int refresh(tls_tickets *t, long long now)
{
    vstr err = VSTR_INIT;
    int fd, status = 0;

    if (reload(t) < 0)
        return -1;
    if (t->count > 0 && now - t->keys[0].created < t->lifetime && now >= t->keys[0].created)
        return 0;
    fd = safe_open_or_create(t->lock_path, O_RDWR, 0600, geteuid(), 0600, &err);
    if (fd < 0 || lock_fcntl(fd, LOCK_EXCLUSIVE) < 0) {
        complain(t, "cannot lock", fd < 0 ? vstr_str(&err) : strerror(errno));
        if (fd >= 0)
            close(fd);
        vstr_release(&err);
        return -1;
    }
    if (reload(t) < 0 ||
        ((t->count == 0 || now - t->keys[0].created >= t->lifetime || now < t->keys[0].created) &&
         (rotate(t, now) < 0 || reload(t) < 0)))
        status = -1;
    close(fd); /* releases the lock */
    vstr_release(&err);
    if (status == 0 && t->count == 0) {
        complain(t, "no key in", "the file was written but reads back empty");
        status = -1;
    }
    if (status == 0)
        t->failing = 0;
    return status;
}

/* Key the cipher and the MAC with k. */
static int use_key(const ticket_key *k, unsigned char *iv, EVP_CIPHER_CTX *cipher_ctx,
                   EVP_MAC_CTX *mac_ctx, int enc)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, TICKET_HMAC),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };

    if (EVP_CipherInit_ex(cipher_ctx, EVP_aes_256_cbc(), NULL, k->aes, iv, enc) != 1 ||
        EVP_MAC_CTX_set_params(mac_ctx, params) != 1)
        return -1;
    return 0;
}

int tls_tickets_callback(tls_tickets *t, unsigned char key_name[16], unsigned char *iv,
                         EVP_CIPHER_CTX *cipher_ctx, EVP_MAC_CTX *mac_ctx, int enc)
{
    long long now = (long long)time(NULL);

    if (enc) {
        if (refresh(t, now) < 0 || RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
            return 0;
        memcpy(key_name, t->keys[0].name, TICKET_NAME);
        return use_key(&t->keys[0], iv, cipher_ctx, mac_ctx, 1) < 0 ? -1 : 1;
    }
    /* A ticket made by another process may name a key this one has not
     * read yet; a rotation due now makes the ticket's key the previous. */
    (void)refresh(t, now);
    for (int i = 0; i < t->count; i++) {
        const ticket_key *k = &t->keys[i];

        if (memcmp(key_name, k->name, TICKET_NAME) != 0)
            continue;
        if (now - k->created >= 2LL * t->lifetime || now < k->created)
            return 0; /* expired: a full handshake */
        if (use_key(k, iv, cipher_ctx, mac_ctx, 0) < 0)
            return -1;
        return i == 0 ? 1 : 2;
    }
    return 0;
}

/*
 * port_posix.c: storage, clock and transport of include/vs_port.h on POSIX (Linux host).
 * Storage: one file per record in the NVM directory, replaced atomically (write temp, fsync,
 * rename, fsync the directory); the outbox is one file of fixed slots, each write followed by
 * fdatasync. Transport: a tty (a pty in tests) in raw mode, poll() for reads.
 */
#define _DEFAULT_SOURCE /* cfmakeraw */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vs_port.h"
#include "vs_posix.h"

static char g_dir[PATH_MAX - 64];
static int g_outbox_fd = -1;
static size_t g_slot_size;
static int g_tty = -1;

int vs_posix_storage_init(const char *dir) {
  if (strlen(dir) >= sizeof g_dir) return -1;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -1;
  strcpy(g_dir, dir);
  return 0;
}

static int path_of(char *out, size_t cap, const char *name, const char *suffix) {
  int n = snprintf(out, cap, "%s/%s%s", g_dir, name, suffix);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int fsync_dir(void) {
  int fd = open(g_dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int vs_port_storage_read(const char *name, uint8_t *buf, size_t cap, size_t *len) {
  char path[PATH_MAX];
  if (path_of(path, sizeof path, name, "") != 0) return -1;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return errno == ENOENT ? 1 : -1;
  size_t got = 0;
  for (;;) {
    if (got == cap) { /* longer than cap? */
      uint8_t extra;
      ssize_t r = read(fd, &extra, 1);
      close(fd);
      if (r != 0) return -1;
      *len = got;
      return 0;
    }
    ssize_t r = read(fd, buf + got, cap - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  *len = got;
  return 0;
}

int vs_port_storage_write_atomic(const char *name, const uint8_t *buf, size_t len) {
  char path[PATH_MAX], tmp[PATH_MAX];
  if (path_of(path, sizeof path, name, "") != 0 || path_of(tmp, sizeof tmp, name, ".tmp") != 0) return -1;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return fsync_dir();
}

int vs_port_storage_remove(const char *name) {
  char path[PATH_MAX];
  if (path_of(path, sizeof path, name, "") != 0) return -1;
  if (unlink(path) != 0 && errno != ENOENT) return -1;
  return fsync_dir();
}

int vs_port_outbox_open(size_t slots, size_t slot_size) {
  char path[PATH_MAX];
  if (path_of(path, sizeof path, "outbox.bin", "") != 0) return -1;
  if (g_outbox_fd >= 0) close(g_outbox_fd);
  g_outbox_fd = open(path, O_RDWR | O_CREAT, 0600);
  if (g_outbox_fd < 0) return -1;
  g_slot_size = slot_size;
  struct stat st;
  if (fstat(g_outbox_fd, &st) != 0) return -1;
  if ((size_t)st.st_size < slots * slot_size) {
    if (ftruncate(g_outbox_fd, (off_t)(slots * slot_size)) != 0 || fsync(g_outbox_fd) != 0) return -1;
    return fsync_dir();
  }
  return 0;
}

static int pwrite_all(const uint8_t *p, size_t n, off_t at) {
  while (n > 0) {
    ssize_t w = pwrite(g_outbox_fd, p, n, at);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
    at += w;
  }
  return 0;
}

int vs_port_outbox_write(size_t i, const uint8_t *rec, size_t len) {
  if (g_outbox_fd < 0 || len > g_slot_size) return -1;
  if (pwrite_all(rec, len, (off_t)(i * g_slot_size)) != 0) return -1;
  return fdatasync(g_outbox_fd);
}

int vs_port_outbox_read(size_t i, uint8_t *rec, size_t slot_size) {
  if (g_outbox_fd < 0 || slot_size > g_slot_size) return -1;
  size_t got = 0;
  while (got < slot_size) {
    ssize_t r = pread(g_outbox_fd, rec + got, slot_size - got, (off_t)(i * g_slot_size + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) { /* past the end: zeros */
      memset(rec + got, 0, slot_size - got);
      break;
    }
    got += (size_t)r;
  }
  return 0;
}

int vs_port_outbox_free(size_t i) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  if (g_outbox_fd < 0) return -1;
  return pwrite_all(zero, sizeof zero, (off_t)(i * g_slot_size));
}

uint64_t vs_port_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t vs_port_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int vs_posix_transport_open(const char *path) {
  int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
      close(fd);
      return -1;
    }
  }
  g_tty = fd;
  return 0;
}

void vs_posix_transport_close(void) {
  if (g_tty >= 0) close(g_tty);
  g_tty = -1;
}

int vs_posix_transport_is_open(void) { return g_tty >= 0; }

int vs_port_transport_write(const uint8_t *buf, size_t len) {
  while (len > 0) {
    if (g_tty < 0) return -1;
    ssize_t w = write(g_tty, buf, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {g_tty, POLLOUT, 0};
        if (poll(&p, 1, 1000) <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) return -1;
        continue;
      }
      return -1;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

int vs_port_transport_read(uint8_t *buf, size_t cap, int timeout_ms) {
  if (g_tty < 0) return -1;
  struct pollfd p = {g_tty, POLLIN, 0};
  int rc = poll(&p, 1, timeout_ms);
  if (rc < 0) return errno == EINTR ? 0 : -1;
  if (rc == 0) return 0;
  if (p.revents & POLLIN) {
    ssize_t r = read(g_tty, buf, cap);
    if (r > 0) return (int)r;
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1; /* EOF or EIO: the other end is gone */
  }
  return -1; /* POLLHUP / POLLERR without data */
}

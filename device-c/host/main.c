/*
 * vitalseal-device-c: the C device on a host, over a serial line (a pty in tests).
 *
 *   vitalseal-device-c --serial <tty> --nvm <dir> [--provision <file>] [--period-ms N]
 *                      [--session] [--profile spo2] [--ack-timeout-ms N] [--seq-block N]
 *   vitalseal-device-c --nvm <dir> --rotate-identity
 *
 * --rotate-identity (one-shot, the device stopped): a new identity key replaces the old one in the
 * NVM directory (the old secret is not kept; its public key is remembered as "idprev", §3.6), prints
 * the new and the previous public key and exits. At the next start a stored ticket that certifies the
 * old key is dropped and reported as SIM_IDENTITY_KEY_ROTATED, as is such a ticket from the line.
 *
 * First start: --provision <file> (device-c/README.md "Provisioning file") is checked and stored
 * in the NVM directory as the record "identity"; later starts read it from there (a --provision
 * file with other content is refused: re-provisioning means a new NVM directory). The program
 * opens the tty raw, sends a lone 0x00 and a status frame {online}, takes tickets, measures, seals,
 * sends and resends; when the line fails it reopens it with exponential backoff and full jitter
 * (PROTOCOL §8.7). SIGTERM / SIGINT: clean exit 0. Event lines go to stdout (no secret, no value).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vs_device.h"
#include "vs_port.h"
#include "vs_posix.h"

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void log_line(const char *line) {
  printf("%s\n", line);
  fflush(stdout);
}

static int usage(const char *msg) {
  fprintf(stderr,
          "vitalseal-device-c: %s\n"
          "usage: vitalseal-device-c --serial <tty> --nvm <dir> [--provision <file>] [--period-ms N] [--session]\n"
          "                          [--profile spo2] [--ack-timeout-ms N] [--seq-block N]\n"
          "       vitalseal-device-c --nvm <dir> --rotate-identity\n",
          msg);
  return 2;
}

static int read_file(const char *path, char *buf, size_t cap, size_t *len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf + got, cap - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
    if (got == cap) {
      close(fd);
      return -1; /* too large */
    }
  }
  close(fd);
  *len = got;
  return 0;
}

static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

/* §8.7: attempt n waits uniform [0, min(30 s, 0.5 s · 2^n)). */
static uint64_t backoff_ms(unsigned attempt) {
  uint64_t cap = 500;
  for (unsigned i = 0; i < attempt && cap < 30000; i++) cap *= 2;
  if (cap > 30000) cap = 30000;
  uint32_t r;
  if (vs_port_random((uint8_t *)&r, sizeof r) != 0) r = 0;
  return r % cap;
}

static void print_hex_line(const char *label, const uint8_t *b, size_t n) {
  printf("%s ", label);
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\n");
}

/* --rotate-identity: PROTOCOL §3.6 "Rotating the identity key", on the NVM of a stopped device. */
static int rotate_identity(const char *nvm) {
  uint8_t pk_new[32], pk_old[32];
  if (vs_posix_storage_init(nvm) != 0) {
    fprintf(stderr, "vitalseal-device-c: cannot use NVM directory %s\n", nvm);
    return 1;
  }
  int rc = vs_nvm_identity_key_rotate(pk_new, pk_old);
  if (rc == 1) {
    fprintf(stderr, "vitalseal-device-c: no identity key in %s yet (the device generates it at its first boot)\n", nvm);
    return 1;
  }
  if (rc != 0) {
    fprintf(stderr, "vitalseal-device-c: identity key rotation failed (NVM or randomness)\n");
    return 1;
  }
  printf("identity key rotated\n");
  print_hex_line("idk", pk_new, sizeof pk_new);
  print_hex_line("previous", pk_old, sizeof pk_old);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  const char *serial = NULL, *nvm = NULL, *provision = NULL, *profile = "spo2";
  int rotate = 0;
  vs_device_config cfg = {1000, 5000, 8, 1, 0, log_line};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    unsigned long n;
    if (strcmp(a, "--session") == 0) {
      cfg.session_mode = 1;
      continue;
    }
    if (strcmp(a, "--rotate-identity") == 0) {
      rotate = 1;
      continue;
    }
    if (!v) return usage("an option lacks its value");
    i++;
    if (strcmp(a, "--serial") == 0) serial = v;
    else if (strcmp(a, "--nvm") == 0) nvm = v;
    else if (strcmp(a, "--provision") == 0) provision = v;
    else if (strcmp(a, "--profile") == 0) profile = v;
    else if (strcmp(a, "--period-ms") == 0 && parse_uint(v, 10, 86400000, &n) == 0) cfg.period_ms = (uint32_t)n;
    else if (strcmp(a, "--ack-timeout-ms") == 0 && parse_uint(v, 50, 600000, &n) == 0) cfg.ack_timeout_ms = (uint32_t)n;
    else if (strcmp(a, "--seq-block") == 0 && parse_uint(v, 1, 1000000, &n) == 0) cfg.seq_block = (unsigned)n;
    else return usage("unknown option or bad value");
  }
  if (rotate) {
    if (!nvm || serial || provision) return usage("--rotate-identity takes --nvm <dir> only (stop the device first)");
    return rotate_identity(nvm);
  }
  if (!serial || !nvm) return usage("--serial and --nvm are required");
  if (strcmp(profile, "spo2") != 0) return usage("only the spo2 profile is built in");
  if (vs_posix_storage_init(nvm) != 0) {
    fprintf(stderr, "vitalseal-device-c: cannot use NVM directory %s\n", nvm);
    return 1;
  }

  /* identity: from NVM, or provisioned from the file at first start */
  static char text[VS_IDENTITY_MAX_BYTES + 1], ptext[VS_IDENTITY_MAX_BYTES + 1];
  size_t len = 0, plen = 0;
  int first_boot = 0, bad_line;
  int rc = vs_port_storage_read("identity", (uint8_t *)text, VS_IDENTITY_MAX_BYTES, &len);
  if (rc < 0) {
    fprintf(stderr, "vitalseal-device-c: NVM identity unreadable\n");
    return 1;
  }
  if (provision && read_file(provision, ptext, VS_IDENTITY_MAX_BYTES, &plen) != 0) {
    fprintf(stderr, "vitalseal-device-c: cannot read provisioning file %s\n", provision);
    return 1;
  }
  if (rc == 1) {
    if (!provision) return usage("no identity in the NVM directory: --provision <file> is needed at first start");
    memcpy(text, ptext, plen);
    len = plen;
    first_boot = 1;
  } else if (provision && (plen != len || memcmp(text, ptext, len) != 0)) {
    fprintf(stderr, "vitalseal-device-c: the NVM directory is provisioned differently (use a new directory)\n");
    return 1;
  }
  static vs_identity id;
  if (vs_identity_parse(text, len, &id, &bad_line) != 0) {
    fprintf(stderr, "vitalseal-device-c: provisioning is invalid (line %d)\n", bad_line);
    return 1;
  }
  if (first_boot && vs_port_storage_write_atomic("identity", (const uint8_t *)text, len) != 0) {
    fprintf(stderr, "vitalseal-device-c: cannot store the identity\n");
    return 1;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  static vs_device d;
  if ((rc = vs_device_boot(&d, &id, &cfg, first_boot)) != VS_OK) {
    fprintf(stderr, "vitalseal-device-c: boot failed: %s\n", vs_err_name(rc));
    return 1;
  }
  unsigned attempt = 0;
  uint64_t retry_at = vs_port_mono_ms();
  static uint8_t buf[4096];
  while (!g_stop) {
    uint64_t now = vs_port_mono_ms();
    if (!vs_posix_transport_is_open() && now >= retry_at) {
      if (vs_posix_transport_open(serial) == 0) {
        attempt = 0;
        log_line("line up");
        vs_device_line_up(&d);
      } else {
        uint64_t delay = backoff_ms(attempt);
        printf("line retry attempt=%u in=%llu\n", attempt, (unsigned long long)delay);
        fflush(stdout);
        attempt++;
        retry_at = now + delay;
      }
    }
    int wait = vs_device_wait_ms(&d, now);
    if (!vs_posix_transport_is_open() && retry_at > now && retry_at - now < (uint64_t)wait) wait = (int)(retry_at - now);
    if (vs_posix_transport_is_open()) {
      int r = vs_port_transport_read(buf, sizeof buf, wait);
      if (r > 0) vs_device_on_bytes(&d, buf, (size_t)r);
      if (r < 0 || d.line_broken) {
        vs_posix_transport_close();
        vs_device_line_down(&d);
        log_line("line down");
        retry_at = vs_port_mono_ms() + backoff_ms(attempt++);
      }
    } else {
      poll(NULL, 0, wait);
    }
    vs_device_poll(&d, vs_port_mono_ms());
  }
  vs_posix_transport_close();
  vs_session_wipe(&d.session);
  printf("exit sealed=%llu acked=%llu rejected=%llu resends=%llu duplicateAcks=%llu badFrames=%u outbox=%u\n",
         (unsigned long long)d.stats.sealed, (unsigned long long)d.stats.acked, (unsigned long long)d.stats.rejected,
         (unsigned long long)d.stats.resends, (unsigned long long)d.stats.duplicate_acks,
         d.rx.count.bad_cobs + d.rx.count.bad_crc + d.rx.count.oversize + d.rx.count.too_short + d.rx.count.unknown_type +
             d.rx.count.bad_body,
         vs_outbox_count(&d.ob, 0));
  return 0;
}

/*
 * device.c: the device state machine (include/vs_device.h). Single-threaded; the work buffers of
 * the seal and send paths are static (no heap, small stack).
 */
#include "vs_device.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vs_port.h"

static uint8_t g_rec[VS_OUTBOX_SLOT_SIZE];                    /* outbox slot: header ‖ envelope ‖ CRC */
static uint8_t g_tx[VS_FRAME_WIRE_BOUND(VS_FRAME_MAX_BODY)];  /* one wire frame */

static void logf_(const vs_device *d, const char *fmt, ...) {
  if (!d->cfg.log) return;
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  d->cfg.log(line);
}

static void send_frame(vs_device *d, uint8_t type, const uint8_t *body, size_t n) {
  size_t len;
  if (!d->line_up || d->line_broken) return;
  if (vs_frame_encode(type, body, n, g_tx, sizeof g_tx, &len) != VS_FRAME_OK) return;
  if (vs_port_transport_write(g_tx, len) != 0) d->line_broken = 1;
}

/* with_fw: the online status, which also reports the identity public key (§8.4 "idk"). */
static void send_status(vs_device *d, const char *state, const char *code, int with_kid, int with_seq, int with_fw) {
  uint8_t body[320];
  size_t n;
  vs_status s = {d->id.dev, state, code, with_kid && d->has_ticket ? d->ticket.kid : NULL, with_seq, d->next_seq,
                 with_fw ? VS_DEVICE_FW : NULL, with_fw ? d->idk_pk : NULL};
  if (vs_status_encode(body, sizeof body, &n, &s) != 0) return;
  if (!d->line_up) return;
  send_frame(d, VS_FT_STATUS, body, n);
  logf_(d, "status state=%s%s%s", state, code ? " code=" : "", code ? code : "");
}

/* A refusal or a dropped ticket: reported now, or at the next line up. */
static void report_error(vs_device *d, const char *code) {
  d->pending_code = code;
  if (d->line_up) {
    send_status(d, "error", code, 0, 0, 0);
    d->pending_code = NULL;
  }
}

static void remember_refused(vs_device *d, const uint8_t h[32]);

/* The ticket in use became unusable (§7.4): dropped from NVM, reported, and not taken again. */
static void drop_ticket(vs_device *d, int code) {
  uint8_t h[32];
  vs_port_sha256(h, d->ticket_bytes, d->ticket_len);
  remember_refused(d, h);
  d->has_ticket = 0;
  vs_session_wipe(&d->session);
  if (vs_nvm_ticket_remove() != 0) d->stats.nvm_errors++;
  logf_(d, "ticket dropped code=%s", vs_ticket_code_name(code));
  report_error(d, vs_ticket_code_name(code));
}

/* Makes bytes (already checked) the ticket in use. */
static int use_ticket(vs_device *d, const uint8_t *t, size_t n, uint64_t start_seq) {
  memcpy(d->ticket_bytes, t, n);
  d->ticket_len = n;
  if (vs_ticket_parse_unsigned(d->ticket_bytes, n, &d->ticket) != VS_TICKET_OK) return -1;
  d->ticket_start_seq = start_seq;
  d->has_ticket = 1;
  vs_session_wipe(&d->session);
  /* a v2 ticket certifies this device's identity key: SetupAuthS (§3.6, §6.1) */
  if (d->cfg.session_mode && (d->ticket.has_idk ? vs_session_setup_auth(&d->session, d->ticket.pk, d->idk_sk)
                                                : vs_session_setup(&d->session, d->ticket.pk)) != VS_OK) {
    d->has_ticket = 0;
    return -1;
  }
  return 0;
}

static void remember_refused(vs_device *d, const uint8_t h[32]) {
  memcpy(d->refused[d->refused_at], h, 32);
  d->refused_at = (d->refused_at + 1) % 8;
  if (d->refused_n < 8) d->refused_n++;
}

static int was_refused(const vs_device *d, const uint8_t h[32]) {
  for (unsigned i = 0; i < d->refused_n; i++)
    if (memcmp(d->refused[i], h, 32) == 0) return 1;
  return 0;
}

/* §3.6: a ticket that certifies an identity key other than this device's is refused: ROTATED when it
 * is the device's previous key (it rotated), MISMATCH for any other. */
static int identity_code(const vs_device *d, const vs_ticket *t) {
  if (!t->has_idk || memcmp(t->idk, d->idk_pk, 32) == 0) return VS_TICKET_OK;
  if (d->has_idk_prev && memcmp(t->idk, d->idk_prev, 32) == 0) return VS_TICKET_IDENTITY_KEY_ROTATED;
  return VS_TICKET_IDENTITY_KEY_MISMATCH;
}

/* §7.3: verify, then store and switch, or refuse with the code. */
static void on_ticket(vs_device *d, const uint8_t *t, size_t n, int provisioned) {
  if (d->has_ticket && n == d->ticket_len && memcmp(t, d->ticket_bytes, n) == 0) return; /* the one in use */
  uint8_t h[32];
  vs_port_sha256(h, t, n);
  if (!provisioned && was_refused(d, h)) return; /* each refused ticket reported once */
  vs_ticket tk;
  int rc;
  if (d->id.has_authority) {
    rc = vs_ticket_verify(t, n, d->id.authority, d->id.dev, vs_port_now_ms(), VS_TICKET_SKEW_S, &tk);
  } else if (!provisioned) {
    rc = VS_TICKET_NO_AUTHORITY_KEY;
  } else { /* loaded at provisioning, no pinned key: structure, device, time without skew */
    rc = vs_ticket_parse_unsigned(t, n, &tk);
    if (rc == VS_TICKET_OK && (tk.dev_len != strlen(d->id.dev) || memcmp(tk.dev, d->id.dev, tk.dev_len) != 0))
      rc = VS_TICKET_WRONG_DEVICE;
    if (rc == VS_TICKET_OK) {
      uint64_t now = vs_port_now_ms() / 1000;
      if (now < tk.nbf) rc = VS_TICKET_NOT_YET_VALID;
      else if (now >= tk.exp) rc = VS_TICKET_EXPIRED;
    }
  }
  if (rc == VS_TICKET_OK) rc = identity_code(d, &tk);
  if (rc != VS_TICKET_OK) {
    remember_refused(d, h);
    d->stats.tickets_refused++;
    logf_(d, "ticket refused code=%s", vs_ticket_code_name(rc));
    report_error(d, vs_ticket_code_name(rc));
    return;
  }
  if (vs_nvm_ticket_store(t, n, d->next_seq) != 0) {
    d->stats.nvm_errors++;
    logf_(d, "ticket not stored: NVM write failed");
    return;
  }
  if (use_ticket(d, t, n, d->next_seq) != 0) {
    d->stats.seal_errors++;
    logf_(d, "ticket not usable: session setup failed");
    return;
  }
  d->stats.tickets_accepted++;
  char kid[33];
  for (int i = 0; i < 16; i++) snprintf(kid + 2 * i, 3, "%02x", d->ticket.kid[i]);
  logf_(d, "ticket accepted kid=%s seq=%llu", kid, (unsigned long long)d->next_seq);
  send_status(d, "ticketed", NULL, 1, 1, 0);
}

int vs_device_boot(vs_device *d, const vs_identity *id, const vs_device_config *cfg, int first_boot) {
  memset(d, 0, sizeof *d);
  d->cfg = *cfg;
  if (d->cfg.window == 0 || d->cfg.window > VS_OUTBOX_SLOTS) d->cfg.window = 8;
  if (d->cfg.seq_block == 0) d->cfg.seq_block = 1;
  d->id = *id;
  int created;
  if (vs_nvm_identity_key(d->idk_sk, d->idk_pk, &created) != 0) return VS_ERR_STORAGE;
  if (created) logf_(d, "identity key created");
  int prev = vs_nvm_identity_previous(d->idk_prev);
  d->has_idk_prev = prev == 0;
  if (prev < 0) d->stats.nvm_errors++; /* a corrupt record reads as none: such a ticket is then a MISMATCH */
  vs_rx_init(&d->rx);
  if (vs_outbox_restore(&d->ob) != 0) return VS_ERR_STORAGE;
  if (vs_nvm_seq_load(&d->seq_limit) != 0) return VS_ERR_STORAGE;
  uint64_t end = vs_outbox_seq_end(&d->ob);
  d->next_seq = d->seq_limit > end ? d->seq_limit : end; /* every seq below the mark may have been used */
  if (vs_port_random((uint8_t *)&d->rng, sizeof d->rng) != 0) return VS_ERR_RANDOM;
  d->rng |= 1;
  size_t n;
  uint64_t start;
  int rc = vs_nvm_ticket_load(d->ticket_bytes, sizeof d->ticket_bytes, &n, &start);
  if (rc == 0) {
    d->ticket_len = n;
    vs_ticket tk;
    int code = vs_ticket_parse_unsigned(d->ticket_bytes, n, &tk);
    if (code == VS_TICKET_OK) code = vs_ticket_usable(&tk, vs_port_now_ms(), d->next_seq - start);
    if (code == VS_TICKET_OK) code = identity_code(d, &tk);
    if (code == VS_TICKET_OK) {
      static uint8_t copy[VS_TICKET_MAX_BYTES];
      memcpy(copy, d->ticket_bytes, n);
      if (use_ticket(d, copy, n, start) != 0) return VS_ERR_CRYPTO;
    } else {
      drop_ticket(d, code);
    }
  } else if (rc < 0) {
    d->stats.nvm_errors++; /* a corrupt ticket record: as if none */
    vs_nvm_ticket_remove();
  } else if (first_boot && id->ticket_len > 0) {
    on_ticket(d, id->ticket, id->ticket_len, 1);
  }
  d->next_measure_at = vs_port_mono_ms() + d->cfg.period_ms;
  logf_(d, "boot dev=%s seq=%llu outbox=%u torn=%u ticket=%s", d->id.dev, (unsigned long long)d->next_seq,
        vs_outbox_count(&d->ob, 0), d->ob.torn, d->has_ticket ? "yes" : "no");
  return VS_OK;
}

static void transmit(vs_device *d, int i, uint64_t now) {
  const uint8_t *env;
  size_t n;
  vs_outbox_entry *e = &d->ob.e[i];
  if (vs_outbox_load(&d->ob, i, g_rec, &env, &n) != 0) {
    d->stats.nvm_errors++;
    logf_(d, "outbox slot %d unreadable: seq=%llu dropped", i, (unsigned long long)e->seq);
    vs_outbox_remove(&d->ob, i);
    return;
  }
  send_frame(d, VS_FT_READING, env, n);
  if (e->attempts > 0) {
    d->stats.resends++;
    logf_(d, "resend seq=%llu attempt=%u", (unsigned long long)e->seq, e->attempts + 1);
  }
  e->attempts++;
  e->inflight = 1;
  e->sent_at = now;
  d->stats.transmissions++;
}

static void pump(vs_device *d, uint64_t now) {
  while (d->line_up && !d->line_broken && vs_outbox_count(&d->ob, 1) < d->cfg.window) {
    int i = vs_outbox_next(&d->ob);
    if (i < 0) break;
    transmit(d, i, now);
  }
}

void vs_device_line_up(vs_device *d) {
  static const uint8_t flush = 0x00;
  d->line_up = 1;
  d->line_broken = 0;
  vs_rx_reset(&d->rx);
  if (vs_port_transport_write(&flush, 1) != 0) d->line_broken = 1; /* a lone 0x00 flushes noise (§8.5) */
  send_status(d, "online", NULL, 1, 1, 1);
  if (d->pending_code) {
    send_status(d, "error", d->pending_code, 0, 0, 0);
    d->pending_code = NULL;
  }
  pump(d, vs_port_mono_ms());
}

void vs_device_line_down(vs_device *d) {
  d->line_up = 0;
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++) d->ob.e[i].inflight = 0;
}

static void settle(vs_device *d, uint64_t seq, int acked, const char *code) {
  int i = vs_outbox_find(&d->ob, seq);
  if (i < 0) {
    if (acked) d->stats.duplicate_acks++;
    return;
  }
  vs_outbox_remove(&d->ob, i);
  if (acked) {
    d->stats.acked++;
    logf_(d, "ack seq=%llu", (unsigned long long)seq);
  } else {
    d->stats.rejected++;
    logf_(d, "rejected seq=%llu code=%s", (unsigned long long)seq, code);
  }
}

static void on_frame(vs_device *d, const vs_frame *f) {
  char dev[65], code[65];
  uint64_t seq;
  int has_seq;
  switch (f->type) {
    case VS_FT_TICKET:
      on_ticket(d, f->body, f->body_len, 0);
      break;
    case VS_FT_ACK:
      if (vs_ack_decode(f->body, f->body_len, dev, &seq) != VS_FRAME_OK) {
        vs_rx_count_bad_body(&d->rx);
        d->stats.bad_bodies++;
        break;
      }
      if (strcmp(dev, d->id.dev) != 0) break; /* not ours (§8.6) */
      settle(d, seq, 1, NULL);
      break;
    case VS_FT_ERROR:
      if (vs_error_decode(f->body, f->body_len, code, &has_seq, &seq) != VS_FRAME_OK) {
        vs_rx_count_bad_body(&d->rx);
        d->stats.bad_bodies++;
        break;
      }
      if (has_seq) settle(d, seq, 0, code);
      else logf_(d, "agent error code=%s", code);
      break;
    default: /* reading and status frames go the other way: ignored */
      break;
  }
}

void vs_device_on_bytes(vs_device *d, const uint8_t *p, size_t n) {
  size_t at = 0;
  while (at < n) {
    int result;
    vs_frame f;
    at += vs_rx_feed(&d->rx, p + at, n - at, &result, &f);
    if (result == 1) on_frame(d, &f);
  }
  pump(d, vs_port_mono_ms());
}

static uint32_t next_rand(vs_device *d) {
  uint32_t x = d->rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  d->rng = x;
  return x;
}

/* One spo2 reading (§4.2: [SpO2 %, pulse /min], integers): sealed, in the outbox, then sent. */
static void measure(vs_device *d, uint64_t now) {
  if (!d->has_ticket) {
    d->stats.not_measured_no_ticket++;
    return;
  }
  uint64_t now_ms = vs_port_now_ms();
  int code = vs_ticket_usable(&d->ticket, now_ms, d->next_seq - d->ticket_start_seq);
  if (code != VS_TICKET_OK) {
    drop_ticket(d, code);
    d->stats.not_measured_no_ticket++;
    return;
  }
  int slot = vs_outbox_free_slot(&d->ob);
  if (slot < 0) {
    d->stats.not_measured_outbox_full++;
    return;
  }
  uint64_t seq = d->next_seq;
  if (seq >= d->seq_limit) { /* persist the high-water mark BEFORE the seq is used */
    if (vs_nvm_seq_store(seq + d->cfg.seq_block) != 0) {
      d->stats.nvm_errors++;
      return;
    }
    d->seq_limit = seq + d->cfg.seq_block;
  }
  int64_t vals[2] = {95 + (int64_t)(next_rand(d) % 5), 60 + (int64_t)(next_rand(d) % 40)};
  uint8_t pt[64];
  size_t pt_len, env_len;
  vs_reading r = {"spo2", now_ms, "%,bpm", vals, NULL, 2};
  vs_header h = {d->id.dev, seq, now_ms, "spo2", 0, 0};
  uint8_t *env = g_rec + VS_OUTBOX_HEADER;
  size_t cap = VS_OUTBOX_SLOT_SIZE - VS_OUTBOX_HEADER - 4;
  int rc = vs_reading_encode(pt, sizeof pt, &pt_len, &r);
  if (rc == VS_OK)
    rc = d->cfg.session_mode ? vs_session_seal(&d->session, env, cap, &env_len, &h, pt, pt_len)
         : d->ticket.has_idk ? vs_seal_reading_auth(env, cap, &env_len, &h, pt, pt_len, d->ticket.pk, d->ticket.kid, d->idk_sk)
                             : vs_seal_reading(env, cap, &env_len, &h, pt, pt_len, d->ticket.pk, d->ticket.kid);
  memset(pt, 0, sizeof pt);
  if (rc != VS_OK) {
    d->stats.seal_errors++;
    logf_(d, "seal failed: %s", vs_err_name(rc));
    return;
  }
  if (vs_outbox_commit(&d->ob, slot, seq, g_rec, env_len) != 0) { /* in NVM before the first transmission */
    d->stats.nvm_errors++;
    logf_(d, "outbox write failed: seq=%llu not sent", (unsigned long long)seq);
    return;
  }
  d->next_seq = seq + 1;
  d->stats.sealed++;
  logf_(d, "sealed seq=%llu bytes=%zu", (unsigned long long)seq, env_len);
  pump(d, now);
}

void vs_device_poll(vs_device *d, uint64_t now) {
  if (now >= d->next_measure_at) {
    d->next_measure_at += d->cfg.period_ms;
    if (d->next_measure_at <= now) d->next_measure_at = now + d->cfg.period_ms; /* fell behind: skip */
    measure(d, now);
  }
  /* An ack timeout may mean a lost line the device cannot see (a serial peer that closed its end):
   * go back to the oldest unacknowledged reading and resend them all, in seq order (§8.7), rather
   * than each on its own timer, which could bring a later seq back first. */
  int timed_out = 0;
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++) {
    const vs_outbox_entry *e = &d->ob.e[i];
    if (e->used && e->inflight && now - e->sent_at >= d->cfg.ack_timeout_ms) timed_out = 1;
  }
  if (timed_out)
    for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++) d->ob.e[i].inflight = 0;
  pump(d, now);
}

int vs_device_wait_ms(const vs_device *d, uint64_t now) {
  uint64_t next = d->next_measure_at;
  for (unsigned i = 0; i < VS_OUTBOX_SLOTS; i++) {
    const vs_outbox_entry *e = &d->ob.e[i];
    if (e->used && e->inflight && e->sent_at + d->cfg.ack_timeout_ms < next) next = e->sent_at + d->cfg.ack_timeout_ms;
  }
  if (next <= now) return 0;
  return next - now > 1000 ? 1000 : (int)(next - now);
}

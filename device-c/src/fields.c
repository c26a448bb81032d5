/* fields.c: PROTOCOL §2.5 value rules (fields.h). */
#include "fields.h"

static int id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static int id_rule(const char *s, size_t len, size_t max) {
  if (!s || len == 0 || len > max || !alnum(s[0])) return 0;
  for (size_t i = 1; i < len; i++)
    if (!id_char(s[i])) return 0;
  return 1;
}

int vs_is_device_id(const char *s, size_t len) { return id_rule(s, len, 64); }

int vs_is_sensor_type(const char *s, size_t len) { return id_rule(s, len, 32); }

int vs_utf8_count(const uint8_t *s, size_t len, size_t *code_points, int refuse_cc) {
  size_t i = 0, n = 0;
  while (i < len) {
    uint32_t c = s[i];
    size_t k;
    uint32_t min;
    if (c < 0x80) {
      k = 0;
      min = 0;
    } else if ((c & 0xe0) == 0xc0) {
      k = 1;
      min = 0x80;
      c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      k = 2;
      min = 0x800;
      c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      k = 3;
      min = 0x10000;
      c &= 0x07;
    } else {
      return 0;
    }
    if (k > len - i - 1) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xc0) != 0x80) return 0;
      c = (c << 6) | (s[i + j] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    if (refuse_cc && (c <= 0x1f || (c >= 0x7f && c <= 0x9f))) return 0;
    i += k + 1;
    n++;
  }
  *code_points = n;
  return 1;
}

int vs_is_unit(const char *s, size_t len) {
  size_t n = 0;
  if (!s || len == 0) return 0;
  if (!vs_utf8_count((const uint8_t *)s, len, &n, 1)) return 0;
  return n >= 1 && n <= 16;
}

/*
 * fields.h: the value rules of PROTOCOL §2.5 (device id, sensor type, unit),
 * shared by the sealing core and the ticket parser. Lengths are in bytes and
 * strings need not be NUL-terminated. Stack: leaves, under 32 bytes.
 */
#ifndef VS_FIELDS_H
#define VS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

/* 1..64 ASCII [A-Za-z0-9._-], the first a letter or digit. */
int vs_is_device_id(const char *s, size_t len);
/* 1..32 ASCII of the same alphabet, the first a letter or digit. */
int vs_is_sensor_type(const char *s, size_t len);
/* Well-formed UTF-8 of 1..16 code points, none in category Cc (U+0000..U+001F, U+007F..U+009F). */
int vs_is_unit(const char *s, size_t len);
/* Well-formed UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF); counts code points. */
int vs_utf8_count(const uint8_t *s, size_t len, size_t *code_points, int refuse_cc);

#endif /* VS_FIELDS_H */

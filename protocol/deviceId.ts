/**
 * The device-id rule (docs/PROTOCOL.md §2.5), the one definition every entry point uses: the
 * envelope header, session tickets, MQTT topics and the broker's CONNECT check, serial ack bodies,
 * status frames and line bindings, the agent's admin and signed APIs and the simulator's fleet file.
 * 1..64 ASCII characters, the first a letter or digit, the rest letters, digits, '.', '_', '-'.
 * An id ends up in MQTT topics, file names and SQL rows, so no '/', '+', '#', ':', spaces, control
 * characters or non-ASCII, and no leading '.' or '-' (hidden files, command-line options).
 */

/** Longest device id, in characters (= bytes: the alphabet is ASCII). */
export const DEVICE_ID_MAX_LENGTH = 64;

/** The rule as a regular-expression source, for JSON schemas (`pattern: DEVICE_ID_PATTERN`). */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/** The rule as a RegExp (no flags: ASCII only, no `u` needed). */
export const DEVICE_ID_REGEX = new RegExp(DEVICE_ID_PATTERN);

export function isDeviceId(v: unknown): v is string {
  return typeof v === 'string' && DEVICE_ID_REGEX.test(v);
}

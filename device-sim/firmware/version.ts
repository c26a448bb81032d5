/**
 * The firmware string the simulated device reports (`fw` of its status, docs/PROTOCOL.md §8.4,
 * §9.6): `vitalseal-sim/<package version>` (a test keeps it equal to package.json's version).
 * A broken variant (bugs.ts) reports the same string: the kit must find the bug by behaviour.
 */
export const FIRMWARE_VERSION = '0.1.0';
export const FIRMWARE_ID = `vitalseal-sim/${FIRMWARE_VERSION}`;

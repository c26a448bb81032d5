/**
 * The C device library (device-c/) for the tests: builds it once per test process with its
 * Makefile (`make -C device-c`, into device-c/build/; the sanitizer build into
 * device-c/build/asan/) and returns the programs' paths.
 *
 * Outside CI a machine without a C compiler, make or libsodium-dev skips the C tests with the
 * reason; under CI=true the same is a failure (the pretest step and .ci/run install them).
 */
import { buildDeviceC, deviceCMissing, type DeviceCBuild } from '../../bench/lib/deviceC.ts';

export type { DeviceCBuild };

const IN_CI = process.env.CI === 'true';

/** True when the C tests should be skipped here: toolchain missing and not under CI. */
export const skipDeviceC: boolean = !IN_CI && deviceCMissing() !== undefined;

/** Why the C tests are skipped (for the test name); '' when they run. */
export const skipDeviceCReason: string = skipDeviceC ? (deviceCMissing() ?? '') : '';

/** Builds device-c (once per process) and returns it; throws with make's output when it cannot. */
export function deviceC(opts: { readonly asan?: boolean } = {}): DeviceCBuild {
  const r = buildDeviceC(opts);
  if (!r.ok) throw new Error(`${r.reason}\n(install: apt-get install -y gcc make libsodium-dev; .ci/run does this)`);
  return r.build;
}

/** Paths of the sealing core's programs. */
export function deviceCPrograms(opts: { readonly asan?: boolean } = {}): {
  readonly kat: string;
  readonly bench: string;
  readonly lib: string;
} {
  const b = deviceC(opts);
  return { kat: b.path('vs-kat'), bench: b.path('vs-bench'), lib: b.path('libvitalseal-device.a') };
}

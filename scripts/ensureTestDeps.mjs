#!/usr/bin/env node
/**
 * `npm test`'s pretest step (also run by `npm run test:integration` and `test:slow`): finds the
 * system programs the tests need. When one is missing and this runs as root on a machine with
 * apt-get, it installs the Debian packages, saying so; otherwise it stops (exit 1) with the exact
 * command to run. Also stops the system mosquitto service the Debian package starts (the tests run
 * their own brokers on free ports). To add a program, add a row to NEEDS;
 * a library is a row with `file` (its header paths) instead of `program`.
 *
 * VITALSEAL_SKIP_TEST_DEPS=1 skips the step (for running a unit-only subset through `npm test`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** program → Debian package; a program is found on PATH or in the sbin/bin dirs non-root PATHs lack. */
const NEEDS = [
  { program: 'mosquitto', pkg: 'mosquitto', why: 'external-broker tests (test/agent/external, test/adversarial/revokedDevice)' },
  { program: 'socat', pkg: 'socat', why: 'serial-port tests over a pty pair (test/agent/serial, test/device-sim/serial, …)' },
  { program: 'cc', pkg: 'gcc', why: 'the C device library device-c/ (test/deviceC)' },
  { program: 'make', pkg: 'make', why: 'the C device library device-c/ (test/deviceC)' },
  {
    file: ['/usr/include/sodium.h', '/usr/local/include/sodium.h'],
    pkg: 'libsodium-dev',
    why: 'the host crypto port of device-c/ (test/deviceC)',
  },
];

const say = (msg) => process.stderr.write(`ensure-test-deps: ${msg}\n`);

/** A NEEDS row is met when its program is found, or (a library's header) one of its files exists. */
function met(n) {
  if (n.file) return n.file.some((f) => existsSync(f));
  return !!find(n.program);
}

const label = (n) => n.program ?? n.file[0];

function find(program) {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'])
    if (existsSync(`${dir}/${program}`)) return `${dir}/${program}`;
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  return r.status === 0;
}

if (process.env.VITALSEAL_SKIP_TEST_DEPS === '1') process.exit(0);

const missing = NEEDS.filter((n) => !met(n));
if (missing.length > 0) {
  const pkgs = [...new Set(missing.map((n) => n.pkg))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = !!find('apt-get');
  const command = `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  for (const n of missing) say(`${label(n)} not found (needed by ${n.why})`);
  if (!isRoot || !hasApt) {
    say(
      hasApt
        ? `run as root:  sudo sh -c '${command}'`
        : `install the packages providing: ${missing.map(label).join(', ')} (Debian/Ubuntu: ${command})`,
    );
    say('then run npm test again');
    process.exit(1);
  }
  say(`installing ${pkgs.join(' ')} (root with apt-get): ${command}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], env) || !run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], env)) {
    say(`apt-get failed; run it by hand: ${command}`);
    process.exit(1);
  }
  const still = missing.filter((n) => !met(n));
  if (still.length > 0) {
    say(`still missing after apt-get: ${still.map(label).join(', ')}`);
    process.exit(1);
  }
  say(`installed ${pkgs.join(' ')}`);
}

// the Debian mosquitto package starts a system broker on 1883; the tests run their own on free ports
if (find('systemctl')) {
  const active = spawnSync('systemctl', ['is-active', '--quiet', 'mosquitto'], { stdio: 'ignore' });
  if (active.status === 0) {
    say('stopping the system mosquitto service (tests run their own brokers): systemctl stop mosquitto');
    if (!run('systemctl', ['stop', 'mosquitto']))
      say('could not stop it (not root?); tests use free ports, so this only matters if port 1883 is needed');
  }
}

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test tiers (test/README.md): every test/**\/*.test.ts file is in exactly one project.
 * - slow: the files listed in SLOW — over ~10 s each, or testing a chain's or process's own lifecycle
 *   (restart, orphan, outage, rewind, kill -9), or building/packing/benchmarking the whole project.
 * - integration: the files listed in INTEGRATION — they start something outside the test's own
 *   process or event loop: an agent (HTTP/MQTT servers), an embedded anvil chain, mosquitto, a pty
 *   pair (socat), or a child process.
 * - unit: every other file — in-process, no server, no chain, no child; the edit loop
 *   (`npm run test:unit`, under 60 s on the 2-core machine).
 * `npm test` runs all three (after the type check); a new file is unit unless listed here.
 */
const SLOW = [
  'test/bench/quick.test.ts',
  'test/package/package.test.ts',
  'test/adversarial/orphanChain.test.ts',
  'test/agent/crash.test.ts',
  'test/chain/outage.test.ts',
  'test/chain/restart.test.ts',
  'test/chain/rewind.test.ts',
  'test/chain/singleChain.test.ts',
  'test/cli/build.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/tlsCli.test.ts', // the CLI as child processes (ward ca init, device add --cert, cert-revoke, tls-rotate): ~40 s
  'test/cli/identityCli.test.ts', // the CLI as child processes against an HTTPS agent (ward authority-rotate, device identity, open --identity-key, wallet --agent-ca): 65–90 s on the loaded 2-core machine
  'test/protocol/fuzzRun.test.ts',
  'test/deviceC/conform.test.ts', // vitalseal conform --serial against vitalseal-device-c, kill -9 reboots, ~2 min
  'test/conform/mutation.test.ts', // the kit against the correct simulator and 27 broken firmware variants (children on socat ptys and MQTT, kill -9 reboots): minutes
  'test/conform/serial.test.ts', // the kit against the simulator child over socat, kill -9 reboots: ~60 s
  'test/conform/mqtt.test.ts', // the kit's broker against the simulator child (session mode), kill -9 reboots: ~55 s
  'test/conform/tls.test.ts', // the kit's broker over mutual TLS against the simulator child, kill -9 reboots, TLS-03's foreign certificate: ~90 s
  'test/conform/cliRotate.test.ts', // vitalseal conform --rotate-cmd end to end: the CLI's broker, the simulator child killed -9, rotated and restarted (~15 s)
  'test/conform/hostile.test.ts', // a flooding / noisy / silent device on a pty and on the kit's broker: every case times out or fails (~20 s)
  'test/deviceC/linkLoss.test.ts', // vitalseal-device-c: socat killed and restarted, reconnection with backoff
  'test/deviceC/fuzz.test.ts', // 135,000 inputs through the ASan+UBSan harness of device-c
  'test/deviceC/device.test.ts', // vitalseal-device-c with the agent on ptys, kill -9 and restart from NVM
  'test/protocol/envelopeFast.test.ts', // in-process, but 11 s alone: 10,000-input differential fuzz of the fast path
];

const INTEGRATION = [
  'test/adversarial/adminRoutesNeedToken.test.ts',
  'test/adversarial/deviceTakeover.test.ts',
  'test/adversarial/deviceCertTakeover.test.ts',
  'test/adversarial/diskFull.test.ts',
  'test/adversarial/expiredConsent.test.ts',
  'test/adversarial/filePermissions.test.ts',
  'test/adversarial/lowMalleableSignature.test.ts',
  'test/adversarial/lowHttpClientErrors.test.ts',
  'test/adversarial/lowIngestAbuse.test.ts',
  'test/adversarial/lowMqttPerIp.test.ts',
  'test/adversarial/lowRateLimits.test.ts',
  'test/adversarial/revokedDevice.test.ts',
  'test/adversarial/sessionKeyTakeover.test.ts',
  'test/agent/anchoring.test.ts',
  'test/agent/authorityRotation.test.ts',
  'test/agent/deviceIdRule.test.ts',
  'test/conform/deviceCommand.test.ts', // --reboot-cmd / --rotate-cmd through sh -c child processes, killed at their timeout
  'test/agent/identityRotation.test.ts', // an agent and the simulator on MQTT: a device-side identity key rotation end to end
  'test/agent/ticketRefusals.test.ts', // an agent with two socat ptys, the simulator on MQTT and serial, mosquitto
  'test/agent/embedded.test.ts',
  'test/agent/external.test.ts',
  'test/agent/externalTls.test.ts',
  'test/agent/publishWindow.test.ts',
  'test/agent/serial.test.ts',
  'test/agent/tls.test.ts',
  'test/agent/tlsWss.test.ts',
  'test/agent/tlsRotation.test.ts',
  'test/chain/anchor.test.ts',
  'test/chain/cli.test.ts',
  'test/chain/consentClock.test.ts',
  'test/chain/contracts.test.ts',
  'test/device-sim/bugsMqtt.test.ts',
  'test/device-sim/fleetMqtt.test.ts',
  'test/device-sim/reboot.test.ts',
  'test/device-sim/serial.test.ts',
  'test/deviceC/provisioning.test.ts', // vitalseal-device-c: provisioning files, no pinned key, on ptys
  'test/device-sim/simTls.test.ts',
  'test/deviceC/deviceLine.test.ts', // vitalseal-device-c on a socat pty pair
  'test/deviceC/authMode.test.ts', // vitalseal-device-c in HPKE Auth mode on a socat pty pair, kill -9 restart
  'test/deviceC/frames.test.ts', // vs-device-kat (device-c) as a child process
  'test/deviceC/ticket.test.ts', // vs-device-kat (device-c) as a child process
  'test/deviceC/kat.test.ts', // runs the C driver (device-c/, built by make) as a child process
  'test/e2e/ward.test.ts',
  'test/spec/produced.test.ts',
  'test/wallet/cli.test.ts',
];

// a renamed or deleted file must leave these lists too (a renamed file would otherwise fall into unit)
for (const f of [...SLOW, ...INTEGRATION])
  if (!existsSync(new URL(f, import.meta.url))) throw new Error(`vitest.config.ts: tier list names a missing file: ${f}`);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is cores − 1: ONE worker on the 2-core machine, every file in series (450 s wall).
    // Most integration/slow files wait on children (anvil, mosquitto, socat, the agent), so one worker
    // per core at least; VITALSEAL_TEST_WORKERS overrides.
    maxWorkers: Number(process.env.VITALSEAL_TEST_WORKERS) || Math.max(2, availableParallelism()),
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...SLOW, ...INTEGRATION] } },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});

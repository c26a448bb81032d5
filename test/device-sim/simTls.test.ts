import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import type { FleetReport } from '../../device-sim/report/fleetReport.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';
import { runSimCli } from '../support/simCli.ts';

const sim = runSimCli;

const ward = new WardFixture('sim-tls-test');
let agent: RunningAgent;
let dir: string;
let dataDir: string;

beforeAll(async () => {
  agent = await startAgent(
    parseAgentConfig({
      dataDir: (dataDir = tempDir()),
      mqtt: { port: 0 },
      http: { port: 0 },
      tls: { enabled: true, port: 0, requireTls: true },
      logLevel: 'silent',
    }),
    // no pinned authority: the generated fleet's tickets are signed by the simulator's own ward authority
    { defaultMetrics: false },
  );
  agent.core.provisionDevice('dut-tls');
  await agent.core.pushTicket(ward.ticketFor('dut-tls'));
  const id = await agent.tls!.ca!.issueDeviceWithKey('dut-tls');
  dir = tempDir();
  writeFileSync(join(dir, 'ca.crt'), agent.tls!.caPem);
  writeFileSync(join(dir, 'dut.crt'), id.certPem);
  writeFileSync(join(dir, 'dut.key'), id.keyPem, { mode: 0o600 });
});

afterAll(async () => {
  await agent?.stop();
});

describe('vitalseal sim over TLS', () => {
  it('a device with --tls --ca --cert --key reaches the agent by mutual TLS; its readings are stored', async () => {
    const r = await sim([
      '--device',
      'dut-tls',
      '--broker',
      `mqtt://127.0.0.1:${agent.mqttTlsAddress!.port}`,
      '--tls',
      '--ca',
      join(dir, 'ca.crt'),
      '--cert',
      join(dir, 'dut.crt'),
      '--key',
      join(dir, 'dut.key'),
      '--authority-key',
      Buffer.from(ward.authorityPublic).toString('hex'),
      '--duration',
      '3s',
      '--period',
      '500ms',
      '--backend',
      'node',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as FleetReport;
    expect(report.devices[0]!.measured).toBeGreaterThan(0);
    expect(agent.core.store.recordsOfDevice('dut-tls').length).toBe(report.devices[0]!.measured);
  });

  it('a generated fleet provisioned through the HTTPS admin API (--agent https://, --ca) publishes with passwords over TLS', async () => {
    const r = await sim([
      '--devices',
      '2',
      '--agent',
      `https://127.0.0.1:${agent.httpAddress.port}`,
      '--agent-data-dir',
      dataDir,
      '--broker',
      `mqtts://127.0.0.1:${agent.mqttTlsAddress!.port}`,
      '--ca',
      join(dir, 'ca.crt'),
      '--duration',
      '2s',
      '--period',
      '500ms',
      '--backend',
      'node',
      '--json',
    ]);
    expect(r.code, `${r.err}\n${r.out}`).toBe(0);
    const report = JSON.parse(r.out) as FleetReport;
    for (const d of report.devices) {
      expect(d.measured).toBeGreaterThan(0);
      expect(agent.core.store.recordsOfDevice(d.id).length).toBe(d.measured);
    }
  });

  it('refuses --tls without --ca and --cert without --tls', async () => {
    const base = ['--device', 'dut-tls', '--broker', 'mqtt://127.0.0.1:1'];
    expect((await sim([...base, '--tls', '--cert', join(dir, 'dut.crt'), '--key', join(dir, 'dut.key')])).code).toBe(2);
    expect((await sim([...base, '--secret-file', join(dir, 'ca.crt'), '--cert', join(dir, 'dut.crt')])).code).toBe(2);
  });
});

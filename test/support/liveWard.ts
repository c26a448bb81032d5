import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { devPrivateKey } from '../../chain/devKeys.ts';
import type { RoleName } from '../../chain/contracts.ts';
import type { Hpke } from '../../protocol/hpke/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { decodeTicket, type Ticket } from '../../protocol/ticket/index.ts';
import { seededRng, type Rng } from '../../protocol/rng.ts';
import { AgentClient } from '../../wallet/agentClient.ts';
import { contractsFor, registerByAdmin, registerPatient, type ChainLink } from '../../wallet/chainLink.ts';
import { WalletError } from '../../wallet/errors.ts';
import { Wallet } from '../../wallet/wallet.ts';
import { tempDir } from './services.ts';

/**
 * A live ward for tests written from an attacker's side: the agent with its embedded broker and
 * embedded chain, wallets on the chain's funded dev accounts, and the public interfaces only
 * (signed API calls, the admin API with the operator's token, MQTT as a device).
 */
export class LiveWard {
  readonly rng: Rng;
  readonly hpke: Hpke = createHpke('node');
  readonly dir: string;
  private readonly clients: MqttClient[] = [];

  private constructor(
    readonly agent: RunningAgent,
    readonly link: ChainLink,
    seed: string,
    dir: string,
  ) {
    this.rng = seededRng(seed);
    this.dir = dir;
  }

  static async start(seed: string): Promise<LiveWard> {
    const dir = tempDir(`vitalseal-${seed}-`);
    const agent = await startAgent(
      parseAgentConfig({
        dataDir: join(dir, 'agent'),
        mqtt: { port: 0 },
        http: { port: 0 },
        logLevel: 'silent',
        chain: { mode: 'embedded', intervalMs: 100, maxLeaves: 50 },
      }),
      { defaultMetrics: false },
    );
    const a = agent.anchoring!;
    return new LiveWard(agent, { rpcUrl: a.embedded!.chain.rpcUrl, deployment: a.deployment, embedded: true }, seed, dir);
  }

  get api(): string {
    return `http://127.0.0.1:${this.agent.httpAddress.port}`;
  }

  /** A wallet on dev account `index` (2..9), registered with `role` (patients register themselves). */
  async wallet(name: string, index: number, role: RoleName | undefined): Promise<Wallet> {
    const w = Wallet.create(join(this.dir, `${name}.wallet.json`), 'test-passphrase', {
      rng: this.rng,
      ethPrivateKey: devPrivateKey(index),
      scryptN: 1 << 10,
    });
    if (role === 'Patient') await registerPatient(contractsFor(w, this.link), w);
    else if (role) await registerByAdmin(this.agent.anchoring!.embedded!.adminContracts, w, role);
    return w;
  }

  client(): AgentClient {
    return new AgentClient(this.api, this.rng);
  }

  /** A signed API call; resolves to the answer or to the refusal's stable code. */
  async call(
    w: Wallet,
    path: string,
    type: Parameters<AgentClient['call']>[2],
    message: Record<string, unknown>,
  ): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; code: string; status: number | undefined }> {
    try {
      return { ok: true, body: (await this.client().call(w, path, type, message as never)) as Record<string, unknown> };
    } catch (e) {
      if (e instanceof WalletError && e.apiCode !== undefined) return { ok: false, code: e.apiCode, status: e.status };
      throw e;
    }
  }

  /** The ward operator's admin API (or anyone's, with `token`). */
  async admin(
    method: string,
    path: string,
    body?: unknown,
    token = this.agent.adminToken,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** A device connected with its own credentials, collecting the tickets the ward publishes to it. */
  async device(id: string, secret: string): Promise<{ client: MqttClient; tickets: Ticket[] }> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.agent.mqttAddress!.port}`, {
      clientId: id,
      username: id,
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    this.clients.push(client);
    const tickets: Ticket[] = [];
    client.on('message', (topic, payload) => {
      if (topic === `vs/v1/${id}/ticket`) tickets.push(decodeTicket(new Uint8Array(payload)));
    });
    await client.subscribeAsync(`vs/v1/${id}/ticket`, { qos: 1 });
    return { client, tickets };
  }

  async stop(): Promise<void> {
    for (const c of this.clients) await c.endAsync().catch(() => undefined);
    await this.agent.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

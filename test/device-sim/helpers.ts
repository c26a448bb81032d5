import { ed25519 } from '@noble/curves/ed25519.js';
import { rmSync } from 'node:fs';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { createHpke } from '../../protocol/node.ts';
import { tempKeyPairGen, type TempKeyPair } from '../../protocol/keys/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { tempDir } from '../support/services.ts';

export interface Authority {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function authority(seed: number): Authority {
  return ed25519.keygen(new Uint8Array(32).fill(seed));
}

export interface PatientTicket {
  readonly ticket: Uint8Array;
  readonly key: TempKeyPair;
}

/** A patient's temporary key and a session ticket for `dev`, valid [nbf, exp] (seconds), signed by `auth`. */
export function patientTicket(
  dev: string,
  auth: Authority,
  window: { nbf: number; exp: number; maxReadings?: number },
  keySeed = dev,
): PatientTicket {
  const key = tempKeyPairGen(`patient:${keySeed}`, seededRng(`test-patient/${keySeed}`), createHpke('node'));
  const ticket = issueTicket(
    {
      dev,
      kid: key.kid,
      pk: key.publicKey,
      patient: `patient:${keySeed}`,
      nbf: window.nbf,
      exp: window.exp,
      ...(window.maxReadings ? { maxReadings: window.maxReadings } : {}),
    },
    auth.secretKey,
  );
  return { ticket, key };
}

export const nowS = (): number => Math.floor(Date.now() / 1000);

/** The real edge agent (embedded aedes broker on a loopback port, SQLite store). */
export async function startTestAgent(serial: string[] = []): Promise<{ agent: RunningAgent; dir: string; stop(): Promise<void> }> {
  const dir = tempDir('vitalseal-sim-agent-');
  const agent = await startAgent(parseAgentConfig({ dataDir: dir, mqtt: { port: 0 }, http: { port: 0 }, logLevel: 'silent', serial }), {
    defaultMetrics: false,
  });
  return {
    agent,
    dir,
    stop: async () => {
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

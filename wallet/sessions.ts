import { bytesToHex } from 'viem';
import { toHex } from '../protocol/bytes.ts';
import type { Hpke } from '../protocol/hpke/index.ts';
import { tempKeyPairGen } from '../protocol/keys/index.ts';
import type { Rng } from '../protocol/rng.ts';
import type { AgentClient } from './agentClient.ts';
import type { Wallet } from './wallet.ts';

/**
 * `wallet pair`: a signed pairing request for a device. The agent answers with a one-time code
 * (valid minutes); the patient shows it, with the wallet address, to the ward operator at the
 * bedside, who confirms it (`vitalseal device assign <id> --code …`). Sessions need that assignment.
 */
export async function requestPairing(
  wallet: Wallet,
  client: AgentClient,
  device: string,
): Promise<{ device: string; code: string; expiresAt: number; patient: string }> {
  return (await client.call(wallet, '/v1/pairings', 'PairingRequest', { device })) as {
    device: string;
    code: string;
    expiresAt: number;
    patient: string;
  };
}

/**
 * `wallet session start`: TempKeyPairGen(PatientID ‖ randomness) with PatientID = the patient's
 * address; the public key goes to the agent in a signed SessionRequest, the agent (ward authority)
 * issues and pushes the ticket; the secret key stays in the wallet.
 */
export async function startSession(
  wallet: Wallet,
  client: AgentClient,
  o: { device: string; hpke: Hpke; rng: Rng; nowSec: number; durationSec?: number },
): Promise<{ device: string; kid: string; ticket: string }> {
  const kp = tempKeyPairGen(wallet.address, o.rng, o.hpke);
  const nbf = o.nowSec - 60;
  const exp = o.nowSec + (o.durationSec ?? 12 * 3600);
  const res = (await client.call(wallet, '/v1/sessions', 'SessionRequest', {
    device: o.device,
    pk: bytesToHex(kp.publicKey),
    nbf,
    exp,
  })) as { device: string; kid: string; ticket: string };
  wallet.addSession({
    patient: wallet.address,
    device: o.device,
    kid: toHex(kp.kid),
    sk: toHex(kp.secretKey),
    pk: toHex(kp.publicKey),
    nbf,
    exp,
    source: 'own',
  });
  wallet.save();
  return { device: res.device, kid: toHex(kp.kid), ticket: res.ticket };
}

export async function endSession(wallet: Wallet, client: AgentClient, device: string, kid: string, nowSec: number): Promise<void> {
  await client.call(wallet, '/v1/sessions/end', 'SessionEnd', { device, kid: `0x${kid}` });
  wallet.endSession(device, kid, nowSec);
  wallet.save();
}

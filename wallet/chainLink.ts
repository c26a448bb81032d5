import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { createChainClients } from '../chain/client.ts';
import { ChainContracts, type RoleName } from '../chain/contracts.ts';
import { DEPLOYMENT_FILE, readDeployment, type Deployment } from '../chain/deployment.ts';
import { readEmbeddedInfo } from '../chain/embedded.ts';
import { patientRefOf } from '../protocol/patientRef.ts';
import { WalletError } from './errors.ts';
import type { Wallet } from './wallet.ts';

/** Where the chain is: an RPC URL and the deployment record; `embedded` allows the dev-only conveniences. */
export interface ChainLink {
  rpcUrl: string;
  deployment: Deployment;
  embedded: boolean;
}

/** The embedded chain of an agent data dir (<agent>/chain: embedded.json + chain.json) or an explicit RPC + deployment file. */
export function chainLinkOf(o: { chainDir?: string; rpc?: string; deployment?: string }): ChainLink {
  if (o.rpc) {
    const d = o.deployment ? readDeployment(o.deployment) : undefined;
    if (!d) throw new WalletError('WALLET_CHAIN_CONFIG', 'an external chain needs --deployment <chain.json>');
    return { rpcUrl: o.rpc, deployment: d, embedded: false };
  }
  const dir = o.chainDir ?? '.vitalseal/demo/chain';
  const info = readEmbeddedInfo(dir);
  const d = readDeployment(join(dir, DEPLOYMENT_FILE));
  if (!info || !d)
    throw new WalletError('WALLET_CHAIN_CONFIG', `no running embedded chain in ${dir} (start the agent or \`vitalseal chain up\`)`);
  return { rpcUrl: info.rpcUrl, deployment: d, embedded: true };
}

/** The wallet's contracts handle: transactions signed locally by its own key. */
export function contractsFor(wallet: Wallet, link: ChainLink): ChainContracts {
  const clients = createChainClients({
    rpcUrl: link.rpcUrl,
    chainId: link.deployment.chainId,
    privateKey: wallet.privateKey,
    target: link.embedded ? 'embedded' : 'external',
  });
  return new ChainContracts(clients, link.deployment);
}

/** Embedded chain only: gives a fresh wallet gas money (anvil_setBalance). */
export async function fundOnEmbedded(c: ChainContracts, address: Address): Promise<void> {
  await c.clients.publicClient.request({ method: 'anvil_setBalance' as never, params: [address, '0x56BC75E2D63100000'] as never });
}

/** A patient registers itself: id = patientRefOf(address) (what tickets and Ledger events name), pubKey = its X25519 key. */
export async function registerPatient(c: ChainContracts, wallet: Wallet): Promise<{ id: Hex; txHash: Hex; blockNumber: number }> {
  const id = patientRefOf(wallet.address);
  const r = await c.registerPatient(id, wallet.vitalsealPublicKey);
  return { id, txHash: r.txHash, blockNumber: r.blockNumber };
}

/** The ward authority (Registrar admin) registers a clinician, emergency clinician or researcher. */
export async function registerByAdmin(
  admin: ChainContracts,
  wallet: { address: Address; vitalsealPublicKey: Hex },
  role: RoleName,
  id?: Hex,
): Promise<{ txHash: Hex; blockNumber: number }> {
  const r = await admin.register(wallet.address, id ?? patientRefOf(`${role}:${wallet.address}`), role, wallet.vitalsealPublicKey);
  return { txHash: r.txHash, blockNumber: r.blockNumber };
}

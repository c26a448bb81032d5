/**
 * Registrar, Consent and Ledger on the real embedded chain: every revert path, the
 * access rules, and the gas of each function (printed; written to chain/gas-report.json).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zeroAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainContracts, type TxResult } from '../../chain/contracts.ts';
import { createChainClients } from '../../chain/client.ts';
import { CHAIN_DIR } from '../../chain/compile.ts';
import type { EmbeddedSession } from '../../chain/embedded.ts';
import { scopeAll, scopeSensor, scopeSession } from '../../chain/scope.ts';
import { GasReport } from './gasReport.ts';
import { b32, removeDir, startChain, tempDir, testClient } from './helpers.ts';

const ZERO32: Hex = `0x${'00'.repeat(32)}`;
const FAR_FUTURE = 4_102_444_800; // 2100-01-01, fixed so gas figures are reproducible

let dir: string;
let s: EmbeddedSession;
const gas = new GasReport();
const c: Record<string, ChainContracts> = {};
const addr: Record<string, Address> = {};

async function rec(name: string, p: Promise<TxResult>): Promise<TxResult> {
  const r = await p;
  gas.record(name, r.gasUsed);
  return r;
}

async function reverts(p: Promise<unknown>, revertName: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code: 'CHAIN_TX_REVERTED', revertName });
}

async function chainNow(): Promise<number> {
  const b = await s.admin.publicClient.getBlock();
  return Number(b.timestamp);
}

async function advance(seconds: number): Promise<void> {
  const t = testClient(s.chain.rpcUrl);
  await t.increaseTime({ seconds });
  await t.mine({ blocks: 1 });
}

const names = ['admin', 'agent', 'alice', 'bob', 'clin', 'ec', 'res', 'prov', 'agent2', 'outsider'] as const;

beforeAll(async () => {
  dir = tempDir('contracts');
  s = await startChain(dir);
  names.forEach((n, i) => {
    const clients = i === 0 ? s.admin : s.devClients(i);
    c[n] = new ChainContracts(clients, s.deployment);
    addr[n] = clients.account.address;
  });
});

afterAll(async () => {
  await s?.chain.stop();
  removeDir(dir);
  if (gas.table() && Object.keys(gas.table()).length > 0) {
    console.log(`\nGas per function (embedded chain)\n${gas.format()}\n`);
    gas.write(process.env['VITALSEAL_GAS_REPORT'] ?? join(CHAIN_DIR, 'gas-report.json'));
  }
});

describe('Registrar', () => {
  it('registers by role: admin for staff and agents, patients themselves', async () => {
    expect(await c.admin!.admin()).toBe(addr.admin);
    await rec('Registrar.registerPatient', c.alice!.registerPatient(b32('id:alice'), b32('pk:alice')));
    await rec('Registrar.registerPatient', c.bob!.registerPatient(b32('id:bob'), b32('pk:bob')));
    await rec('Registrar.register', c.admin!.register(addr.clin!, b32('id:clin'), 'Clinician', b32('pk:clin')));
    await rec('Registrar.register', c.admin!.register(addr.ec!, b32('id:ec'), 'EmergencyClinician', b32('pk:ec')));
    await rec('Registrar.register', c.admin!.register(addr.res!, b32('id:res'), 'Researcher', b32('pk:res')));
    await rec('Registrar.register', c.admin!.register(addr.prov!, b32('id:prov'), 'Provider', b32('pk:prov')));
    await rec('Registrar.registerAgent', c.admin!.registerAgent(addr.agent!, b32('id:agent'), b32('log:1'), b32('pk:agent')));
    await rec('Registrar.registerAgent', c.admin!.registerAgent(addr.agent2!, b32('id:agent2'), b32('log:2'), b32('pk:agent2')));

    const r = await c.admin!.registration(addr.alice!);
    expect(r).toMatchObject({ id: b32('id:alice'), pubKey: b32('pk:alice'), role: 'Patient', revoked: false });
    expect(r.registeredAt).toBeGreaterThan(0);
    expect(await c.admin!.hasRole(addr.ec!, 'EmergencyClinician')).toBe(true);
    expect(await c.admin!.hasRole(addr.ec!, 'Clinician')).toBe(false);
    expect(await c.admin!.activeAgentOf(b32('log:1'))).toBe(addr.agent);
    expect(await c.admin!.activeAgentOf(b32('log:unknown'))).toBe(zeroAddress);
    expect(await c.admin!.isActive(addr.outsider!)).toBe(false);
  });

  it('refuses registrations from non-admins, bad roles, zero values, duplicates', async () => {
    await reverts(c.outsider!.register(addr.outsider!, b32('x'), 'Clinician', ZERO32), 'NotAdmin');
    await reverts(c.outsider!.registerAgent(addr.outsider!, b32('x'), b32('log:x'), ZERO32), 'NotAdmin');
    await reverts(c.admin!.register(addr.outsider!, b32('x'), 'Patient', ZERO32), 'BadRole');
    await reverts(c.admin!.register(addr.outsider!, b32('x'), 'Agent', ZERO32), 'BadRole');
    await reverts(c.admin!.register(addr.outsider!, b32('x'), 'None', ZERO32), 'BadRole');
    await reverts(c.admin!.register(zeroAddress, b32('x'), 'Clinician', ZERO32), 'ZeroValue');
    await reverts(c.admin!.register(addr.outsider!, ZERO32, 'Clinician', ZERO32), 'ZeroValue');
    await reverts(c.outsider!.registerPatient(ZERO32, ZERO32), 'ZeroValue');
    await reverts(c.alice!.registerPatient(b32('id:alice2'), ZERO32), 'AlreadyRegistered');
    await reverts(c.outsider!.registerPatient(b32('id:alice'), ZERO32), 'IdTaken');
    await reverts(c.admin!.registerAgent(addr.outsider!, b32('x'), ZERO32, ZERO32), 'ZeroValue');
    await reverts(c.admin!.registerAgent(addr.outsider!, b32('x'), b32('log:1'), ZERO32), 'LogIdTaken');
    await reverts(c.admin!.setAdmin(zeroAddress), 'ZeroValue');
    await reverts(c.outsider!.setAdmin(addr.outsider!), 'NotAdmin');
  });

  it('transfers the admin role', async () => {
    await rec('Registrar.setAdmin', c.admin!.setAdmin(addr.prov!));
    await reverts(c.admin!.register(addr.outsider!, b32('x'), 'Clinician', ZERO32), 'NotAdmin');
    await rec('Registrar.setAdmin', c.prov!.setAdmin(addr.admin!));
    expect(await c.admin!.admin()).toBe(addr.admin);
  });

  it('rotates keys and moves accounts; the old account is retired', async () => {
    await rec('Registrar.rotateKey', c.bob!.rotateKey(b32('pk:bob:2')));
    expect((await c.admin!.registration(addr.bob!)).pubKey).toBe(b32('pk:bob:2'));
    await reverts(c.outsider!.rotateKey(b32('x')), 'NotRegistered');

    // bob moves to a fresh account (his new key), then the admin moves it once more (lost key)
    const fresh = privateKeyToAccount(b32('fresh-bob-key'));
    const fresh2 = privateKeyToAccount(b32('fresh-bob-key-2'));
    await reverts(c.outsider!.moveAccount(addr.bob!, fresh.address), 'NotAuthorized');
    await reverts(c.bob!.moveAccount(addr.bob!, zeroAddress), 'ZeroValue');
    await reverts(c.bob!.moveAccount(addr.bob!, addr.alice!), 'AlreadyRegistered');
    await reverts(c.admin!.moveAccount(addr.outsider!, fresh.address), 'NotRegistered');
    await rec('Registrar.moveAccount', c.bob!.moveAccount(addr.bob!, fresh.address));
    expect(await c.admin!.isActive(addr.bob!)).toBe(false);
    expect((await c.admin!.registration(fresh.address)).id).toBe(b32('id:bob'));
    await reverts(c.bob!.registerPatient(b32('id:bob:again'), ZERO32), 'AccountRetired');
    await reverts(c.admin!.moveAccount(fresh.address, addr.bob!), 'AccountRetired');
    await rec('Registrar.moveAccount', c.admin!.moveAccount(fresh.address, fresh2.address));
    expect(await c.admin!.hasRole(fresh2.address, 'Patient')).toBe(true);

    // the moved account signs for itself
    await testClient(s.chain.rpcUrl).setBalance({ address: fresh2.address, value: 10n ** 18n });
    const bob2 = new ChainContracts(
      createChainClients({ rpcUrl: s.chain.rpcUrl, chainId: s.chain.chainId, privateKey: b32('fresh-bob-key-2'), target: 'embedded' }),
      s.deployment,
    );
    await rec('Registrar.rotateKey', bob2.rotateKey(b32('pk:bob:3')));
    c.bob = bob2;
    addr.bob = fresh2.address;
  });

  it('revokes registrations (admin or holder), for good', async () => {
    await c.admin!.register(addr.outsider!, b32('id:tmp'), 'Clinician', ZERO32);
    await reverts(c.alice!.revokeRegistration(addr.outsider!), 'NotAuthorized');
    await rec('Registrar.revoke', c.outsider!.revokeRegistration(addr.outsider!));
    expect(await c.admin!.isActive(addr.outsider!)).toBe(false);
    expect((await c.admin!.registration(addr.outsider!)).revoked).toBe(true);
    await reverts(c.admin!.revokeRegistration(addr.outsider!), 'RegistrationIsRevoked');
    await reverts(c.outsider!.rotateKey(b32('x')), 'RegistrationIsRevoked');
    await reverts(c.admin!.moveAccount(addr.outsider!, privateKeyToAccount(b32('k')).address), 'RegistrationIsRevoked');
    await reverts(c.admin!.revokeRegistration(privateKeyToAccount(b32('nobody')).address), 'NotRegistered');
    await reverts(c.outsider!.registerPatient(b32('id:tmp2'), ZERO32), 'AlreadyRegistered');
  });
});

describe('Consent', () => {
  const kid = new Uint8Array(16).fill(7);

  it('grants by scope; all covers every scope; others do not spill over', async () => {
    await rec('Consent.grant', c.alice!.grant(addr.clin!, scopeSensor('spo2'), FAR_FUTURE));
    await rec('Consent.grant', c.alice!.grant(addr.res!, scopeSession(kid), FAR_FUTURE));
    await rec('Consent.grant', c.alice!.grant(addr.prov!, scopeAll(), FAR_FUTURE));
    expect(await c.admin!.hasAccess(addr.alice!, addr.clin!, scopeSensor('spo2'))).toBe(true);
    expect(await c.admin!.hasAccess(addr.alice!, addr.clin!, scopeSensor('ecg'))).toBe(false);
    expect(await c.admin!.hasAccess(addr.alice!, addr.clin!, scopeAll())).toBe(false);
    expect(await c.admin!.hasAccess(addr.alice!, addr.res!, scopeSession(kid))).toBe(true);
    expect(await c.admin!.hasAccess(addr.alice!, addr.res!, scopeSession(new Uint8Array(16).fill(8)))).toBe(false);
    expect(await c.admin!.hasAccess(addr.alice!, addr.prov!, scopeSensor('ecg'))).toBe(true);
    expect(await c.admin!.hasAccess(addr.alice!, addr.prov!, scopeSession(kid))).toBe(true);
    expect(await c.admin!.hasAccess(addr.alice!, addr.alice!, scopeAll())).toBe(true);
    expect(await c.admin!.hasAccess(addr.bob!, addr.clin!, scopeSensor('spo2'))).toBe(false);
    expect(await c.admin!.canRead(addr.alice!, addr.res!, scopeSensor('ecg'), scopeSession(kid))).toBe(true);
    expect(await c.admin!.canRead(addr.alice!, addr.res!, scopeSensor('ecg'), scopeSession(new Uint8Array(16)))).toBe(false);
    expect(await c.admin!.grantExpiry(addr.alice!, addr.clin!, scopeSensor('spo2'))).toBe(FAR_FUTURE);
  });

  it('refuses bad grants', async () => {
    const soon = (await chainNow()) + 3600;
    await reverts(c.clin!.grant(addr.res!, scopeAll(), soon), 'NotActivePatient');
    await reverts(c.outsider!.grant(addr.res!, scopeAll(), soon), 'NotActivePatient'); // revoked registration
    await reverts(c.alice!.grant(addr.alice!, scopeAll(), soon), 'SelfGrant');
    await reverts(c.alice!.grant(privateKeyToAccount(b32('nobody')).address, scopeAll(), soon), 'GranteeNotActive');
    await reverts(c.alice!.grant(addr.outsider!, scopeAll(), soon), 'GranteeNotActive');
    await reverts(c.alice!.grant(addr.clin!, `0x03${'00'.repeat(31)}`, soon), 'BadScope');
    await reverts(c.alice!.grant(addr.clin!, `0x00${'00'.repeat(30)}01`, soon), 'BadScope');
    await reverts(c.alice!.grant(addr.clin!, `0x01${'00'.repeat(31)}`, soon), 'BadScope');
    await reverts(c.alice!.grant(addr.clin!, `0x02${'11'.repeat(16)}${'00'.repeat(14)}01`, soon), 'BadScope');
    await reverts(c.alice!.grant(addr.clin!, scopeAll(), (await chainNow()) - 1), 'NotAfterInPast');
    await reverts(c.alice!.revokeGrant(addr.res!, scopeAll()), 'NoSuchGrant');
  });

  it('expires grants and honours revocation of grants and registrations', async () => {
    const t = await chainNow();
    await c.alice!.grant(addr.ec!, scopeSensor('ecg'), t + 100);
    expect(await c.admin!.hasAccess(addr.alice!, addr.ec!, scopeSensor('ecg'))).toBe(true);
    await advance(200);
    expect(await c.admin!.hasAccess(addr.alice!, addr.ec!, scopeSensor('ecg'))).toBe(false); // expired

    await rec('Consent.revoke', c.alice!.revokeGrant(addr.clin!, scopeSensor('spo2')));
    expect(await c.admin!.hasAccess(addr.alice!, addr.clin!, scopeSensor('spo2'))).toBe(false);
    await reverts(c.alice!.revokeGrant(addr.clin!, scopeSensor('spo2')), 'NoSuchGrant');

    // a revoked grantee loses access it was granted
    await c.admin!.register(privateKeyToAccount(b32('tmp-res')).address, b32('id:tmp-res'), 'Researcher', ZERO32);
    const tmpRes = privateKeyToAccount(b32('tmp-res')).address;
    await c.alice!.grant(tmpRes, scopeAll(), FAR_FUTURE);
    expect(await c.admin!.hasAccess(addr.alice!, tmpRes, scopeAll())).toBe(true);
    await c.admin!.revokeRegistration(tmpRes);
    expect(await c.admin!.hasAccess(addr.alice!, tmpRes, scopeAll())).toBe(false);
  });

  it('break-glass: emergency clinicians only, time-limited, counted, announced to the patient', async () => {
    const reason = b32('reason: unconscious, suspected anaphylaxis');
    await reverts(c.clin!.breakGlass(addr.alice!, reason), 'NotEmergencyClinician');
    await reverts(c.outsider!.breakGlass(addr.alice!, reason), 'NotEmergencyClinician');
    await reverts(c.ec!.breakGlass(addr.clin!, reason), 'NotActivePatient');
    await reverts(c.ec!.breakGlass(addr.alice!, ZERO32), 'ZeroReason');
    expect(await c.admin!.hasAccess(addr.alice!, addr.ec!, scopeSensor('ecg'))).toBe(false);

    const r = await rec('Consent.breakGlass', c.ec!.breakGlass(addr.alice!, reason));
    expect(await c.admin!.hasAccess(addr.alice!, addr.ec!, scopeSensor('ecg'))).toBe(true);
    expect(await c.admin!.hasAccess(addr.alice!, addr.ec!, scopeAll())).toBe(true);
    expect(await c.admin!.breakGlassCount(addr.alice!)).toBe(1);
    const evs = await c.alice!.breakGlassEvents({ patientRef: b32('id:alice') });
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ patient: addr.alice, clinician: addr.ec, reasonHash: reason, txHash: r.txHash });
    const until = await c.admin!.emergencyAccessUntil(addr.alice!, addr.ec!);
    expect(evs[0]!.notAfter).toBe(until);
    expect(until - (await chainNow())).toBeLessThanOrEqual(s.deployment.breakGlassSeconds);

    await advance(s.deployment.breakGlassSeconds + 1);
    expect(await c.admin!.hasAccess(addr.alice!, addr.ec!, scopeAll())).toBe(false);
  });
});

describe('Ledger', () => {
  const log1 = b32('log:1');
  const refs = (n: number) => Array.from({ length: n }, (_, i) => b32(`patient:${i}`));

  it('anchors only by the active agent of that log', async () => {
    await reverts(c.outsider!.anchor(log1, 1, b32('root:1'), []), 'NotAgentOfLog');
    await reverts(c.admin!.anchor(log1, 1, b32('root:1'), []), 'NotAgentOfLog');
    await reverts(c.agent2!.anchor(log1, 1, b32('root:1'), []), 'NotAgentOfLog'); // wrong agent for this logId
    await reverts(c.agent!.anchor(b32('log:unregistered'), 1, b32('root:1'), []), 'NotAgentOfLog');
    await reverts(c.agent!.anchor(log1, 1, ZERO32, []), 'ZeroRoot');

    await rec('Ledger.anchor (first, 1 patient)', c.agent!.anchor(log1, 10, b32('root:10'), refs(1)));
    await rec('Ledger.anchor (update, 1 patient)', c.agent!.anchor(log1, 20, b32('root:20'), refs(1)));
    await rec('Ledger.anchor (update, 0 patients)', c.agent!.anchor(log1, 30, b32('root:30'), []));
    await rec('Ledger.anchor (update, 10 patients)', c.agent!.anchor(log1, 40, b32('root:40'), refs(10)));
    const head = await c.admin!.latest(log1);
    expect(head).toMatchObject({ treeSize: 40, root: b32('root:40'), count: 4 });
    const evs = await c.admin!.anchoredEvents(log1);
    expect(evs.map((e) => [e.treeSize, e.prevTreeSize])).toEqual([
      [10, 0],
      [20, 10],
      [30, 20],
      [40, 30],
    ]);
    expect(head.blockNumber).toBe(evs[3]!.blockNumber);
    const upd = await c.admin!.updatedEvents({ patientRef: b32('patient:0'), logId: log1 });
    expect(upd.map((u) => u.treeSize)).toEqual([10, 20, 40]);
    expect(await c.admin!.updatedEvents({ logId: log1 })).toHaveLength(12);
  });

  it('refuses non-increasing sizes and stale compare-and-swap', async () => {
    await reverts(c.agent!.anchor(log1, 40, b32('root:40b'), []), 'NonIncreasingSize');
    await reverts(c.agent!.anchor(log1, 39, b32('root:39'), []), 'NonIncreasingSize');
    await reverts(c.agent!.anchorAfter(log1, 30, 50, b32('root:50'), []), 'StaleHead');
    await reverts(c.agent!.anchorAfter(log1, 40, 40, b32('root:40'), []), 'NonIncreasingSize');
    await reverts(c.agent2!.anchorAfter(log1, 40, 50, b32('root:50'), []), 'NotAgentOfLog');
    await rec('Ledger.anchorAfter (update, 1 patient)', c.agent!.anchorAfter(log1, 40, 50, b32('root:50'), refs(1)));
    await rec('Ledger.anchorAfter (update, 10 patients)', c.agent!.anchorAfter(log1, 50, 60, b32('root:60'), refs(10)));
    await rec('Ledger.anchorAfter (update, 0 patients)', c.agent!.anchorAfter(log1, 60, 70, b32('root:70'), []));
    await rec('Ledger.anchorAfter (first, 1 patient)', c.agent2!.anchorAfter(b32('log:2'), 0, 5, b32('root:5'), refs(1)));
    expect((await c.admin!.latest(log1)).treeSize).toBe(70);
  });

  it('follows the agent to its new account; a revoked agent cannot anchor', async () => {
    const newKey = b32('agent2-new-key');
    const newAddr = privateKeyToAccount(newKey).address;
    await c.agent2!.moveAccount(addr.agent2!, newAddr);
    await testClient(s.chain.rpcUrl).setBalance({ address: newAddr, value: 10n ** 18n });
    const moved = new ChainContracts(
      createChainClients({ rpcUrl: s.chain.rpcUrl, chainId: s.chain.chainId, privateKey: newKey, target: 'embedded' }),
      s.deployment,
    );
    await reverts(c.agent2!.anchor(b32('log:2'), 6, b32('root:6'), []), 'NotAgentOfLog');
    await moved.anchor(b32('log:2'), 6, b32('root:6'), []);
    await c.admin!.revokeRegistration(newAddr);
    expect(await c.admin!.activeAgentOf(b32('log:2'))).toBe(zeroAddress);
    await reverts(moved.anchor(b32('log:2'), 7, b32('root:7'), []), 'NotAgentOfLog');
    await reverts(c.admin!.registerAgent(addr.outsider!, b32('id:x'), b32('log:2'), ZERO32), 'LogIdTaken');
  });
});

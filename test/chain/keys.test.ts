/** Development keys are refused off the embedded chain; key files never leak their content. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAddress } from 'viem/accounts';
import { createChainClients } from '../../chain/client.ts';
import {
  assertKeyAllowed,
  DEV_ADDRESSES,
  DEV_MNEMONIC,
  devPrivateKey,
  isWellKnownDevAddress,
  isWellKnownDevKey,
} from '../../chain/devKeys.ts';
import { parsePrivateKey, readKeyFile } from '../../chain/keyFile.ts';
import { scopeAll, scopeSensor, scopeSession } from '../../chain/scope.ts';
import { logIdFromPublicKey } from '../../chain/ids.ts';
import { removeDir, tempDir } from './helpers.ts';

const dir = tempDir('keys');
afterAll(() => removeDir(dir));

describe('development keys', () => {
  it('derives the public anvil accounts', () => {
    expect(privateKeyToAddress(devPrivateKey(0))).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(privateKeyToAddress(devPrivateKey(1))).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
    expect(isWellKnownDevAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8')).toBe(true);
    expect(isWellKnownDevKey(devPrivateKey(19))).toBe(true);
    for (const [i, a] of DEV_ADDRESSES.entries()) expect(mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }).address).toBe(a);
    expect(isWellKnownDevKey(generatePrivateKey())).toBe(false);
  });

  it('refuses them with an external --rpc, accepts them on the embedded chain', () => {
    expect(() => assertKeyAllowed(devPrivateKey(0), 'external')).toThrow(expect.objectContaining({ code: 'CHAIN_DEV_KEY_REFUSED' }));
    expect(() =>
      createChainClients({ rpcUrl: 'http://127.0.0.1:1', chainId: 1337, privateKey: devPrivateKey(3), target: 'external' }),
    ).toThrow(expect.objectContaining({ code: 'CHAIN_DEV_KEY_REFUSED' }));
    expect(() => assertKeyAllowed(devPrivateKey(0), 'embedded')).not.toThrow();
    expect(() => assertKeyAllowed(generatePrivateKey(), 'external')).not.toThrow();
  });
});

describe('key files', () => {
  it('reads hex and JSON key files and never echoes their content', () => {
    const key = generatePrivateKey();
    const hexFile = join(dir, 'agent.key');
    writeFileSync(hexFile, `${key.slice(2)}\n`);
    chmodSync(hexFile, 0o600);
    expect(readKeyFile(hexFile)).toEqual({ privateKey: key, worldReadable: false });
    const jsonFile = join(dir, 'agent.json');
    writeFileSync(jsonFile, JSON.stringify({ privateKey: key }));
    chmodSync(jsonFile, 0o644);
    expect(readKeyFile(jsonFile)).toEqual({ privateKey: key, worldReadable: true });
    const almost = `${key.slice(0, 64)}zz`;
    try {
      parsePrivateKey(almost);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'CHAIN_KEY_FILE_INVALID' });
      expect(String((e as Error).message)).not.toContain(almost.slice(2, 40));
    }
    expect(() => parsePrivateKey('{"privateKey": 5}')).toThrow(expect.objectContaining({ code: 'CHAIN_KEY_FILE_INVALID' }));
    expect(() => parsePrivateKey(`0x${'00'.repeat(32)}`)).toThrow(expect.objectContaining({ code: 'CHAIN_KEY_FILE_INVALID' }));
    expect(() => readKeyFile(join(dir, 'missing.key'))).toThrow(expect.objectContaining({ code: 'CHAIN_KEY_FILE_INVALID' }));
  });
});

describe('encodings', () => {
  it('encodes scopes and log ids as the contracts expect', () => {
    expect(scopeAll()).toBe(`0x${'00'.repeat(32)}`);
    expect(scopeSensor('spo2')).toBe(`0x0173706f32${'00'.repeat(27)}`);
    expect(scopeSession(new Uint8Array(16).fill(0xab))).toBe(`0x02${'ab'.repeat(16)}${'00'.repeat(15)}`);
    expect(() => scopeSensor('')).toThrow(expect.objectContaining({ code: 'CHAIN_BAD_ARGUMENT' }));
    expect(() => scopeSensor('x'.repeat(32))).toThrow(expect.objectContaining({ code: 'CHAIN_BAD_ARGUMENT' }));
    expect(() => scopeSession(new Uint8Array(15))).toThrow(expect.objectContaining({ code: 'CHAIN_BAD_ARGUMENT' }));
    // SHA-256 of 32 zero bytes
    expect(logIdFromPublicKey(new Uint8Array(32))).toBe('0x66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925');
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { loadFleetFile, parseFleetFile } from '../../device-sim/fleet/fleetFile.ts';
import { DeviceFirmware } from '../../device-sim/firmware/device.ts';
import { FileNvm } from '../../device-sim/nvm/fileNvm.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { VirtualScheduler } from '../../device-sim/time/virtualScheduler.ts';
import { LoopbackHub } from '../../device-sim/transport/loopbackLink.ts';
import { tempDir } from '../support/services.ts';
import { authority } from './helpers.ts';

describe('fleet file and provisioning', () => {
  it('loads devices with secrets, profiles (aliases), pinned keys and ticket files relative to the fleet file', () => {
    const dir = tempDir();
    const A = authority(9);
    writeFileSync(join(dir, 't1.cose'), Uint8Array.of(0xd2, 1, 2));
    const path = join(dir, 'fleet.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        broker: 'mqtt://127.0.0.1:1883',
        authorityPublicKey: toHex(A.publicKey),
        devices: [
          { id: 'spo2-1', secret: 's1', profile: 'spo2', ticketFile: 't1.cose' },
          { id: 'ecg-1', secret: 's2', profile: 'ecg-patch', serial: '/dev/ttyUSB0', periodMs: 500, ticket: 'D20102' },
        ],
      }),
    );
    const f = loadFleetFile(path);
    expect(f.broker).toBe('mqtt://127.0.0.1:1883');
    expect(f.devices[0]).toEqual({
      id: 'spo2-1',
      profile: 'pulse-oximeter',
      secret: 's1',
      authorityPublicKey: A.publicKey,
      ticket: Uint8Array.of(0xd2, 1, 2),
    });
    expect(f.devices[1]).toMatchObject({
      id: 'ecg-1',
      profile: 'ecg-patch',
      serialPath: '/dev/ttyUSB0',
      periodMs: 500,
      ticket: Uint8Array.of(0xd2, 1, 2),
    });
  });

  it('names the first bad field and never echoes a secret', () => {
    const bad: Array<[unknown, string]> = [
      [[], 'not a JSON object'],
      [{ devices: [] }, 'non-empty'],
      [{ devices: [{ id: 'a/b' }] }, 'devices[0].id'],
      [{ devices: [{ id: 'a' }, { id: 'a' }] }, 'duplicate'],
      [{ devices: [{ id: 'a', profile: 'toaster' }] }, 'devices[0].profile'],
      [{ devices: [{ id: 'a', secret: 42 }] }, 'devices[0].secret'],
      [{ devices: [{ id: 'a', authorityPublicKey: 'zz' }] }, 'authorityPublicKey'],
      [{ devices: [{ id: 'a', ticketFile: 'missing.cose' }] }, 'ticketFile'],
      [{ version: 2, devices: [{ id: 'a' }] }, 'version'],
    ];
    for (const [doc, where] of bad) {
      try {
        parseFleetFile(JSON.stringify(doc), tempDir());
        expect.unreachable();
      } catch (e) {
        expect((e as { code: string }).code).toBe('SIM_FLEET_FILE_INVALID');
        expect((e as Error).message).toContain(where);
      }
    }
    try {
      parseFleetFile('{"devices":[{"id":"a","secret":"hunter2-very-secret","profile":"nope"}]}', '/');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('a device whose NVM state is corrupt goes to the error state with a stable code', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.json'), '{"v":1,"dev":');
    const sched = new VirtualScheduler(0);
    const hub = new LoopbackHub(sched);
    const fw = new DeviceFirmware({
      provisioning: { id: 'broken', profile: PROFILES.cgm },
      scheduler: sched,
      storage: new FileNvm(dir),
      link: (d, ev) => hub.link(d.id, ev),
      seed: 's',
      runStartMs: 0,
    });
    fw.start();
    expect(fw.state).toMatchObject({ kind: 'error', code: 'SIM_NVM_CORRUPT' });
  });
});

/**
 * The kit's receive path on a serial line: bytes in, frames decoded by the protocol's FrameDecoder
 * (bounded by one maximal frame, resynchronising at every 0x00), each frame recorded in the run's
 * observations. Returns what the gateway must answer (a status: hand out the ticket; a reading: ack
 * or withhold). Never throws on any byte stream (test/conform/intakeFuzz.test.ts).
 */
import { FRAME_TYPE, FrameDecoder } from '../../protocol/framing/index.ts';
import { parseSerialStatus, type InspectedReading } from '../intake.ts';
import type { TransportHost } from './transport.ts';

export type SerialArrival = { readonly kind: 'status' } | { readonly kind: 'reading'; readonly reading: InspectedReading };

export class SerialReceiver {
  private readonly decoder = new FrameDecoder();

  constructor(private readonly host: TransportHost) {}

  /** Bytes of a partial frame held (at most one maximal frame). */
  get pendingBytes(): number {
    return this.decoder.pendingBytes;
  }

  reset(): void {
    this.decoder.reset();
  }

  push(chunk: Uint8Array): SerialArrival[] {
    const out: SerialArrival[] = [];
    for (const r of this.decoder.push(chunk)) {
      if (!r.ok) {
        this.host.observations.add({ kind: 'bad-frame', code: r.code });
        continue;
      }
      const { type, body } = r.frame;
      if (type === FRAME_TYPE.reading) out.push({ kind: 'reading', reading: this.host.intake(body, {}) });
      else if (type === FRAME_TYPE.status) {
        this.host.observations.add({ kind: 'status', status: parseSerialStatus(body), raw: body, arrival: {} });
        out.push({ kind: 'status' });
      } else this.host.observations.add({ kind: 'unexpected-frame', type, size: body.length });
    }
    return out;
  }
}

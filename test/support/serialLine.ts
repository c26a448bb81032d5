import type { SerialPort } from 'serialport';
import type { Frame } from '../../protocol/framing/index.ts';
import type { RunningAgent } from '../../agent/agent.ts';
import { waitFor } from './services.ts';

/** Writes bytes to the device end of a pty pair and resolves once they are drained to the line. */
export function writeDrained(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => port.write(Buffer.from(bytes), (err) => (err ? reject(err) : port.drain(() => resolve()))));
}

/**
 * Takes the next frame the agent sent from `inbox`: the first of `type` (frames of other types before it
 * stay in the inbox), or the first of any type when `type` is undefined.
 */
export async function takeFrame(inbox: Frame[], type: number | undefined, timeoutMs = 5000): Promise<Frame> {
  let found: Frame | undefined;
  await waitFor(
    () => {
      const i = type === undefined ? (inbox.length > 0 ? 0 : -1) : inbox.findIndex((f) => f.type === type);
      if (i < 0) return false;
      found = inbox.splice(i, 1)[0];
      return true;
    },
    timeoutMs,
    type === undefined ? 'a frame from the agent' : `frame type ${type}`,
  );
  return found!;
}

/** `vitalseal_serial_frames_total` of one result (e.g. 'bad_status'), summed over the agent's serial ports. */
export async function serialFrameTotal(agent: RunningAgent, result: string): Promise<number> {
  const m = await agent.core.metrics.serialFrames.get();
  return m.values.filter((v) => v.labels.result === result).reduce((a, v) => a + v.value, 0);
}

import { CYCLES, type CoreName } from './cycleCounts.ts';
import { CR2032, MCUS, NRF52840_RADIO, SLEEP_MODES, type Battery, type McuModel, type RadioModel, type SleepModeName } from './hardware.ts';
import { perReadingOps, sessionOps, type PrimitiveOps } from './hpkeOps.ts';

export interface ReadingShape {
  /** CBOR plaintext {st, ts, v, u}. */
  readonly plaintextBytes: number;
  /** Enc_structure bytes (the AEAD's associated data). */
  readonly aadBytes: number;
  /** COSE_Encrypt0 envelope on the wire. */
  readonly envelopeBytes: number;
  /** MQTT topic of the readings (vs/v1/<dev>/r). */
  readonly topicBytes: number;
  /**
   * CBOR bytes the device writes per reading: the plaintext, the Enc_structure with the protected
   * header, and the envelope around the ciphertext (envelope − ciphertext).
   */
  readonly cborBytes: number;
}

export interface EnergyOptions {
  readonly core: CoreName;
  readonly mode: 'per-reading' | 'session';
  /** Readings sealed per session (session mode): e.g. a 24 h ticket's worth. */
  readonly readingsPerSession?: number;
  readonly periodMs: number;
  /** Transmissions per reading (1 + retries): from a run's report, 1 by default. */
  readonly transmissionsPerReading?: number;
  readonly radio?: RadioModel;
  readonly mcu?: McuModel;
  readonly sleep?: SleepModeName;
  readonly battery?: Battery;
}

export interface ReadingEnergy {
  readonly core: CoreName;
  readonly mode: 'per-reading' | 'session';
  readonly ops: PrimitiveOps;
  readonly cycles: {
    readonly x25519: number;
    readonly sha256: number;
    readonly chacha20: number;
    readonly poly1305: number;
    /** Building the envelope: CBOR bytes written × cycles per byte (issue #21). */
    readonly cbor: number;
    readonly total: number;
  };
  readonly cpuMs: number;
  readonly bytesOnAir: { readonly tx: number; readonly rx: number };
  readonly radioMs: number;
  /** µJ per reading. */
  readonly cryptoUj: number;
  readonly radioUj: number;
  readonly totalUj: number;
  /** Average current over the period including sleep, µA. */
  readonly averageCurrentUa: number;
  readonly batteryDays: number;
}

/** MQTT PUBLISH (QoS 1) around an envelope: fixed header, topic, packet id. */
export function mqttPublishBytes(topicBytes: number, payloadBytes: number): number {
  const remaining = 2 + topicBytes + 2 + payloadBytes;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : 3;
  return 1 + lengthBytes + remaining;
}

/** PUBACK: 4 bytes. */
export const MQTT_PUBACK_BYTES = 4;

/** Link-layer bytes to carry an upper-layer message of n bytes (L2CAP header, PDU split, per-PDU overhead). */
export function linkBytes(radio: RadioModel, n: number): { bytes: number; pdus: number } {
  const sdu = n + radio.l2capBytes + radio.networkOverheadBytes;
  const pdus = Math.max(1, Math.ceil(sdu / radio.maxPduPayload));
  return { bytes: sdu + pdus * radio.pduOverheadBytes, pdus };
}

/**
 * Energy of one reading on a microcontroller: cycles of the whole seal — the crypto from published
 * counts and the envelope's CBOR encoding per byte written (cycleCounts.ts) — radio time from the bytes on air, and the sleep current for the rest
 * of the period → µJ per reading, average current and battery life. The sensor front-end
 * (LEDs, AFE, cuff pump) is not modelled: it is the same with or without vitalseal.
 */
export function readingEnergy(shape: ReadingShape, o: EnergyOptions): ReadingEnergy {
  const mcu = o.mcu ?? MCUS[o.core];
  const radio = o.radio ?? NRF52840_RADIO;
  const sleep = SLEEP_MODES[o.sleep ?? 'system-on'];
  const battery = o.battery ?? CR2032;
  const c = CYCLES[o.core];
  const ops =
    o.mode === 'session'
      ? sessionOps(shape.plaintextBytes, shape.aadBytes, o.readingsPerSession ?? 1)
      : perReadingOps(shape.plaintextBytes, shape.aadBytes);
  const cycles = {
    x25519: ops.x25519 * c.x25519.value,
    sha256: ops.sha256Blocks * c.sha256PerBlock.value,
    chacha20: ops.chacha20Bytes * c.chacha20PerByte.value,
    poly1305: ops.poly1305Bytes * c.poly1305PerByte.value,
    cbor: shape.cborBytes * c.cborEncodePerByte.value,
    total: 0,
  };
  cycles.total = cycles.x25519 + cycles.sha256 + cycles.chacha20 + cycles.poly1305 + cycles.cbor;
  const cpuS = cycles.total / mcu.clockHz;
  const cryptoUj = cpuS * mcu.activeCurrentMa * 1e-3 * radio.supplyV * 1e6;

  const tx = o.transmissionsPerReading ?? 1;
  const publish = linkBytes(radio, mqttPublishBytes(shape.topicBytes, shape.envelopeBytes));
  const puback = linkBytes(radio, MQTT_PUBACK_BYTES);
  const txBytes = tx * publish.bytes;
  const rxBytes = tx * puback.bytes;
  const bitS = 8 / radio.bitrateBps;
  const txS = txBytes * bitS + tx * publish.pdus * radio.rampUpUs * 1e-6;
  const rxS = rxBytes * bitS + tx * puback.pdus * radio.rampUpUs * 1e-6;
  const radioUj = (txS * radio.txCurrentMa + rxS * radio.rxCurrentMa) * 1e-3 * radio.supplyV * 1e6;

  const totalUj = cryptoUj + radioUj;
  const periodS = o.periodMs / 1000;
  const activeS = cpuS + txS + rxS;
  const sleepUj = Math.max(0, periodS - activeS) * sleep.currentUa * 1e-6 * radio.supplyV * 1e6;
  const averageCurrentUa = (totalUj + sleepUj) / radio.supplyV / periodS;
  const batteryDays = (battery.capacityMah * 1000) / averageCurrentUa / 24;
  return {
    core: o.core,
    mode: o.mode,
    ops,
    cycles,
    cpuMs: cpuS * 1000,
    bytesOnAir: { tx: txBytes, rx: rxBytes },
    radioMs: (txS + rxS) * 1000,
    cryptoUj,
    radioUj,
    totalUj,
    averageCurrentUa,
    batteryDays,
  };
}

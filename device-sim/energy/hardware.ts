import type { CoreName, FigureKind } from './cycleCounts.ts';

/** A microcontroller's power figures. */
export interface McuModel {
  readonly core: CoreName;
  readonly name: string;
  readonly clockHz: number;
  /** Run current at `clockHz`, executing from flash. */
  readonly activeCurrentMa: number;
  readonly source: string;
  readonly kind: FigureKind | 'datasheet';
}

export const MCUS: Readonly<Record<CoreName, McuModel>> = {
  'cortex-m4': {
    core: 'cortex-m4',
    name: 'nRF52840 (Cortex-M4F, 64 MHz)',
    clockHz: 64e6,
    activeCurrentMa: 3.3,
    kind: 'datasheet',
    source:
      'Nordic nRF52840 Product Specification: CPU running from flash with DC/DC ≈ 52 µA/MHz → 3.3 mA at 64 MHz (check the revision you target)',
  },
  'cortex-m0plus': {
    core: 'cortex-m0plus',
    name: 'Cortex-M0+ host MCU (48 MHz, 35 µA/MHz class, e.g. SAM L21)',
    clockHz: 48e6,
    activeCurrentMa: 1.68,
    kind: 'datasheet',
    source:
      'Microchip SAM L21 datasheet headline figure 35 µA/MHz → 1.68 mA at 48 MHz; paired with the same radio model (what-if: an M0+ host driving the radio)',
  },
};

/** A 2.4 GHz radio (BLE 1M PHY) and its currents. */
export interface RadioModel {
  readonly name: string;
  readonly supplyV: number;
  readonly txCurrentMa: number;
  readonly rxCurrentMa: number;
  readonly bitrateBps: number;
  /** Link-layer bytes around each PDU: preamble 1, access address 4, header 2, MIC 4, CRC 3. */
  readonly pduOverheadBytes: number;
  /** Largest LL payload (LE Data Length Extension). */
  readonly maxPduPayload: number;
  /** L2CAP header, once per message. */
  readonly l2capBytes: number;
  /** Radio ramp-up per connection event (TX or RX). */
  readonly rampUpUs: number;
  /** Extra bytes per message above MQTT (0: MQTT terminates at the BLE gateway; ~60 for IPv6/6LoWPAN + TCP). */
  readonly networkOverheadBytes: number;
  readonly source: string;
}

export const NRF52840_RADIO: RadioModel = {
  name: 'nRF52840 radio, BLE 1M PHY, 0 dBm',
  supplyV: 3.0,
  txCurrentMa: 6.4,
  rxCurrentMa: 6.26,
  bitrateBps: 1e6,
  pduOverheadBytes: 14,
  maxPduPayload: 251,
  l2capBytes: 4,
  rampUpUs: 140,
  networkOverheadBytes: 0,
  source:
    'Nordic nRF52840 Product Specification (DC/DC, 3 V): TX 0 dBm 6.4 mA, RX 1 Mbps 6.26 mA, ramp-up 140 µs; Bluetooth Core 5.x LE packet format',
};

/** Current while asleep between readings. */
export interface SleepModel {
  readonly name: string;
  readonly currentUa: number;
  readonly source: string;
}

export const SLEEP_MODES = {
  /** Periodic sensors must wake on a timer: RTC on, RAM retained. */
  'system-on': {
    name: 'System ON, RTC wake, RAM retained',
    currentUa: 3.0,
    source: 'nRF52840 PS: System ON idle with RTC and RAM retention, ~1.5–3.2 µA by retained RAM; 3.0 µA used',
  },
  /** Only event-driven devices (an NIBP cuff measured on demand) can sleep this deep. */
  'system-off': { name: 'System OFF', currentUa: 0.4, source: 'nRF52840 PS: System OFF 0.4 µA (wake on GPIO/NFC/reset only)' },
} as const satisfies Record<string, SleepModel>;
export type SleepModeName = keyof typeof SLEEP_MODES;

export interface Battery {
  readonly name: string;
  readonly capacityMah: number;
  readonly voltage: number;
}

export const CR2032: Battery = { name: 'CR2032', capacityMah: 225, voltage: 3.0 };

export { CYCLES, CORE_NAMES, type CoreName, type CoreCycles, type CycleFigure, type FigureKind } from './cycleCounts.ts';
export {
  CR2032,
  MCUS,
  NRF52840_RADIO,
  SLEEP_MODES,
  type Battery,
  type McuModel,
  type RadioModel,
  type SleepModeName,
  type SleepModel,
} from './hardware.ts';
export { aeadOps, hmacBlocks, perReadingOps, sessionOps, setupSha256Blocks, sha256Blocks, type PrimitiveOps } from './hpkeOps.ts';
export {
  linkBytes,
  mqttPublishBytes,
  readingEnergy,
  MQTT_PUBACK_BYTES,
  type EnergyOptions,
  type ReadingEnergy,
  type ReadingShape,
} from './model.ts';
export { readingShapeOf } from './readingShape.ts';
export { energyTable, formatEnergyTable, type EnergyRow, type EnergyTable, type EnergyTableOptions } from './energyTable.ts';

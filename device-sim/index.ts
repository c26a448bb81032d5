/**
 * vitalseal device simulator / firmware model: profiles with seeded physiological
 * generators, a firmware state machine with file-backed NVM and a bounded outbox ring,
 * MQTT and serial links, seeded fault injection, a fleet runner with a report, and an
 * energy model for Cortex-M0+/M4 from published cycle counts.
 */
export { SimError, SIM_ERROR_CODES, isSimError, type SimErrorCode } from './errors.ts';
export {
  PROFILES,
  PROFILE_NAMES,
  profileByName,
  parseScenario,
  ScenarioTimeline,
  SCENARIO_KINDS,
  ECG_SAMPLE_RATE_HZ,
} from './profiles/index.ts';
export type { DeviceProfile, ProfileName, ReadingGenerator, ScenarioEvent, ScenarioKind } from './profiles/index.ts';
export { createReadingSealer, SEAL_BACKENDS, type ReadingSealer, type SealBackend, type SealMode } from './crypto/sealer.ts';
export { DeviceFirmware, type DeviceProvisioning, type FirmwareEvent, type FirmwareOptions, type LinkFactory } from './firmware/device.ts';
export type { ActiveTicket, DeviceState, LinkState } from './firmware/state.ts';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './firmware/backoff.ts';
export { checkTicket } from './firmware/ticketCheck.ts';
export {
  FIRMWARE_BUGS,
  FIRMWARE_BUG_NAMES,
  FIRMWARE_BUGS_ENV,
  firmwareBugFromCli,
  isFirmwareBug,
  type FirmwareBugName,
  type FirmwareBugSpec,
} from './firmware/bugs.ts';
export { FIRMWARE_ID, FIRMWARE_VERSION } from './firmware/version.ts';
export { FileNvm } from './nvm/fileNvm.ts';
export { MemoryNvm, type NvmStorage } from './nvm/storage.ts';
export { Outbox, OUTBOX_POLICIES, type OutboxPolicy } from './nvm/outbox.ts';
export {
  NO_FAULTS,
  parseFaults,
  transmitFault,
  tickFault,
  type FaultRates,
  type TransmitFault,
  type TickFault,
} from './faults/faultPlan.ts';
export { MqttLink } from './transport/mqttLink.ts';
export { SerialLink } from './transport/serialLink.ts';
export { LoopbackHub, LoopbackLink } from './transport/loopbackLink.ts';
export type { DeviceLink, DeviceStatus, LinkEvents, LinkKind } from './transport/link.ts';
export { VirtualScheduler } from './time/virtualScheduler.ts';
export { realScheduler } from './time/realScheduler.ts';
export type { Scheduler, TimerHandle } from './time/scheduler.ts';
export { parseDuration, formatDuration } from './time/duration.ts';
export { loadFleetFile, parseFleetFile, type FleetDevice, type FleetFile } from './fleet/fleetFile.ts';
export { runFleet, type FleetLink, type FleetOptions, type FleetProgress, type FleetRun } from './fleet/fleetRunner.ts';
export { fleetReport, formatFleetReport, type DeviceReport, type FleetReport, type FleetTotals } from './report/fleetReport.ts';
export * from './energy/index.ts';

/**
 * The firmware simulator's public API. Device models are pure (seeded, simulated time); the
 * transports (MQTT, pty serial, simulated GPIO) and the data set writer are the I/O edges.
 */
export { Rng, deriveSeed, Wander } from './rng.js';
export { Simulation, parseDomains, DEVICE_PREFIX, type SimOptions, type Sample, type SampleSink } from './sim.js';
export { DOMAINS, hasGps, type Domain, type DeviceModel, type FaultEvent, type FaultKind } from './types.js';
export { Pump, PUMP_METRICS, PUMP_FAULTS } from './devices/pump.js';
export { Patient, PATIENT_METRICS, PATIENT_FAULTS } from './devices/patient.js';
export { Vehicle, VEHICLE_METRICS, VEHICLE_FAULTS, IMU_METRICS } from './devices/vehicle.js';
export { parseDuty, Schedule, faultsInRuns, type Duty } from './duty.js';
export { nmeaSentences, nmeaChecksum, type GpsFix } from './nmea.js';
export { nabWindows, faultLines, nabTime, csvTime } from './groundtruth.js';
export { writeDataset, writeGroundTruth, datasetKey, faultsPathFor, type DatasetSummary } from './dataset.js';
export { runLive, type SampleWriter, type LiveOptions, type LiveSummary } from './live.js';
export { MqttTransport, type MqttTransportOptions } from './transports/mqtt.js';
export { SparkplugTransport, type SparkplugTransportOptions } from './transports/sparkplug.js';
export { SerialTransport, openPtyLink, closePtyLink, kvLine } from './transports/serial.js';
export { GpioTransport, type GpioPins, type PulseMapping, type LevelMapping } from './transports/gpio.js';
export { runSim, type RunSimOptions, type RunSimResult } from './run.js';

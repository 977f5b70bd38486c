/** The `telematics` step's config schema (the operator is in telematics-step.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../core/plugin.js';

export function telematicsStepSchema({ z, durationSchema }: SchemaKit) {
  const metric = z.string().regex(/^[^/]+$/, 'expected a metric name (the part of the stream after the device)');
  const axes = z.tuple([metric, metric, metric]);
  const g = (d: number, what: string) => z.number().gt(0).max(2).default(d).describe(what);

  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('telematics').describe('Name in status and saved state.'),
      accel: axes.default(['accel_x', 'accel_y', 'accel_z']).describe('Metric names of the 3-axis accelerometer (any mounting).'),
      accel_unit: z.enum(['m/s2', 'g']).default('m/s2').describe('Unit of the accelerometer readings.'),
      gyro: axes.default(['gyro_x', 'gyro_y', 'gyro_z']).describe('Metric names of the 3-axis gyro, in the accelerometer\'s axes, right-handed (optional: used to find forward from turns, and to see the device turned by hand: gravity turns with it, nothing is judged while it is handled). A left-handed one is found out once speed or stops give forward and 180° of turns are seen, and read the other way round (`gyro_flipped`). Its readings may have their own timestamps and rate: each accelerometer sample uses the newest gyro reading within 250 ms.'),
      gyro_unit: z.enum(['rad/s', 'deg/s']).default('rad/s').describe('Unit of the gyro readings.'),
      frame: z.enum(['device', 'world']).default('device').describe('Axes the accelerometer and gyro readings are in: `device`, the sensor\'s own (they turn with the vehicle once it is mounted); `world`, fixed to the Earth with z vertical (east/north/up, or any fixed pair of horizontal axes), as some phone loggers write them after rotating each reading by the phone\'s attitude. In a world frame the vehicle\'s forward turns with the road: the step follows its heading from the gyro\'s rate about z (so `world` needs the gyro; samples without it are counted as `no_heading`) and turns each reading back by it.'),
      speed: metric.default('speed_kmh').describe('Metric name of the vehicle speed (GPS or CAN; optional): finds forward on raw IMU data, and is the acceleration source of a speed-only device.'),
      speed_unit: z.enum(['km/h', 'm/s', 'mph']).default('km/h').describe('Unit of the speed readings.'),
      course: metric.default('course_deg').describe('Metric name of the course over ground in degrees true (GPS: NMEA RMC/VTG give `course_deg`; optional): on a vehicle without an IMU, lateral acceleration = speed × turn rate, for harsh cornering.'),
      course_span: durationSchema.default(3_000).describe('A GPS course\'s turn rate is taken over this span: a phone\'s course moves in steps (it held 119.6° for 2 s, then jumped 39° in one second while the car turned at 0.25 g), which reading to reading make 0.7 g turns of gentle ones; over 3 s its lateral acceleration followed the car\'s own sensor within 0.9 m/s² (95 %), see docs/domains.md.'),
      course_min_speed: z.number().positive().max(100).default(5).describe('Speed (m/s) under which a GPS course is not used for cornering: at walking pace a receiver\'s course wanders by tens of degrees a second (5 m/s = 18 km/h; a 0.4 g turn at it takes 45°/s).'),
      longitudinal: metric.default('accel_ms2').describe('Metric name of an already aligned longitudinal acceleration in m/s² (+ forward), as from a CAN bus or a fixed-mount unit (optional).'),
      braking_g: g(0.35, 'Harsh braking: sustained deceleration of at least this many g (0.35 g = 3.4 m/s²; industry values 0.25–0.45 g, see docs/domains.md).'),
      acceleration_g: g(0.3, 'Harsh acceleration: sustained forward acceleration of at least this many g (0.3 g = 2.9 m/s²).'),
      cornering_g: g(0.4, 'Harsh cornering: sustained lateral acceleration of at least this many g (0.4 g = 3.9 m/s²).'),
      sustain: durationSchema.default(500).describe('The (low-passed) acceleration must stay beyond its limit this long: a manoeuvre, not a pothole or a door slam. Every reading stands for the time since the one before, up to 1 s (a 1 Hz one beyond the limit is 1 s of it: a logger\'s per-second mean; at 10 Hz five samples in a row make 0.5 s). For an IMU read at an instant once or twice a second, set it to twice the interval (`2s` at 1 Hz), or a pothole one reading catches counts.'),
      release: z.number().gt(0).max(1).default(0.7).describe('An event ends when the acceleration falls below this fraction of its limit (hysteresis).'),
      rebound: durationSchema.default(2_000).describe('An acceleration that starts within this time after a harsh brake ends is the vehicle\'s rebound, not a harsh acceleration (counted as `rebounds` in the operator\'s counters: `edgewise status`, metrics).'),
      smooth: durationSchema.default(200).describe('Time constant of the low-pass on the IMU acceleration (road vibration out, manoeuvres in).'),
      gravity_tau: durationSchema.default(30_000).describe('Time constant of the gravity estimate; nothing is judged on the IMU before one of these has passed (harsh manoeuvres before are kept and judged then, late).'),
      freeze_g: g(0.1, 'While the horizontal acceleration exceeds this, gravity is averaged ten times slower (so a long brake or a long gentle acceleration barely leaks into it).'),
      remount_deg: z.number().min(20).max(90).default(30).describe('The device moved in its mount (a phone picked up and put back another way): the accelerometer, averaged over half a second, tilts this many degrees from gravity (its vertical part falls under cos of this; a vehicle\'s acceleration is horizontal and leaves it at 1 g, a hill tilts it 10° at most). From then on nothing is judged (`unsettled`); once it has stayed so for `remount_hold` and is at rest, gravity is taken afresh and forward learnt again (`remounts`). With a gyro a turn by hand is seen as it happens (gravity turns with the device); one that ends this many degrees from where it began also learns forward again.'),
      remount_hold: durationSchema.default(3_000).describe('How long the accelerometer must stay tilted (and then be at rest) before the device is taken as moved in its mount.'),
      min_turn: z.number().positive().max(100_000).default(180).describe('Degrees of turning seen by the gyro before forward is taken from turns.'),
      min_speed_change: z.number().positive().max(100_000).default(15).describe('Speed change (m/s, summed) seen before forward is taken from speed (preferred over stops and turns once reached).'),
      speed_interval: durationSchema.default(1_000).describe('Speed-derived acceleration is taken over at least this interval, less 10 % for timestamps that jitter (a 50 Hz speed feed would be all noise reading to reading). Once a vehicle\'s speed shows it holds stale values (a phone\'s: a value repeated in the middle of a change, then caught up; counter `stale_speed`), its repeats are left out and it is judged over two intervals, see docs/domains.md.'),
      max_gap: durationSchema.default(5_000).describe('A gap longer than this between speed or longitudinal readings starts afresh (no acceleration across it).'),
      output: z.string().regex(/^[a-z][a-z0-9_-]*$/).default('alerts').describe('Named output for the harsh-event alerts (detector `harsh_braking`, `harsh_acceleration`, `harsh_cornering`).'),
      max_devices: z.number().int().positive().max(1_000_000).default(10_000).describe('Most vehicles tracked; readings of further vehicles pass on unjudged (`too_many_vehicles` drops).'),
    });
}

export type TelematicsStepSpec = z.output<ReturnType<typeof telematicsStepSchema>>;

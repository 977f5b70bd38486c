/**
 * The plugins of one build: drivers, detectors and operator step kinds, each by kind. It sits at the
 * top (beside the composition root, src/plugins.ts) because it names all three declaration types.
 */
import type { DriverPlugin } from './core/plugin.js';
import type { DetectorPlugin } from './detectors/types.js';
import type { OperatorPlugin } from './engine/operator-plugin.js';

export type Plugin = DriverPlugin | DetectorPlugin | OperatorPlugin;

/** Step keys the engine has itself (and `streams`, a step's selector): no operator may take them. */
export const RESERVED_STEP_KEYS: readonly string[] = ['filter', 'map', 'window', 'detect', 'output', 'streams'];

/** The plugins of one build, by kind. A kind declared twice (per plugin type) throws. */
export class PluginSet {
  private readonly byType = {
    driver: new Map<string, DriverPlugin>(),
    detector: new Map<string, DetectorPlugin>(),
    operator: new Map<string, OperatorPlugin>(),
  };

  constructor(plugins: readonly Plugin[]) {
    for (const p of plugins) {
      const map = this.byType[p.type] as Map<string, Plugin>;
      if (!map) throw new Error(`plugin "${p.kind}": unknown plugin type "${String(p.type)}" (expected driver, detector or operator)`);
      if (map.has(p.kind)) throw new Error(`${p.type} kind "${p.kind}" is declared twice: each kind must be listed once in the plugin set (src/plugins.ts)`);
      if (p.type === 'operator' && RESERVED_STEP_KEYS.includes(p.kind)) throw new Error(`operator kind "${p.kind}" is a built-in step key; pick another name`);
      map.set(p.kind, p);
    }
  }

  /** A new set with more plugins (an embedding program or a test adding its own). */
  with(...more: Plugin[]): PluginSet {
    return new PluginSet([...this.all(), ...more]);
  }

  all(): Plugin[] {
    return [...this.byType.driver.values(), ...this.byType.detector.values(), ...this.byType.operator.values()];
  }

  drivers(): DriverPlugin[] {
    return [...this.byType.driver.values()];
  }
  detectors(): DetectorPlugin[] {
    return [...this.byType.detector.values()];
  }
  operators(): OperatorPlugin[] {
    return [...this.byType.operator.values()];
  }
  driver(kind: string): DriverPlugin | undefined {
    return this.byType.driver.get(kind);
  }
  detector(kind: string): DetectorPlugin | undefined {
    return this.byType.detector.get(kind);
  }
  operator(kind: string): OperatorPlugin | undefined {
    return this.byType.operator.get(kind);
  }
}

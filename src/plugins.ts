/**
 * The composition root: every built-in plugin, listed once. A plugin is one declaration in its own
 * folder (src/core/plugin.ts says what it holds); adding one is a line here. Loading this module
 * does not load the schema library (schemas are functions of a kit the config loader passes in),
 * so the running gateway, the config loader and the docs generator all use this one list.
 * Listing a kind twice throws.
 */
import { PluginSet } from './plugin-set.js';
import { gpioPlugin } from '../drivers/gpio/plugin.js';
import { mqttPlugin } from '../drivers/mqtt/plugin.js';
import { serialPlugin } from '../drivers/serial/plugin.js';
import { ceilingPlugin } from './detectors/ceiling/plugin.js';
import { cusumPlugin } from './detectors/cusum/plugin.js';
import { defaultPlugin } from './detectors/default/plugin.js';
import { dropoutPlugin } from './detectors/dropout/plugin.js';
import { ewmaPlugin } from './detectors/ewma/plugin.js';
import { flatlinePlugin } from './detectors/flatline/plugin.js';
import { iso10816Plugin } from './detectors/iso10816/plugin.js';
import { levelShiftPlugin } from './detectors/level-shift/plugin.js';
import { pageHinkleyPlugin } from './detectors/page-hinkley/plugin.js';
import { hampelPlugin, robustZPlugin } from './detectors/robust/plugin.js';
import { spikePlugin } from './detectors/spike/plugin.js';
import { thresholdPlugin } from './detectors/threshold/plugin.js';
import { multivariatePlugin } from './detectors/multivariate/plugin.js';
import { news2Plugin } from './domain/news2/plugin.js';
import { telematicsPlugin } from './domain/telematics/plugin.js';
import { dedupePlugin } from './engine/operators/dedupe/plugin.js';
import { holdPlugin } from './engine/operators/hold/plugin.js';
import { counterPlugin } from './engine/operators/counter/plugin.js';
import { joinPlugin } from './engine/operators/join/plugin.js';
import { runningPlugin } from './engine/operators/running/plugin.js';

export const builtinPlugins = new PluginSet([
  // drivers (inputs[].type)
  serialPlugin,
  gpioPlugin,
  mqttPlugin,
  // detectors (detect.detector)
  defaultPlugin,
  thresholdPlugin,
  ewmaPlugin,
  robustZPlugin,
  hampelPlugin,
  cusumPlugin,
  pageHinkleyPlugin,
  spikePlugin,
  flatlinePlugin,
  dropoutPlugin,
  levelShiftPlugin,
  iso10816Plugin,
  ceilingPlugin,
  // operator steps
  dedupePlugin,
  holdPlugin,
  counterPlugin,
  joinPlugin,
  runningPlugin,
  multivariatePlugin,
  news2Plugin,
  telematicsPlugin,
]);

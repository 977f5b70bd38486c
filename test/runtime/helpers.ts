import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { after } from 'node:test';
import mqtt from 'mqtt';

/** Ports freePort() handed out in this process: the kernel may give a closed one again. */
const handedOut = new Set<number>();

/**
 * A port nothing listens on now, never one handed out before in this process: the kernel may hand
 * the port it just freed out again, and a test asking for an input and an HTTP port got the same
 * one twice ("the port is in use", the gateway failed to start).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** How long waitFor waits by default: 30 s; the mutation check sets less (EDGEWISE_TEST_WAIT_MS) so a killed mutant's wait ends sooner. */
const WAIT_MS = Number(process.env.EDGEWISE_TEST_WAIT_MS ?? 30_000);

/**
 * Wait until `cond()` holds, checking it every `everyMs`: the one way tests wait (on a state, an
 * event's effect, a file), never a fixed sleep. `timeoutMs` is generous, a bound for a broken
 * feature, not a timing assertion.
 *
 * `what` names what is awaited; give a function when the message shows a state (a child's output,
 * a count): it is read when the wait times out. A template string is read when the wait begins, so
 * a failure would show the state from before the wait (a child's output up to "gateway running",
 * as if it had then logged nothing for the whole timeout).
 *
 * Past the deadline the condition is checked once more after this process has read its pending
 * input: a timer runs before I/O in an event-loop turn, so after a stall of this process (a
 * spawnSync, a loaded machine) a child's output or a broker's packets already waiting in a pipe or
 * socket would otherwise not be seen.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = WAIT_MS, everyMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) {
      await new Promise((r) => setImmediate(r)); // after this turn's I/O
      if (await cond()) return;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Publish messages to a broker with mqtt.js at QoS 1 and wait for every PUBACK. */
export async function publishAll(url: string, messages: Array<{ topic: string; payload: string }>): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    // Up to 32 in flight, in order (one connection, one QoS): one at a time, each waited for the
    // gateway's journal commit before its PUBACK (~6 ms), and 1,900 messages took 11 s.
    const inFlight = new Set<Promise<unknown>>();
    for (const m of messages) {
      const p = client.publishAsync(m.topic, m.payload, { qos: 1 }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 32) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await client.endAsync();
  }
}

/**
 * Start `edgewise run` as a child process; resolves once it logs "gateway running". Aborting
 * `signal` during the start kills the child (SIGKILL) and rejects at once.
 */
export async function startRuntime(configFile: string, env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  // EDGEWISE_* is config to the runtime: the tests' own setting is not (it would be refused as unknown).
  const { EDGEWISE_TEST_WAIT_MS: _testOnly, ...ours } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--config', configFile], {
    env: { ...ours, ...env, EDGEWISE_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A test that fails half-way must not leave its runtime running: the test file would never end.
  // (Only under `node --test`: the uplink bench starts runtimes too, outside any test.)
  if (process.env.NODE_TEST_CONTEXT) {
    after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }
  const kill = () => child.kill('SIGKILL');
  if (signal?.aborted) kill();
  signal?.addEventListener('abort', kill, { once: true });
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  try {
    await waitFor(() => out.includes('"gateway running"') || ended(), () => `the runtime to start:\n${out}`, 90_000); // a bound for a broken start, not a timing assertion (tsx compiles on start: slow on a loaded machine)
  } finally {
    signal?.removeEventListener('abort', kill);
  }
  if (ended()) throw new Error(`runtime exited with ${child.exitCode ?? child.signalCode}:\n${out}`);
  return { child, output: () => out, exited };
}

#!/usr/bin/env node
// Health probe for a running gateway: exit 0 when its HTTP server answers /healthz (alive), or with
// --ready /readyz (inputs up, outbox writable); exit 1 with the reason on stderr otherwise.
// Used by the Dockerfile's HEALTHCHECK and the systemd timer in docs/operations.md. Plain Node, no
// dependencies: the slim image has no curl.
//   node deploy/healthcheck.mjs [--ready] [--url http://127.0.0.1:9464]
// Reads HEALTHCHECK_URL, else EDGEWISE_HTTP__HOST/EDGEWISE_HTTP__PORT (the config overrides), and
// EDGEWISE_HTTP__TOKEN for /readyz when the server has a token.
const args = process.argv.slice(2);
const ready = args.includes('--ready');
const urlFlag = args.indexOf('--url');
const env = process.env;
let host = env.EDGEWISE_HTTP__HOST || '127.0.0.1';
if (host === '0.0.0.0' || host === '::') host = '127.0.0.1';
const base = (urlFlag >= 0 ? args[urlFlag + 1] : undefined) || env.HEALTHCHECK_URL || `http://${host.includes(':') ? `[${host}]` : host}:${env.EDGEWISE_HTTP__PORT || 9464}`;
const path = ready ? '/readyz' : '/healthz';
const url = new URL(path, base);
const headers = env.EDGEWISE_HTTP__TOKEN ? { authorization: `Bearer ${env.EDGEWISE_HTTP__TOKEN}` } : {};

try {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(Number(env.HEALTHCHECK_TIMEOUT_MS || 4000)) });
  const text = await res.text();
  if (res.ok) {
    process.stdout.write(`${url}: ${res.status} ${text}\n`);
    process.exit(0);
  }
  let detail = text;
  try {
    const body = JSON.parse(text);
    if (body.checks) detail = Object.entries(body.checks).filter(([, c]) => !c.ok).map(([k, c]) => `${k}: ${c.detail}`).join('; ');
  } catch {}
  process.stderr.write(`unhealthy: ${url} answered ${res.status}: ${detail}\n`);
} catch (err) {
  process.stderr.write(`unhealthy: no answer from ${url} (${err.cause?.code ?? err.message}); is the gateway running with an http: section?\n`);
}
process.exit(1);

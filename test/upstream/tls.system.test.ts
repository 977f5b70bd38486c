import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Aedes } from 'aedes';
import { aggregate, forwarderTo, tempDir, waitFor } from './helpers.js';

/**
 * Upstream over TLS with a real broker (aedes behind node:tls) and real certificates made by
 * openssl for this test: a CA, a server certificate for 127.0.0.1, a client certificate.
 * System test: needs the openssl binary (CI installs it).
 */
const certs = tempDir('edgewise-tls-');
const f = (n: string) => join(certs.dir, n);

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: certs.dir, stdio: 'pipe' });
}

function makeCerts() {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=edgewise-test-ca');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client', 'stranger']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
  }
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
  // A certificate signed by nobody the broker trusts.
  openssl('x509', '-req', '-in', 'stranger.csr', '-signkey', 'stranger.key', '-out', 'stranger.pem', '-days', '2');
}

describe('upstream over TLS (mqtts, mutual TLS)', () => {
  let server: tls.Server;
  let broker: Aedes;
  let port = 0;
  const received: string[] = [];
  const sockets = new Set<net.Socket>();

  before(async () => {
    makeCerts();
    broker = await Aedes.createBroker();
    broker.authorizePublish = (_c, packet, cb) => {
      if (!packet.topic.endsWith('/status')) received.push(packet.topic);
      cb(null);
    };
    server = tls.createServer(
      { key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')), ca: readFileSync(f('ca.pem')), requestCert: true, rejectUnauthorized: true },
      (sock) => {
        sock.setNoDelay(true);
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        broker.handle(sock);
      },
    );
    server.on('tlsClientError', () => {}); // refused handshakes are the point of some tests
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
    certs.cleanup();
  });

  async function forwarder(tlsCfg: Record<string, unknown>) {
    const s = await forwarderTo(`mqtts://127.0.0.1:${port}`, { tls: tlsCfg }, 'gw-tls');
    await s.fwd.start();
    return s;
  }

  it('with the CA, a client certificate and server verification on: messages are delivered', async () => {
    const s = await forwarder({ ca: f('ca.pem'), cert: f('client.pem'), key: f('client.key') });
    try {
      await waitFor(() => s.fwd.state() === 'online', 'online over TLS');
      for (let i = 0; i < 20; i++) s.outbox.put(aggregate('pump-1/vibration', i));
      s.outbox.flush();
      await waitFor(() => s.outbox.stats().depth.messages === 0, 'outbox drained over TLS');
      assert.equal(received.filter((t) => t.includes('gw-tls/aggregate/pump-1/vibration')).length, 20);
    } finally {
      await s.close();
    }
  });

  it('verification is on by default: a broker certificate from an unknown CA is refused, nothing is sent', async () => {
    const before = received.length;
    const s = await forwarder({ cert: f('client.pem'), key: f('client.key') }); // no CA: the system store does not know ours
    try {
      s.outbox.put(aggregate('pump-1/vibration', 99));
      s.outbox.flush();
      await waitFor(() => s.fwd.stats().disconnects >= 2, 'two refused connection attempts');
      assert.notEqual(s.fwd.state(), 'online');
      assert.match(s.fwd.stats().lastError ?? '', /certificate|self.signed|unable to verify/i);
      assert.equal(received.length, before);
      assert.equal(s.outbox.stats().depth.messages, 1, 'the message waits in the outbox');
    } finally {
      await s.close();
    }
  });

  it('mqtt:// (no TLS) to the TLS port: the connection closes without a CONNACK, and the gateway says so', async () => {
    const s = await forwarderTo(`mqtt://127.0.0.1:${port}`, {}, 'gw-tls');
    await s.fwd.start();
    try {
      await waitFor(() => s.fwd.stats().disconnects >= 2, 'two closed connection attempts');
      assert.notEqual(s.fwd.state(), 'online');
      assert.ok(s.fwd.stats().noConnack >= 2, `counted as noConnack (${s.fwd.stats().noConnack})`);
      assert.equal(s.fwd.stats().lastError, 'the broker closed the connection before accepting it (no CONNACK)');
    } finally {
      await s.close();
    }
  });

  it('mutual TLS: a client certificate the broker does not trust is refused', async () => {
    const s = await forwarder({ ca: f('ca.pem'), cert: f('stranger.pem'), key: f('stranger.key') });
    try {
      await waitFor(() => s.fwd.stats().disconnects >= 2, 'two refused connection attempts');
      assert.notEqual(s.fwd.state(), 'online');
    } finally {
      await s.close();
    }
  });
});

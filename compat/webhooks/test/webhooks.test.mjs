// Compatibility of the platform's webhooks with the published `standardwebhooks` library: a
// receiver on a local port gets a `webhook.test` delivery and verifies it with
// `new Webhook(secret).verify(body, headers)`; after a secret rotation, both the new and the
// previous secret verify (the signature header carries both during the overlap).
//
// Run against a running server started with WEBHOOK_ALLOW_PRIVATE_TARGETS=true (the receiver
// listens on 127.0.0.1, which the SSRF guard otherwise refuses):
//   BASE_URL=http://127.0.0.1:3000 ADMIN_EMAIL=… ADMIN_PASSWORD=… node --test
// A platform admin sets up a fresh project through the API; its owner configures the webhook.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const WAIT_MS = 10_000;

async function api(method, path, { token, body } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${BASE_URL}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A new project through the platform API; answers its owner's token. */
async function projectAdminToken() {
  const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = process.env;
  if (!email || !password) throw new Error('set ADMIN_EMAIL and ADMIN_PASSWORD (a platform admin)');
  const admin = await api('POST', '/api/v1/platform/auth/login', { body: { email, password } });
  const suffix = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const owner = { email: `owner-${suffix}@example.com`, password: `owner-${suffix}` };
  const created = await api('POST', '/api/v1/platform/projects', {
    token: admin.token,
    // Webhooks come with the paid plans (docs/PLANS.md).
    body: { name: `Webhook compat ${suffix}`, ownerEmail: owner.email, ownerPassword: owner.password, plan: 'starter' },
  });
  const login = await api('POST', '/api/v1/auth/login', { body: { project: created.project.slug, ...owner } });
  return login.token;
}

/** A receiver answering 200 and queueing what it got: {headers, body (the raw text)}. */
function receiver() {
  const got = [];
  const waiting = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      const item = { headers: req.headers, body };
      const w = waiting.shift();
      if (w) w(item);
      else got.push(item);
    });
  });
  const next = () =>
    new Promise((resolve, reject) => {
      if (got.length) return resolve(got.shift());
      const timer = setTimeout(() => reject(new Error(`no webhook within ${WAIT_MS} ms`)), WAIT_MS);
      waiting.push((item) => {
        clearTimeout(timer);
        resolve(item);
      });
    });
  return { server, next };
}

let token;
let rx;
let url;

before(async () => {
  token = await projectAdminToken();
  rx = receiver();
  await new Promise((resolve) => rx.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${rx.server.address().port}/hook`;
});

after(() => rx?.server.close());

test('standardwebhooks verifies a delivery, and both secrets verify during a rotation', async () => {
  const saved = await api('PUT', '/api/v1/projects/me/webhook', { token, body: { url } });
  assert.match(saved.secret, /^whsec_/);

  const sent = await api('POST', '/api/v1/projects/me/webhook/test', { token, body: {} });
  const first = await rx.next();
  const payload = new Webhook(saved.secret).verify(first.body, first.headers);
  assert.equal(payload.event, 'webhook.test');
  assert.equal(first.headers['webhook-id'], sent.messageId);
  assert.ok(payload.projectId && payload.timestamp && payload.data);
  // A tampered body or another secret does not verify.
  assert.throws(() => new Webhook(saved.secret).verify(first.body.replace('webhook.test', 'webhook.fake'), first.headers));
  const stranger = `whsec_${Buffer.from('x'.repeat(24)).toString('base64')}`;
  assert.throws(() => new Webhook(stranger).verify(first.body, first.headers));

  const rotated = await api('POST', '/api/v1/projects/me/webhook/rotate', { token, body: {} });
  assert.notEqual(rotated.secret, saved.secret);
  await api('POST', '/api/v1/projects/me/webhook/test', { token, body: {} });
  const second = await rx.next();
  assert.equal(new Webhook(rotated.secret).verify(second.body, second.headers).event, 'webhook.test');
  assert.equal(new Webhook(saved.secret).verify(second.body, second.headers).event, 'webhook.test');
});

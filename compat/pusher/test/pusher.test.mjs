// Compatibility of the platform's built-in Pusher Channels server with the stock libraries:
// pusher-js (the browser/Node client) connects, authorizes `private-user-{id}` through
// /api/v1/realtime/auth with the user's bearer token, and receives what the official `pusher`
// server library triggers on /apps/{appId}/events.
//
// Run against a running server:   BASE_URL=http://127.0.0.1:3000 node --test
// Setup comes from the platform's API when ADMIN_EMAIL and ADMIN_PASSWORD (a platform admin) are
// given: a project, its realtime credentials, an end user and their token. Without them, pass
// PROJECT_KEY, REALTIME_APP_ID, REALTIME_KEY, REALTIME_SECRET, USER_ID and USER_TOKEN.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import PusherJsModule from 'pusher-js';
import PusherServer from 'pusher';

const PusherClient = PusherJsModule.default ?? PusherJsModule;
const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const WAIT_MS = 10_000;

async function api(method, path, { token, key, body } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) Object.assign(headers, { 'x-api-key': key.key, 'x-api-secret': key.secret });
  const res = await fetch(`${BASE_URL}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A project, its realtime credentials and an end user, made through the platform's API. */
async function provision() {
  const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = process.env;
  const admin = await api('POST', '/api/v1/platform/auth/login', { body: { email, password } });
  const suffix = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const owner = { email: `owner-${suffix}@example.com`, password: `owner-${suffix}` };
  const created = await api('POST', '/api/v1/platform/projects', {
    token: admin.token,
    body: { name: `Pusher compat ${suffix}`, ownerEmail: owner.email, ownerPassword: owner.password },
  });
  const apiKey = { key: created.apiKey.key, secret: created.apiKey.secret };
  const login = await api('POST', '/api/v1/auth/login', { body: { project: created.project.slug, ...owner } });
  const realtime = await api('GET', '/api/v1/projects/me/realtime', { token: login.token });
  const newUser = async (name) => {
    const user = await api('POST', '/api/v1/users', { key: apiKey, body: { email: `${name}-${suffix}@example.com` } });
    const { token } = await api('POST', `/api/v1/users/${user.id}/token`, { key: apiKey });
    return { id: user.id, token };
  };
  return { projectKey: apiKey.key, realtime, user: await newUser('ana'), other: await newUser('bob') };
}

function fromEnv() {
  const need = ['PROJECT_KEY', 'REALTIME_APP_ID', 'REALTIME_KEY', 'REALTIME_SECRET', 'USER_ID', 'USER_TOKEN'];
  const missing = need.filter((n) => !process.env[n]);
  if (missing.length) {
    throw new Error(`set ADMIN_EMAIL and ADMIN_PASSWORD, or ${missing.join(', ')}`);
  }
  const url = new URL(BASE_URL);
  const e = process.env;
  return {
    projectKey: e.PROJECT_KEY,
    realtime: { appId: e.REALTIME_APP_ID, key: e.REALTIME_KEY, secret: e.REALTIME_SECRET, host: url.hostname, port: Number(url.port || 80) },
    user: { id: e.USER_ID, token: e.USER_TOKEN },
    other: null,
  };
}

let setup;
const clients = [];

before(async () => {
  setup = process.env.ADMIN_EMAIL && process.env.ADMIN_PASSWORD ? await provision() : fromEnv();
});

after(() => {
  for (const c of clients) c.disconnect();
});

function connect(token, extra = {}) {
  const url = new URL(BASE_URL);
  const client = new PusherClient(setup.projectKey, {
    cluster: 'mt1',
    wsHost: url.hostname,
    wsPort: Number(url.port || 80),
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      endpoint: `${BASE_URL}/api/v1/realtime/auth`,
      transport: 'ajax',
      headers: { Authorization: `Bearer ${token}` },
    },
    ...extra,
  });
  clients.push(client);
  return client;
}

function serverLibrary() {
  const { appId, key, secret, host, port } = setup.realtime;
  return new PusherServer({ appId: String(appId), key, secret, host, port: String(port), useTLS: false });
}

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function subscribed(channel) {
  return within(
    new Promise((resolve, reject) => {
      channel.bind('pusher:subscription_succeeded', resolve);
      channel.bind('pusher:subscription_error', (e) => reject(new Error(`subscription refused: ${JSON.stringify(e)}`)));
    }),
    `the subscription to ${channel.name}`,
  );
}

test('the realtime credentials suit the official libraries', () => {
  assert.match(String(setup.realtime.appId), /^\d+$/);
  assert.ok(setup.realtime.key && setup.realtime.secret);
});

test('pusher-js receives on private-user-{id} what the pusher library triggers', async () => {
  const client = connect(setup.user.token);
  const name = `private-user-${setup.user.id}`;
  const channel = client.subscribe(name);
  await subscribed(channel);
  const received = within(new Promise((resolve) => channel.bind('notification', resolve)), 'the notification');
  const notification = { id: 'n-compat', title: 'Payment received', message: 'Hello from the server library', priority: 'high' };
  const res = await serverLibrary().trigger(name, 'notification', notification);
  assert.equal(res.status, 200);
  assert.deepEqual(await received, notification);
});

test("another user's private channel is refused with 403", async () => {
  const otherId = setup.other?.id ?? '00000000-0000-4000-8000-000000000000';
  const client = connect(setup.user.token);
  const channel = client.subscribe(`private-user-${otherId}`);
  const error = await within(new Promise((resolve) => channel.bind('pusher:subscription_error', resolve)), 'the refusal');
  assert.equal(error.status, 403);
});

test('auth signed by the server library is accepted, and channels can be queried', async () => {
  const lib = serverLibrary();
  const client = connect(setup.user.token, {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        callback(null, lib.authorizeChannel(socketId, channelName, { user_id: setup.user.id, user_info: { name: 'Ana' } }));
      },
    },
  });
  const channel = client.subscribe('presence-compat');
  const members = await subscribed(channel);
  assert.equal(members.count, 1);
  assert.deepEqual(members.me, { id: setup.user.id, info: { name: 'Ana' } });
  const res = await lib.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.channels['presence-compat'], { user_count: 1 });
});

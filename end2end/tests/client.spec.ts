// The client panel's pages, each through its main flow, as a project admin signed in on the
// platform's own host; axe and a screenshot on each.
import { test, expect } from '@playwright/test';
import { BASE_URL, expectAccessible, makeProject, ownerToken, reportBrowserProblems, screenshot, signIn, unique } from './support';

test('API keys: create one (secret shown once) and revoke it', async ({ page, request }) => {
  const p = await makeProject(request, `Keys ${unique()}`);
  reportBrowserProblems(page);
  await signIn(page, p, '/keys');
  await expect(page).toHaveURL(/\/keys$/);
  await page.getByLabel('Name').fill('CI key');
  await page.getByLabel('Send events').check();
  await page.getByLabel('Allowed addresses').fill('10.0.0.0/8, 2001:db8::/32');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByLabel('Secret key');
  await expect(secret).toHaveValue(/^sk_(live|test)_/);
  const row = page.getByRole('row', { name: /CI key/ });
  await expect(row).toContainText('events:write');
  await expect(row).toContainText('10.0.0.0/8, 2001:db8::/32');
  await expectAccessible(page);
  await screenshot(page, 'keys');

  await row.getByRole('button', { name: 'Revoke' }).click();
  await row.getByRole('button', { name: 'Confirm revoke' }).click();
  await expect(page.getByRole('row', { name: /CI key/ })).toContainText('revoked');
});

test('rules: build a condition, see it checked, save, and test it on a sample', async ({ page, request }) => {
  const p = await makeProject(request, `Rules ${unique()}`);
  reportBrowserProblems(page);
  await signIn(page, p, '/rules');
  await expect(page.getByText('No rules yet')).toBeVisible();
  await page.getByRole('link', { name: 'New rule' }).click();
  await expect(page.getByRole('heading', { name: 'New rule' })).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill('Big orders');

  // A broken condition is reported where it is written.
  const condition = page.getByLabel('Condition (CEL)');
  await condition.fill('payload.total >');
  await expect(page.locator('#condition-check')).toContainText('invalid CEL');

  // The builder writes CEL.
  await page.getByRole('button', { name: 'Add condition' }).click();
  const fields = page.getByLabel('Field', { exact: true });
  await fields.nth(1).fill('payload.total');
  await page.getByLabel('Operator').nth(1).selectOption('>');
  await page.getByLabel('Value', { exact: true }).nth(1).fill('100');
  await page.getByRole('button', { name: 'Use these conditions' }).click();
  await expect(condition).toHaveValue('type == "order.created" && payload.total > 100');
  await expect(page.locator('#condition-check')).toContainText('compile');

  await page.getByLabel('Title template').fill('Order {{ payload.orderId }} for {{ payload.total }}');
  await page.getByRole('button', { name: 'Create rule' }).click();
  await expect(page).toHaveURL(/\/rules\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: 'Big orders' })).toBeVisible();

  await page.getByLabel('Payload (JSON)').fill('{"orderId": 7, "total": 250}');
  await page.getByRole('button', { name: 'Run test' }).click();
  const result = page.getByRole('status').filter({ hasText: 'Matched' });
  await expect(result).toContainText('yes');
  await expect(result).toContainText('Order 7 for 250');
  await expectAccessible(page);
  await screenshot(page, 'rule-editor');

  await page.goto(`${BASE_URL}/rules`);
  await expect(page.getByRole('link', { name: 'Big orders' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'rules');
});

test('users: approve a pending one, disable and delete', async ({ page, request }) => {
  const p = await makeProject(request, `Users ${unique()}`);
  const email = `pending-${unique()}@example.com`;
  const reg = await request.post(`${BASE_URL}/api/v1/users/register`, {
    headers: { 'X-API-Key': p.key },
    data: { email, password: 'user-password-1' },
  });
  expect(reg.status(), await reg.text()).toBe(201);
  reportBrowserProblems(page);
  await signIn(page, p, '/users?status=pending');
  const row = page.getByRole('row', { name: new RegExp(email) });
  await expect(row).toContainText('pending');
  await expectAccessible(page);
  await screenshot(page, 'users');
  await row.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByText('No users match.')).toBeVisible();

  await page.goto(`${BASE_URL}/users?q=${encodeURIComponent(email)}`);
  const active = page.getByRole('row', { name: new RegExp(email) });
  await expect(active).toContainText('active');
  await active.getByRole('button', { name: 'Disable' }).click();
  await expect(active).toContainText('disabled');
  await active.getByRole('button', { name: 'Delete' }).click();
  await active.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(page.getByText('No users match.')).toBeVisible();
});

test('webhook: set the endpoint, keep the secret, send a test and see it in the log', async ({ page, request }) => {
  const p = await makeProject(request, `Hooks ${unique()}`);
  reportBrowserProblems(page);
  await signIn(page, p, '/webhook');
  await page.getByLabel('Endpoint URL').fill(`${BASE_URL}/healthz`);
  await page.getByRole('button', { name: 'Save endpoint' }).click();
  await expect(page.getByLabel('Signing secret')).toHaveValue(/^whsec_/);
  // The test command's server publishes its source addresses (WEBHOOK_SOURCE_IPS in scripts/test.sh).
  await expect(page.getByText('Our servers send from')).toContainText('203.0.113.10, 2001:db8::/64');
  await page.getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByText(/Test message .* queued/)).toBeVisible();
  // The log fills in once the worker has sent it.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('cell', { name: 'webhook.test' }).first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expectAccessible(page);
  await screenshot(page, 'webhook');
});

test('settings: branding saves and a bad colour is refused at its field', async ({ page, request }) => {
  const p = await makeProject(request, `Settings ${unique()}`);
  reportBrowserProblems(page);
  await signIn(page, p, '/settings');
  await page.getByLabel('Brand colour').fill('teal');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('must be a #rrggbb colour')).toBeVisible();
  await page.getByLabel('Brand colour').fill('#0f766e');
  await page.getByLabel('Display name').fill('Acme Alerts');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Brand colour')).toHaveValue('#0f766e');
  await expectAccessible(page);
  await screenshot(page, 'settings');
});

test("another project's rule is not found", async ({ page, request }) => {
  const a = await makeProject(request, `A ${unique()}`);
  const b = await makeProject(request, `B ${unique()}`);
  const tokenB = await ownerToken(request, b);
  const rule = await request.post(`${BASE_URL}/api/v1/rules`, {
    headers: { Authorization: `Bearer ${tokenB}` },
    data: { name: 'B only', condition: 'true', title: 'x', targetRoles: ['admin'] },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  const { id } = (await rule.json()) as { id: string };
  await signIn(page, a);
  await page.goto(`${BASE_URL}/rules/${id}`);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(page.getByText('B only')).toHaveCount(0);
});

test('activity: an event shows its status, payload and the notification it caused', async ({ page, request }) => {
  const p = await makeProject(request, `Activity ${unique()}`);
  const token = await ownerToken(request, p);
  const rule = await request.post(`${BASE_URL}/api/v1/rules`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { name: 'Orders', condition: 'type == "order.created"', title: 'Order {{ payload.orderId }}', targetRoles: ['admin'] },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  const sent = await request.post(`${BASE_URL}/api/v1/events`, {
    headers: { 'X-API-Key': p.key, 'X-API-Secret': p.secret },
    data: { type: 'order.created', payload: { orderId: 99 } },
  });
  expect(sent.status()).toBe(202);
  await request.post(`${BASE_URL}/api/v1/events`, {
    headers: { 'X-API-Key': p.key, 'X-API-Secret': p.secret },
    data: { type: 'user.signup', payload: {} },
  });
  reportBrowserProblems(page);
  await signIn(page, p, '/activity?type=order.created');
  const card = page.getByRole('article', { name: 'Event order.created' });
  await expect(async () => {
    await page.reload();
    await expect(card).toContainText('processed', { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByRole('article', { name: 'Event user.signup' })).toHaveCount(0);
  await card.getByText('Details').click();
  await expect(card).toContainText('Notification: Order 99');
  await expect(card).toContainText('"orderId": 99');
  await expectAccessible(page);
  await screenshot(page, 'activity');
});

test('roles: create one and delete it', async ({ page, request }) => {
  const p = await makeProject(request, `Roles ${unique()}`);
  reportBrowserProblems(page);
  await signIn(page, p, '/roles');
  await page.getByLabel('Role name').fill('support');
  await page.getByLabel('Description').fill('Answers the phones');
  await page.getByRole('button', { name: 'Create role' }).click();
  const row = page.getByRole('row', { name: /support/ });
  await expect(row).toContainText('Answers the phones');
  await expectAccessible(page);
  await screenshot(page, 'roles');
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(page.getByRole('row', { name: /support/ })).toHaveCount(0);
});

test('billing: the plan, its usage, and a clear answer when Stripe is not set up', async ({ page, request }) => {
  const p = await makeProject(request, `Billing ${unique()}`, 'free');
  reportBrowserProblems(page);
  await signIn(page, p, '/billing');
  await expect(page.getByRole('heading', { name: 'Billing' })).toBeVisible();
  await expect(page.getByText('of 1000')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'billing');
  // The test server runs without Stripe keys: the plan shows, paying is said to be unavailable.
  await expect(page.getByText('Billing is not set up on this platform')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Upgrade to starter' })).toHaveCount(0);
});

test('audit log: the changes made in the panel are listed with where they came from', async ({ page, request }) => {
  const p = await makeProject(request, `Audit ${unique()}`);
  reportBrowserProblems(page);
  await signIn(page, p, '/keys');
  await page.getByLabel('Name').fill('audited key');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByLabel('Secret key')).toHaveValue(/^sk_/);
  await page.goto(`${BASE_URL}/audit`);
  const row = page.getByRole('row', { name: /api_key\.create/ });
  await expect(row).toContainText('project_admin');
  await expect(row).toContainText('127.0.0.1');

  // Filters are a plain form: the filtered view is a link.
  await page.getByLabel('Action').fill('rule.*');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/action=rule\.\*/);
  await expect(page.getByText('No changes match.')).toBeVisible();
  await page.getByLabel('Action').fill('api_key.*');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByRole('row', { name: /api_key\.create/ })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'audit');

  // The download is what the filters select, as CSV.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
  const csv = (await (await import('node:fs/promises')).readFile((await download.path())!, 'utf8')).trim().split('\n');
  expect(csv[0]).toBe('timestamp,id,actorType,userId,action,resourceType,resourceId,ipAddress,userAgent,metadata');
  expect(csv.length).toBe(2);
  expect(csv[1]).toContain('api_key.create');
});

test('analytics: notifications sent show in the figures, the chart and the table', async ({ page, request }) => {
  const p = await makeProject(request, `Analytics ${unique()}`);
  const token = await ownerToken(request, p);
  const rule = await request.post(`${BASE_URL}/api/v1/rules`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { name: 'Orders', condition: 'type == "order.created"', title: 'Order {{ payload.orderId }}', targetRoles: ['admin'] },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  for (const orderId of [1, 2]) {
    const sent = await request.post(`${BASE_URL}/api/v1/events`, {
      headers: { 'X-API-Key': p.key, 'X-API-Secret': p.secret },
      data: { type: 'order.created', payload: { orderId } },
    });
    expect(sent.status()).toBe(202);
  }
  // The rollups are written within a second or so.
  await expect(async () => {
    const r = await request.get(`${BASE_URL}/api/v1/analytics/delivery-rates?interval=hour`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const body = (await r.json()) as { data: { sent: number }[] };
    expect(body.data.reduce((n, d) => n + d.sent, 0)).toBe(2);
  }).toPass({ timeout: 30_000 });
  reportBrowserProblems(page);
  await signIn(page, p, '/analytics');
  await page.getByLabel('Range').selectOption('24h');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/range=24h/);
  await expect(page.getByText('Notifications sent').locator('..')).toContainText('2');
  await expect(page.getByRole('img', { name: /Notifications: Sent and Delivered/ })).toBeVisible();
  const rows = page.getByRole('region', { name: 'By period' }).getByRole('row');
  await expect(rows).toHaveCount(25, { timeout: 10_000 });
  await expectAccessible(page);
  await screenshot(page, 'analytics');
});

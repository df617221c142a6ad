// The platform panel: sign-in (and the way back to the page asked for), the project list, sign-out.
import { test, expect } from '@playwright/test';
import {
  ADMIN_EMAIL, ADMIN_PASSWORD, BASE_URL, expectAccessible, hydrated, makeProject, reportBrowserProblems, screenshot, unique,
} from './support';

test.beforeAll(() => {
  if (!ADMIN_EMAIL || !ADMIN_PASSWORD) throw new Error('ADMIN_EMAIL and ADMIN_PASSWORD must be set (the seeded platform admin)');
});

test('a platform admin signs in and finds a project made through the API', async ({ page, request }) => {
  const name = `Platform E2E ${unique()}`;
  await makeProject(request, name);
  reportBrowserProblems(page);

  // Without a session the panel sends the browser to sign in, and back afterwards.
  await page.goto(`${BASE_URL}/platform/projects`);
  await expect(page).toHaveURL(/\/platform\/login\?next=\/platform\/projects$/);
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'platform-login');
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();

  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  await expect(page.getByRole('cell', { name, exact: true })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'platform-projects');

  // The dashboard's figures are the API's.
  const login = await request.post(`${BASE_URL}/api/v1/platform/auth/login`, { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  const token = ((await login.json()) as { token: string }).token;
  const api = (await (await request.get(`${BASE_URL}/api/v1/platform/metrics`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
    projects: { total: number; active: number }; events: { total: number };
  };
  await page.getByRole('link', { name: 'Dashboard' }).click();
  const projects = page.getByRole('region', { name: 'Projects' });
  await expect(projects.locator('div', { hasText: 'Total' }).locator('dd')).toHaveText(String(api.projects.total));
  await expect(projects.locator('div', { hasText: 'Active' }).locator('dd')).toHaveText(String(api.projects.active));
  await expect(page.getByRole('region', { name: 'Events' }).locator('div', { hasText: 'Total' }).locator('dd')).toHaveText(String(api.events.total));
  await expectAccessible(page);
  await screenshot(page, 'platform-dashboard');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/platform\/login/);
});

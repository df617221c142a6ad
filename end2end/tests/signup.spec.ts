// Self-service sign-up: a stranger creates a project, keeps the key shown once, sends a test event
// and sees it processed, then lands on the dashboard signed in.
import { test, expect } from '@playwright/test';
import { BASE_URL, expectAccessible, hydrated, reportBrowserProblems, screenshot, unique } from './support';

test('sign-up leads to a working integration', async ({ page }) => {
  reportBrowserProblems(page);
  await page.goto(`${BASE_URL}/signup`);
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'signup');

  // A too-short password is refused at its field, and nothing is created.
  await page.getByLabel('Your name').fill('Ada Owner');
  await page.getByLabel('Work email').fill(`ada-${unique()}@example.com`);
  await page.getByLabel('Password').fill('short');
  await page.getByLabel('Project name').fill(`Acme ${unique()}`);
  await page.getByLabel('Password').evaluate((el) => el.removeAttribute('required'));
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByText('must be 8 to 256 characters')).toBeVisible();

  await page.getByLabel('Password').fill('a-long-password');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByRole('heading', { name: 'Your project is ready' })).toBeVisible();
  const secret = await page.getByLabel('Secret key').inputValue();
  expect(secret).toMatch(/^sk_(live|test)_/);
  await expect(page.getByText(`X-API-Secret: ${secret}`)).toBeVisible();

  await page.getByRole('button', { name: 'Send a test event' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'processed' })).toBeVisible({ timeout: 30_000 });
  await expectAccessible(page);
  await screenshot(page, 'welcome');

  await page.getByRole('link', { name: 'Go to the dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Events this month' }).or(page.getByText('Events this month'))).toBeVisible();
  await expect(page.getByText('of 1000')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'dashboard');
});

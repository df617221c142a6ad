// White-labelling: a project's custom domain (made up, mapped to 127.0.0.1 by Chromium's
// --host-resolver-rules in playwright.config.ts) serves that project's panel with its name, logo
// and colour, and its sign-in asks for no project.
import { test, expect } from '@playwright/test';
import { BASE_URL, OWNER_PASSWORD, PORT, expectAccessible, hydrated, makeProject, ownerToken, reportBrowserProblems, screenshot, unique } from './support';

test('the custom domain shows the brand and signs in without a project', async ({ page, request }) => {
  const p = await makeProject(request, `Brand ${unique()}`);
  const domain = `alerts-${unique()}.test`;
  const token = await ownerToken(request, p);
  const set = await request.put(`${BASE_URL}/api/v1/projects/me/branding`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { displayName: 'Acme Alerts', brandColor: '#0f766e', logoUrl: `${BASE_URL}/favicon.ico`, customDomain: domain },
  });
  expect(set.status(), await set.text()).toBe(200);
  const check = await request.get(`${BASE_URL}/api/v1/domains/check?domain=${domain}`);
  expect(check.status()).toBe(200);

  reportBrowserProblems(page);
  const site = `http://${domain}:${PORT}`;
  await page.goto(`${site}/login`);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Sign in to Acme Alerts' })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Acme Alerts logo' })).toBeVisible();
  await expect(page.getByLabel('Project')).toHaveCount(0);
  await expectAccessible(page);
  await screenshot(page, 'branded-login');

  await page.getByLabel('Email').fill(p.ownerEmail);
  await page.getByLabel('Password').fill(OWNER_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const current = page.getByRole('link', { name: 'Dashboard' });
  await expect(current).toHaveAttribute('aria-current', 'page');
  // The accent is the brand's colour: rgb(15, 118, 110) is #0f766e.
  await expect(current).toHaveCSS('background-color', 'rgb(15, 118, 110)');
  await expect(page.getByText('Acme Alerts').first()).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'branded-dashboard');
});

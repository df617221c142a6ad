// What every spec shares: the server's address, the seeded platform admin, a project made through
// the REST API, waiting for hydration, the accessibility check and the page screenshots.

import AxeBuilder from '@axe-core/playwright';
import { expect, type APIRequestContext, type Page } from '@playwright/test';

export const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
export const ADMIN_EMAIL = process.env.ADMIN_EMAIL ?? process.env.PLATFORM_ADMIN_EMAIL ?? '';
export const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? process.env.PLATFORM_ADMIN_PASSWORD ?? '';
export const PORT = new URL(BASE_URL).port;

export function unique(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

// Prints what the browser complains about: a panic in the wasm bundle or a failed asset load is
// the usual reason a page never hydrates, and the test output should say so.
export function reportBrowserProblems(page: Page): void {
  page.on('pageerror', (err) => console.log(`[browser pageerror] at ${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`[browser console.error] ${msg.text()}`);
  });
}

export async function hydrated(page: Page): Promise<void> {
  await page.waitForSelector('body[data-hydrated="true"]', { state: 'attached', timeout: 90_000 });
}

// No serious or critical accessibility violation on the page as it is now.
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
  ).toEqual([]);
}

// A full-page screenshot kept with the test results (screenshots/<name>.png).
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

export type Project = { id: string; slug: string; key: string; secret: string; ownerEmail: string };
export const OWNER_PASSWORD = 'owner-password-1';

async function platformToken(request: APIRequestContext): Promise<string> {
  const login = await request.post(`${BASE_URL}/api/v1/platform/auth/login`, {
    data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  expect(login.status(), await login.text()).toBe(200);
  return ((await login.json()) as { token: string }).token;
}

// A project made by platform staff through the REST API, with an owner who can sign in.
export async function makeProject(request: APIRequestContext, name: string, plan = 'enterprise'): Promise<Project> {
  const token = await platformToken(request);
  const ownerEmail = `owner-${unique()}@example.com`;
  const created = await request.post(`${BASE_URL}/api/v1/platform/projects`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { name, plan, ownerEmail, ownerPassword: OWNER_PASSWORD },
  });
  expect(created.status(), await created.text()).toBe(201);
  const body = (await created.json()) as { project: { id: string; slug: string }; apiKey: { key: string; secret: string } };
  return { id: body.project.id, slug: body.project.slug, key: body.apiKey.key, secret: body.apiKey.secret, ownerEmail };
}

// The project owner's bearer token, for setting things up through the REST API.
export async function ownerToken(request: APIRequestContext, p: Project): Promise<string> {
  const login = await request.post(`${BASE_URL}/api/v1/auth/login`, {
    data: { project: p.slug, email: p.ownerEmail, password: OWNER_PASSWORD },
  });
  expect(login.status(), await login.text()).toBe(200);
  return ((await login.json()) as { token: string }).token;
}

// Signs the project's owner in through the client panel's sign-in page on the platform's host.
export async function signIn(page: Page, p: Project, next = '/'): Promise<void> {
  await page.goto(`${BASE_URL}/login${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`);
  await hydrated(page);
  await page.getByLabel('Project').fill(p.slug);
  await page.getByLabel('Email').fill(p.ownerEmail);
  await page.getByLabel('Password').fill(OWNER_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

import { test, expect, type Page } from '@playwright/test';

// Platform admin: a project created through the REST API shows up in the admin panel after
// signing in through the (hydrated) sign-in form.
//
// Env: BASE_URL (server address), ADMIN_EMAIL / ADMIN_PASSWORD (the platform admin the server
// seeded from PLATFORM_ADMIN_EMAIL / PLATFORM_ADMIN_PASSWORD; those names are accepted too).

const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const ADMIN_EMAIL = process.env.ADMIN_EMAIL ?? process.env.PLATFORM_ADMIN_EMAIL ?? '';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? process.env.PLATFORM_ADMIN_PASSWORD ?? '';

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

// Print what the browser complains about: a panic in the wasm bundle or a failed asset load is
// the usual reason the page never hydrates, and the test output should say so.
function reportBrowserProblems(page: Page): void {
  page.on('pageerror', (err) => console.log(`[browser pageerror] ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`[browser console.error] ${msg.text()}`);
  });
  page.on('requestfailed', (req) =>
    console.log(`[browser requestfailed] ${req.method()} ${req.url()}: ${req.failure()?.errorText}`),
  );
}

test.describe('platform admin panel', () => {
  test.beforeAll(() => {
    if (!ADMIN_EMAIL || !ADMIN_PASSWORD) {
      throw new Error('ADMIN_EMAIL and ADMIN_PASSWORD must be set (the seeded platform admin)');
    }
  });

  test('a project created through the API is listed after signing in', async ({ page, request }) => {
    // 1. Sign in through the API and create a project.
    const login = await request.post(`${BASE_URL}/api/v1/platform/auth/login`, {
      data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    expect(login.status(), `login answered: ${await login.text()}`).toBe(200);
    const { token } = (await login.json()) as { token: string };
    expect(typeof token).toBe('string');
    expect(token.length).toBeGreaterThan(0);

    const projectName = `E2E Project ${uniqueSuffix()}`;
    const created = await request.post(`${BASE_URL}/api/v1/platform/projects`, {
      headers: { Authorization: `Bearer ${token}` },
      data: { name: projectName },
    });
    expect(created.status(), `create project answered: ${await created.text()}`).toBe(201);
    const body = (await created.json()) as {
      project: { id: string; name: string; slug: string };
      apiKey: { key: string; secret: string };
    };
    expect(body.project.name).toBe(projectName);
    expect(body.project.id).toMatch(/^[0-9a-f-]{36}$/i);
    expect(body.apiKey.key).toMatch(/^pk_(live|test)_/);
    expect(body.apiKey.secret).toMatch(/^sk_(live|test)_/);

    // 2. Sign in through the browser once the page has hydrated (before that, the form would
    //    do a plain HTML submit or nothing at all).
    reportBrowserProblems(page);
    await page.goto(`${BASE_URL}/`);
    await page.waitForSelector('body[data-hydrated="true"]', { state: 'attached', timeout: 90_000 });

    await page.locator('input[name="email"]').fill(ADMIN_EMAIL);
    await page.locator('input[name="password"]').fill(ADMIN_PASSWORD);
    await page.locator('button[type="submit"]').click();

    // 3. The projects list shows the new project.
    await expect(page.getByText(projectName, { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  });
});

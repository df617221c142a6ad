// Every page hydrates, however the browser got there: each client page loaded twice in a row
// after the others, with any hydration error or panic failing the test.
import { test, expect } from '@playwright/test';
import { BASE_URL, hydrated, makeProject, signIn, unique } from './support';

const PAGES = ['/', '/activity', '/rules', '/rules/new', '/users', '/roles', '/keys', '/webhook', '/sounds', '/analytics', '/audit', '/billing', '/settings'];

test('every client page hydrates without a mismatch, page after page', async ({ page, request }) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /hydrat|panicked/i.test(m.text())) problems.push(`${page.url()}: ${m.text().slice(0, 300)}`);
  });
  const p = await makeProject(request, `Hydrate ${unique()}`);
  await signIn(page, p);
  for (const path of [...PAGES, ...PAGES]) {
    await page.goto(`${BASE_URL}${path}`);
    await hydrated(page);
  }
  expect(problems).toEqual([]);
});

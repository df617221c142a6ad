import { defineConfig, devices } from '@playwright/test';

// Browser tests for the admin panels (the client panel, white-labelling, the platform panel).
//
// The server is NOT started from here: scripts/test.sh starts the debug server binary on a free
// port with a throw-away SQLite database and passes its address in BASE_URL (and the seeded
// platform admin in ADMIN_EMAIL / ADMIN_PASSWORD). When BASE_URL is unset the Leptos site-addr
// (http://127.0.0.1:3000) is used, which is what `cargo leptos end-to-end` / `cargo leptos watch`
// serve.
//
// Playwright's own browser download does not work on the CI machines, so the tests drive the
// distribution's Chromium (Debian package `chromium`). CHROMIUM_PATH overrides its location.

const baseURL = (process.env.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './tests',
  // One server, one small machine: run the specs one after another.
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // The debug wasm bundle is large and the first page load on a cold, busy machine can be slow.
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  outputDir: 'test-results',
  use: {
    baseURL,
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    navigationTimeout: 60_000,
    actionTimeout: 20_000,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            // Made-up custom domains (*.test) reach the server under test: the white-label tests.
            '--host-resolver-rules=MAP *.test 127.0.0.1',
          ],
        },
      },
    },
  ],
});

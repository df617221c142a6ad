// Sounds: upload through the page's plain form, play it back, refuse what is not audio, pick it
// in a rule, and delete it (refused while the rule plays it, then forced).
import { test, expect } from '@playwright/test';
import { BASE_URL, expectAccessible, hydrated, makeProject, reportBrowserProblems, screenshot, signIn, unique } from './support';

// A mono 16-bit PCM wav of a 440 Hz tone.
function wav(ms: number, rate = 8000): Buffer {
  const samples = Math.floor((rate * ms) / 1000);
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(Math.sin((i * 440 * 2 * Math.PI) / rate) * 8000), 44 + i * 2);
  return b;
}

test('sounds: upload, listen, refuse a picture, use it in a rule, delete', async ({ page, request }) => {
  const p = await makeProject(request, `Sounds ${unique()}`);
  reportBrowserProblems(page);
  await signIn(page, p, '/sounds');
  await expect(page.getByRole('heading', { name: 'Sounds', level: 1 })).toBeVisible();
  await expect(page.getByText('No sounds yet')).toBeVisible();

  // The name comes from the file when left empty.
  await page.getByLabel('Sound file').setInputFiles({ name: 'Cash Register.wav', mimeType: 'audio/wav', buffer: wav(1200) });
  await page.getByRole('button', { name: 'Upload sound' }).click();
  await expect(page.getByRole('status')).toContainText('Sound cash_register uploaded.');
  const row = page.getByRole('row', { name: /cash_register/ });
  await expect(row).toContainText('cash_register.wav');
  await expect(row).toContainText('1.2 s');
  const player = row.getByLabel('Play cash_register');
  const src = await player.getAttribute('src');
  expect(src).toMatch(new RegExp(`/media/sounds/${p.id}/[0-9a-f-]{36}\\.wav$`));
  const file = await request.get(src!);
  expect(file.status()).toBe(200);
  expect(file.headers()['content-type']).toBe('audio/wav');
  await hydrated(page);
  await expectAccessible(page);
  await screenshot(page, 'sounds');

  // A picture named like a sound is refused, and says why.
  await page.getByLabel('Name').fill('logo');
  await page.getByLabel('Sound file').setInputFiles({
    name: 'logo.mp3',
    mimeType: 'audio/mpeg',
    buffer: Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'),
  });
  await page.getByRole('button', { name: 'Upload sound' }).click();
  await expect(page.getByRole('alert')).toContainText('not audio');
  await expect(page.getByRole('row', { name: /logo/ })).toHaveCount(0);

  // A rule plays it.
  await page.goto(`${BASE_URL}/rules/new`);
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Till');
  await page.getByLabel('Sound').selectOption('cash_register');
  await page.getByRole('button', { name: 'Create rule' }).click();
  await expect(page).toHaveURL(/\/rules\/[0-9a-f-]{36}$/);
  await expect(page.getByLabel('Sound')).toHaveValue('cash_register');

  // Deleting it is refused while the rule plays it, then forced.
  await page.goto(`${BASE_URL}/sounds`);
  await hydrated(page);
  const again = page.getByRole('row', { name: /cash_register/ });
  await again.getByRole('button', { name: 'Delete cash_register' }).click();
  await again.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(page.getByRole('alert')).toContainText('active rule');
  await again.getByLabel('Also take it off the rules that play it').check();
  await again.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(page.getByText('No sounds yet')).toBeVisible();
});

// The Revisions page at 390 px with what real histories hold: long messages and diffs whose
// values (URLs, paths) have nowhere to break. Nothing may push the page sideways, the diff
// and the rollback plan included; each revision shows its outcome.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { startControlPlane, type ControlPlane } from '../src/server.ts';
import { REPO, tempDir } from './support/baton-process.ts';
import { ensureWebBuilt } from './support/baton-up.ts';

// The page's globals used inside page.evaluate (this tsconfig has no DOM library).
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

const SHOP = join(REPO, 'examples/shop');
const SHOTS = join(REPO, 'test-results/dashboard');
const LONG_URL = 'https://example.com/a/very/long/url/that/does/not/break/anywhere/at/all/really';

declare const sessionStorage: { setItem(key: string, value: string): void };

describe('the Revisions page at 390 px', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let plane: ControlPlane;
  let browser: Browser;

  before(async () => {
    dir = await tempDir('narrow');
    await ensureWebBuilt();
    plane = await startControlPlane({
      host: '127.0.0.1',
      port: 0,
      stateDir: join(dir.path, 'state'),
      runtime: 'simulated',
      logger: pino({ level: 'silent' }),
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox'],
    });
    const text = await readFile(join(SHOP, 'baton.yaml'), 'utf8');
    await plane.engine.apply(
      { text, baseDir: SHOP },
      { author: 'operator', message: `first apply, from ${SHOP}/services/notifications-with-a-long-name.ts` },
    );
    const changed = text
      .replace('version: 1.0.4', 'version: 1.0.5')
      .replace(
        'LOG_LEVEL: info',
        `LOG_LEVEL: debug\n      A_VERY_LONG_ENVIRONMENT_VARIABLE_NAME: ${LONG_URL}`,
      );
    await plane.engine.apply(
      { text: changed, baseDir: SHOP },
      { author: 'operator', message: 'x'.repeat(90) },
    );
  });
  after(async () => {
    await browser?.close();
    await plane?.close();
    await dir?.remove();
  });

  it('fits the history, a diff of long values and the rollback plan, and shows outcomes', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.addInitScript((token) => sessionStorage.setItem('baton.token', token), plane.token);
    const overflow = () =>
      page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await page.goto(`${plane.url}/revisions?from=1&to=2`);
    await page.locator('tr[data-revision="2"]').waitFor();
    await page.getByText(LONG_URL).waitFor();
    assert.ok((await overflow()) <= 0, `the diff scrolls sideways by ${await overflow()} px`);
    const outcome = await page.locator('tr[data-revision="1"] .outcome').textContent();
    assert.equal(outcome, 'Superseded', 'revision 1 never converged before revision 2 replaced it');
    await page.getByRole('button', { name: 'Roll back to #1…' }).click();
    await page.getByRole('dialog').waitFor();
    assert.ok((await overflow()) <= 0, `the rollback plan scrolls sideways by ${await overflow()} px`);
    await page.screenshot({ path: join(SHOTS, 'revisions-long-values-390.png'), fullPage: true });
  });
});

// The diff page in Debian's headless Chromium (driven by playwright-core): the standalone page that
// `virtnet diff --out` writes shows the headline, both overlay charts drawn, the tables with the
// regressed points marked, outside strings as text, and logs no errors.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRuns } from '../diff/diff.ts';
import { buildDiffFiles } from './standalone-diff.ts';
import { pointRecords, scaleThroughput, testManifest } from '../testing/diff-fixtures.ts';
import { CHROMIUM, chromiumMissing, requireService, skipNote } from '../testing/requirements.ts';

const missing = requireService('chromium', chromiumMissing());
const EVIL = '<img src=x onerror=alert(1)>';

describe.skipIf(missing !== null)(`diff page in headless Chromium${skipNote(missing)}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'virtnet-diff-page-'));
  let browser: Browser | null = null;

  beforeAll(async () => {
    const a = [100, 4100, 8100]
      .flatMap((v) => pointRecords('native', 'TCP_STREAM', v, [94.0, 94.1, 94.2]))
      .concat([50, 550].flatMap((v) => pointRecords('native', 'UDP_STREAM', v, [43, 43.1, 43.2])));
    const b = scaleThroughput(a, (r) => r.test === 'TCP_STREAM' && r.value !== 100, 0.8);
    const diff = diffRuns(
      { label: 'main', manifest: testManifest(), records: a },
      {
        label: `feature${EVIL}`,
        manifest: testManifest({ runId: 'b', link: { ...testManifest().link!, rateMbit: 1000 } }),
        records: b,
      },
    );
    for (const f of await buildDiffFiles(diff)) {
      mkdirSync(dirname(join(work, f.path)), { recursive: true });
      writeFileSync(join(work, f.path), f.content);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('shows the headline, the changed points, manifest differences, both charts and the marked tables, without errors', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.goto(`file://${join(work, 'index.html')}`);
    expect(await page.locator('h1').textContent()).toBe(`Diff: main → feature${EVIL}`);
    expect(await page.locator('.diff-headline').textContent()).toMatch(/^2 regressed, 0 improved, 3 unchanged/);
    expect(await page.locator('.diff-manifest-table tbody tr').count()).toBe(1);
    expect(await page.locator('.diff-manifest-table tbody tr td').nth(1).textContent()).toBe('link.rateMbit');
    // Two overlay charts, drawn with content, with the runs in their legends.
    const charts = page.locator('figure.chart svg');
    expect(await charts.count()).toBe(2);
    for (let i = 0; i < 2; i++) {
      const box = await charts.nth(i).boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(200);
      expect(await charts.nth(i).locator('path').count()).toBeGreaterThan(5);
    }
    expect(await charts.first().textContent()).toContain(`B: feature${EVIL}`);
    // The regressed points lead the page in their own table, and are marked again in their curve's table.
    expect(await page.locator('table.diff-changed-table td.verdict-regressed').count()).toBe(2);
    expect(await page.locator('table.diff-points td.verdict-regressed').count()).toBe(2);
    expect(await page.locator('table.diff-points tbody tr').count()).toBe(5);
    // The label with markup stayed text: no <img> was created and no script ran.
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});

// The history in headless Chromium: a site built from synthetic runs on two testbeds opens with the
// overview above the table of runs; an overview chart leads to its metric's history page, whose
// points lead to their runs' pages; a significant drop is marked; the filters hide what does not
// match. The site built from the committed runs (reports/runs) opens with the overview too.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { buildSite } from './build.ts';
import { syntheticRun, syntheticMean } from '../testing/synthetic.ts';
import { CHROMIUM, chromiumMissing, requireService, skipNote } from '../testing/requirements.ts';
import { serveDirectory } from '../testing/static-server.ts';
import { HEADLINE_METRICS } from '../analyse/headline.ts';

const missing = requireService('chromium', chromiumMissing());
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const COMMITTED = new URL('../../../reports/runs', import.meta.url).pathname;

function writeRun(dir: string, run: ReturnType<typeof syntheticRun>): string {
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(run.manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'results.jsonl'), run.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return dir;
}

async function openBrowser(): Promise<{ browser: BrowserContext; profile: string }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'virtnet-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    timeout: 60_000,
  });
  return { browser, profile };
}

describe.skipIf(missing !== null)(`history pages in headless Chromium${skipNote(missing)}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'virtnet-history-'));
  let server: Server | null = null;
  let url = '';
  const DROPPED = 'hist-embedded-4';

  beforeAll(async () => {
    const { plan } = loadPlan('quick', PLANS);
    const dirs: string[] = [];
    for (let i = 0; i < 6; i++) {
      for (const pair of [null, 'big'] as const) {
        const runId = `hist-${pair ?? 'embedded'}-${i}`;
        // Run 4 on the embedded testbed: native's TCP throughput 20% lower, a significant regression.
        const drop = runId === DROPPED;
        const run = syntheticRun({
          plan,
          environments: ['native', 'docker', 'docker-host'],
          replicates: 3,
          seed: 10 + i + (pair ? 100 : 0),
          runId,
          runnerPair: pair,
          createdAt: new Date(Date.UTC(2026, 0, 1 + i, pair ? 12 : 0)).toISOString(),
          mean: (env, point) =>
            syntheticMean(env === 'docker-host' ? 'native' : env, point, 'paper') *
            (pair ? 10 : 1) *
            (drop && env === 'native' && point.test === 'TCP_STREAM' ? 0.8 : 1),
        });
        dirs.push(writeRun(mkdtempSync(join(work, 'run-')), run));
      }
    }
    await buildSite(dirs, join(work, 'site'), { claims: loadClaims('paper', PLANS), svg: 'none' });
    ({ server, url } = await serveDirectory(join(work, 'site')));
  });

  afterAll(() => {
    server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it(
    'opens with the overview above the runs; a history point leads to its run; a drop is marked; filters hide other pairs',
    { timeout: 180_000 },
    async () => {
      const { browser, profile } = await openBrowser();
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        await page.goto(`${url}index.html`);
        const overview = await page.locator('#overview').boundingBox();
        const table = await page.locator('table#runs').boundingBox();
        expect(overview).not.toBeNull();
        expect(overview!.y + overview!.height).toBeLessThanOrEqual(table!.y);
        expect(await page.locator('#overview figure.overview-chart').count()).toBe(HEADLINE_METRICS.length);
        // The filter on the index: only runs of pair "big" stay in the table and the charts.
        await page.locator('#history-filters select[data-filter="pair"]').selectOption('big');
        expect(await page.locator('table#runs tr[data-run]:visible').count()).toBe(6);
        for (const id of await page
          .locator('table#runs tr[data-run]:visible')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run'))))
          expect(id).toMatch(/^hist-big-/);
        expect(await page.locator('#overview-tcp-mean g.series:visible').count()).toBe(3);
        // The filter is kept in the URL: a reload (or the link) opens the same filtered view.
        expect(new URL(page.url()).searchParams.get('pair')).toBe('big');
        await page.reload({ waitUntil: 'load' });
        expect(await page.locator('#history-filters select[data-filter="pair"]').inputValue()).toBe('big');
        expect(await page.locator('table#runs tr[data-run]:visible').count()).toBe(6);
        // The overview chart leads to its history page.
        await page.locator('#overview-tcp-mean a.overview-link').click();
        await page.waitForURL(/history\/tcp-mean\.html$/);
        // The drop shows as a regression mark on native at the dropped run, and as none elsewhere.
        expect(await page.locator(`polygon.mark-regressed[data-run="${DROPPED}"]`).count()).toBeGreaterThan(0);
        expect(await page.locator('g.series[data-env="docker"] polygon.mark').count()).toBe(0);
        // Filter by testbed on the history page, then click a point.
        await page
          .locator('#history-filters select[data-filter="testbed"]')
          .selectOption('embedded testbed, 100 Mbit/s, no added delay');
        expect(await page.locator('g.series[data-pair="big"]:visible').count()).toBe(0);
        expect(await page.locator('g.series:visible').count()).toBe(3);
        // docker-host, the last series drawn, is on top wherever points overlap.
        const target = 'hist-embedded-2';
        await page.locator(`g.series[data-env="docker-host"] a.point-link:has(circle[data-run="${target}"])`).click();
        await page.waitForURL(new RegExp(`runs/${target}/index\\.html$`));
        expect(await page.locator('h1').textContent()).toBe(`Run ${target}`);
        // Built without SVGs (svg 'none'): the run's charts are drawn in the browser from the specs in the page.
        await page.waitForSelector('.vega[data-rendered="true"] svg.marks', { timeout: 60_000 });
        expect(await page.locator('.vega img').count()).toBe(0);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
  );

  it('the site of the committed runs (reports/runs) opens with the overview', { timeout: 300_000 }, async () => {
    const dirs = readdirSync(COMMITTED)
      .sort()
      .map((name) => join(COMMITTED, name));
    expect(dirs.length).toBeGreaterThan(0);
    const site = join(work, 'committed-site');
    await buildSite(dirs, site, { claims: loadClaims('paper', PLANS), svg: 'none' });
    const index = readFileSync(join(site, 'index.html'), 'utf8');
    expect(index.indexOf('id="overview"')).toBeLessThan(index.indexOf('id="runs"'));
    const served = await serveDirectory(site);
    const { browser, profile } = await openBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${served.url}index.html`);
      const overview = await page.locator('#overview').boundingBox();
      const table = await page.locator('table#runs').boundingBox();
      expect(overview!.y).toBeLessThan(table!.y);
      expect(await page.locator('#overview-tcp-mean circle.point').count()).toBeGreaterThan(0);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
      served.server.close();
    }
  });
});

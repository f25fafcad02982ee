// End to end: build the site from runs, serve it on 127.0.0.1, open it in Debian's headless
// Chromium (driven by playwright-core), and check every chart renders, the claims table is there,
// outside strings are escaped and the pages log no errors.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../plan/plan-file.ts';
import { loadClaims } from '../analyse/claims/file.ts';
import { buildSite } from './build.ts';
import { syntheticRun } from '../testing/synthetic.ts';

import { CHROMIUM, chromiumMissing, requireService, skipNote } from '../testing/requirements.ts';
import { serveDirectory } from '../testing/static-server.ts';

// With CI=true a missing Chromium fails this file instead of skipping it (testing/requirements.ts).
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
const EVIL = '<img src=x onerror=alert(1)>';
const VEGA_EMBED_VERSION = (
  JSON.parse(readFileSync(new URL('../../../node_modules/vega-embed/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

function writeRun(dir: string, run: ReturnType<typeof syntheticRun>): string {
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(run.manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'results.jsonl'), run.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return dir;
}

describe.skipIf(missing !== null)(`site in headless Chromium${skipNote(missing)}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'virtnet-site-'));
  const site = join(work, 'site');
  let server: Server | null = null;
  let url = '';
  let runIds: string[] = [];
  let chartCounts: number[] = [];

  beforeAll(async () => {
    const { plan } = loadPlan('paper', PLANS);
    const full = syntheticRun({
      plan,
      environments: ['native', 'docker', 'kvm', 'osv'],
      replicates: 3,
      seed: 3,
      accelerator: 'tcg',
      runId: 'synthetic-tcg',
      gitSubject: EVIL,
      hostname: `host${EVIL}`,
    });
    const nativeOnly = syntheticRun({
      plan,
      environments: ['native'],
      replicates: 2,
      seed: 4,
      runId: 'synthetic-native',
      createdAt: '2026-01-02T00:00:00.000Z',
      profile: 'flat',
    });
    const dirs = [writeRun(mkdtempSync(join(work, 'a')), full), writeRun(mkdtempSync(join(work, 'b')), nativeOnly)];
    const result = await buildSite(dirs, site, {
      claims: loadClaims('paper', PLANS),
      command: ['virtnet', 'report', ...dirs, '--site', site],
    });
    runIds = result.runs.map((r) => r.runId);
    chartCounts = result.runs.map((r) => (readFileSync(r.pagePath, 'utf8').match(/class="vega"/g) ?? []).length);
    ({ server, url } = await serveDirectory(site));
  });

  afterAll(() => {
    server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  // Generous timeouts: vega draws a dozen charts per page, slowly on a busy 2-core runner.
  it('renders every chart, the claims table, escaped strings and no console errors', { timeout: 300_000 }, async () => {
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'virtnet-chromium-'));
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: FLAGS,
      headless: true,
      timeout: 60_000,
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const dialogs: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      page.on('request', (r) => {
        if (!r.url().startsWith(url)) errors.push(`request outside the site: ${r.url()}`);
      });

      await page.goto(url, { waitUntil: 'load' });
      expect(await page.locator('#runs tbody tr').count()).toBe(2);
      // The stylesheet is the site's own file, applied (header background from site.css).
      expect(await page.locator('header').evaluate((h) => getComputedStyle(h).backgroundColor)).toBe('rgb(34, 34, 34)');
      // The commit subject is shown as text, not as an element.
      expect(await page.locator('#runs').innerText()).toContain(EVIL);
      expect(await page.locator('#runs img').count()).toBe(0);
      expect(await page.locator('.tcg').count()).toBe(1);

      for (const [i, runId] of runIds.entries()) {
        await page.goto(`${url}runs/${runId}/index.html`, { waitUntil: 'load' });
        const expected = chartCounts[i]!;
        expect(expected).toBeGreaterThan(5);
        await page.waitForFunction((n) => document.querySelectorAll('.vega[data-rendered]').length === n, expected, {
          timeout: 90_000,
        });
        expect(await page.locator('.vega[data-rendered="true"]').count()).toBe(expected);
        // vega-embed drew an svg in every chart (the fallback <img> is gone).
        expect(await page.locator('.vega svg.marks').count()).toBe(expected);
        expect(await page.locator('.vega img').count()).toBe(0);
        const claims = page.locator('#claims tbody tr');
        expect(await claims.count()).toBeGreaterThanOrEqual(7);
        // The verdict strip comes before the figures, the claims' evidence after them.
        const order = await page.evaluate(() => {
          const strip = document.getElementById('verdicts');
          const claims = document.getElementById('claims');
          const figure = document.querySelector('figure.chart');
          if (!strip || !claims || !figure) return false;
          return (
            Boolean(strip.compareDocumentPosition(figure) & Node.DOCUMENT_POSITION_FOLLOWING) &&
            Boolean(figure.compareDocumentPosition(claims) & Node.DOCUMENT_POSITION_FOLLOWING)
          );
        });
        expect(order).toBe(true);
        // The vega-embed the page runs is the one of the vega-embed dependency.
        expect(
          await page.evaluate(() => (window as unknown as { vegaEmbed: { version: string } }).vegaEmbed.version),
        ).toBe(VEGA_EMBED_VERSION);
        if (runId === 'synthetic-tcg') {
          expect(await page.locator('.banner').innerText()).toContain('TCG');
          expect(await page.locator('main').innerText()).toContain(EVIL);
          expect(await page.locator('main img').count()).toBe(0);
          expect(await page.locator('#table2-hardware').innerText()).toContain(`host${EVIL}`);
          // The claims table is collapsed (<details>): its text is there, not rendered.
          expect(await page.locator('#claims').textContent()).toContain('supported');
        } else {
          expect(await page.locator('.banner').count()).toBe(0);
          expect(await page.locator('#claims').textContent()).toContain('inconclusive');
        }
      }
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it(
    'opens the diff from the index\'s "compare with previous": overlay charts drawn, tables there; the picker finds or names pairs',
    { timeout: 300_000 },
    async () => {
      const { chromium } = await import('playwright-core');
      const profile = mkdtempSync(join(tmpdir(), 'virtnet-chromium-'));
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: FLAGS,
        headless: true,
        timeout: 60_000,
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('dialog', (d) => {
          errors.push(`dialog: ${d.message()}`);
          void d.dismiss();
        });
        page.on('request', (r) => {
          if (!r.url().startsWith(url)) errors.push(`request outside the site: ${r.url()}`);
        });

        await page.goto(url, { waitUntil: 'load' });
        // The newer run (native only, same plan) compares with the older one; the oldest has no previous.
        const links = page.locator('#runs a', { hasText: 'compare with previous' });
        expect(await links.count()).toBe(1);
        expect(await page.locator('#runs tr[data-run="synthetic-native"] .compare a').textContent()).toBe(
          'compare with previous',
        );
        await Promise.all([
          page.waitForURL(/diffs\/synthetic-tcg--synthetic-native\/index\.html$/),
          links.first().click(),
        ]);
        // An overlay per environment and test both runs have: native TCP and UDP. The other three
        // environments are in A only: a section each per test says so instead of a one-run chart.
        const charts = page.locator('.vega[data-chart]');
        expect(await charts.count()).toBe(2);
        await page.waitForFunction(() => document.querySelectorAll('.vega[data-rendered]').length === 2, undefined, {
          timeout: 90_000,
        });
        expect(await page.locator('.vega[data-rendered="true"]').count()).toBe(2);
        expect(await page.locator('.vega svg.marks').count()).toBe(2);
        expect(await page.locator('section.diff-one-sided').count()).toBe(6);
        expect(await page.locator('section.diff-one-sided h2').first().textContent()).toMatch(/: only in A$/);
        const native = page.locator('.vega[data-chart="diff-native-tcp-stream"] svg.marks');
        const box = await native.boundingBox();
        expect(box!.width).toBeGreaterThan(300);
        expect(await native.textContent()).toContain('A: synthetic-tcg');
        expect(await native.textContent()).toContain('B: synthetic-native');
        // The tables: runs, manifest differences, the points of every common curve, claims that changed.
        expect(await page.locator('h1').textContent()).toBe('Diff: synthetic-tcg → synthetic-native');
        expect(await page.locator('table.diff-runs tbody tr').count()).toBe(2);
        expect(await page.locator('table.diff-manifest-table tbody tr').count()).toBeGreaterThan(0);
        // Native is in both runs: its three curves (TCP from-100 and from-300, UDP) have point tables.
        expect(await page.locator('table.diff-points').count()).toBe(3);
        expect(await page.locator('.diff-claims').textContent()).toMatch(/Claims whose verdict changed/);
        expect(await page.locator('table.diff-claims-table tbody tr').count()).toBeGreaterThan(0);
        // The hostname with markup differs between the runs: shown as text in the manifest differences.
        // Collapsed (<details>): the text is there as text, not rendered until opened.
        expect(await page.locator('table.diff-manifest-table').textContent()).toContain(`host${EVIL}`);
        expect(await page.locator('main img').count()).toBe(0);
        expect(await page.locator('.banner').innerText()).toContain('TCG');

        // The picker: a built pair navigates, a missing one prints the command that builds it.
        await page.goto(`${url}compare.html`, { waitUntil: 'load' });
        await page.selectOption('#pick-a', 'synthetic-native');
        await page.selectOption('#pick-b', 'synthetic-tcg');
        await page.click('#diff-picker button');
        expect(await page.locator('#picker-result code').textContent()).toMatch(
          /^virtnet report \S+ \S+ --site \S+ --diff synthetic-native:synthetic-tcg$/,
        );
        expect(await page.locator('#picker-result a').textContent()).toContain('reverse diff');
        await page.selectOption('#pick-a', 'synthetic-tcg');
        await page.selectOption('#pick-b', 'synthetic-native');
        await Promise.all([
          page.waitForURL(/diffs\/synthetic-tcg--synthetic-native\/index\.html$/),
          page.click('#diff-picker button'),
        ]);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
  );
});

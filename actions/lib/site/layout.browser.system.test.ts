// Every page of the site built from the committed runs (reports/runs), in headless Chromium at a
// desktop width (1400 px) and a phone's (390 px): nothing widens the page (wide tables and charts
// scroll in their own box), and at 1400 px a run page shows its verdict strip and its first figure
// above the fold. The pages measured are the site's own: index, run pages, diffs, history, pairs,
// the picker.

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { loadClaims } from '../analyse/claims/file.ts';
import { buildSite } from './build.ts';
import { CHROMIUM, chromiumMissing, requireService, skipNote } from '../testing/requirements.ts';
import { serveDirectory } from '../testing/static-server.ts';

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
/** A laptop's viewport height: what "above the fold" means here. */
const FOLD = 900;
const WIDTHS = [1400, 390] as const;

/** The site's HTML pages, relative to its root (the runs' chart and data folders hold none). */
function pagesOf(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.html')) out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

interface Layout {
  /** The document's scroll width and the viewport's width: equal when nothing overflows. */
  scrollWidth: number;
  clientWidth: number;
  /** What sticks out past the right edge (tag.class), for the failure message. */
  wide: string[];
  strip: number | null;
  figure: number | null;
  figureWidth: number | null;
}

async function layoutOf(page: Page): Promise<Layout> {
  // Charts are drawn by vega-embed after load: wait until each has its SVG (or its fallback).
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll('.vega[data-chart]')).every((n) => n.hasAttribute('data-rendered')),
    undefined,
    { timeout: 120_000 },
  );
  return page.evaluate(() => {
    const doc = document.documentElement;
    const top = (el: Element | null) => (el ? Math.round(el.getBoundingClientRect().top + window.scrollY) : null);
    const wide = Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 1 && !el.closest('.scroll, .vega'))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    const figure = document.querySelector('figure.chart');
    return {
      scrollWidth: doc.scrollWidth,
      clientWidth: doc.clientWidth,
      wide,
      strip: top(document.getElementById('verdicts')),
      figure: top(figure),
      figureWidth: figure ? Math.round(figure.getBoundingClientRect().width) : null,
    };
  });
}

describe.skipIf(missing !== null)(`site layout at 1400 and 390 px in headless Chromium${skipNote(missing)}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'virtnet-layout-'));
  const site = join(work, 'site');
  let server: Server | null = null;
  let url = '';
  let pages: string[] = [];
  let browser: BrowserContext | null = null;
  let profile = '';

  beforeAll(async () => {
    const runs = readdirSync(COMMITTED).map((id) => join(COMMITTED, id));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    await buildSite(runs, site, { claims: loadClaims('paper', PLANS) });
    pages = pagesOf(site);
    ({ server, url } = await serveDirectory(site));
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'virtnet-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: FLAGS,
      headless: true,
      timeout: 60_000,
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    rmSync(work, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('builds every kind of page from the committed runs', () => {
    for (const kind of [
      /^index\.html$/,
      /^runs\/[^/]+\/index\.html$/,
      /^diffs\/[^/]+\/index\.html$/,
      /^history\/[^/]+\.html$/,
      /^pairs\.html$/,
      /^compare\.html$/,
      /^regressions\.html$/,
    ]) {
      expect(
        pages.some((p) => kind.test(p)),
        String(kind),
      ).toBe(true);
    }
  });

  for (const width of WIDTHS) {
    it(
      `at ${width} px no page is wider than the window${width === 1400 ? '; a run page shows its verdicts and first figure above the fold' : ''}`,
      { timeout: 600_000 },
      async () => {
        const page = await browser!.newPage();
        await page.setViewportSize({ width, height: FOLD });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        try {
          for (const path of pages) {
            await page.goto(`${url}${path}`, { waitUntil: 'load' });
            const l = await layoutOf(page);
            expect(l.scrollWidth, `${path} at ${width} px: ${l.wide.join(', ')}`).toBeLessThanOrEqual(l.clientWidth);
            if (!path.startsWith('runs/')) continue;
            expect(l.strip, path).not.toBeNull();
            expect(l.strip!, path).toBeLessThan(l.figure!);
            // The figure takes the column's width, not a fixed 560 px plot in a wide column.
            expect(l.figureWidth!, path).toBeGreaterThan(Math.min(width, 1100) - 80);
            if (width === 1400) expect(l.figure!, `${path}: first figure at y = ${l.figure}`).toBeLessThan(FOLD - 200);
          }
        } finally {
          await page.close();
        }
        expect(errors).toEqual([]);
      },
    );
  }
});

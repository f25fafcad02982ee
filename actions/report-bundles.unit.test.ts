// The two bundled actions that write pages, run as the runner runs them (node dist/index.js), on
// synthetic runs: no testbed, no root. They must find the site's stylesheet and script beside the
// bundle (dist/assets/, copied by scripts/build-actions.ts) and the vega browser builds in the
// vega, vega-lite and vega-embed packages, and they must cope with environments named after
// Object.prototype's properties.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan } from './lib/plan/plan-file.ts';
import { SITE_ASSET_NAMES, siteAsset } from './lib/site/assets.ts';
import { assetSources } from './lib/site/build.ts';
import { syntheticRun } from './lib/testing/synthetic.ts';
import { runAction } from './lib/testing/run-action.ts';

const REPO = join(import.meta.dirname, '..');
const dist = (action: string) => join(REPO, 'actions', action, 'dist', 'index.js');
const PROTO_NAMES = ['constructor', 'toString', 'hasOwnProperty'];

describe('the bundled render-report and diff-results', () => {
  const temp = mkdtempSync(join(tmpdir(), 'virtnet-bundles-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));
  const { plan } = loadPlan('quick', join(REPO, 'env', 'plans'));
  const runs = join(temp, 'artifacts');
  const write = (name: string, run: ReturnType<typeof syntheticRun>) => {
    const dir = join(runs, name, 'run');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(run.manifest, null, 2)}\n`);
    writeFileSync(join(dir, 'results.jsonl'), run.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    return dir;
  };
  const a = write(
    'a',
    syntheticRun({ plan, environments: ['native', ...PROTO_NAMES], replicates: 2, seed: 1, runId: 'bundle-a' }),
  );
  const b = write(
    'b',
    syntheticRun({
      plan,
      environments: ['native', ...PROTO_NAMES],
      replicates: 2,
      seed: 2,
      runId: 'bundle-b',
      createdAt: '2026-01-02T00:00:00.000Z',
    }),
  );

  it(
    'render-report builds the site with its own assets and the vega builds, environments named constructor, toString, hasOwnProperty included',
    { timeout: 240_000 },
    async () => {
      const site = join(temp, 'site');
      const r = await runAction(dist('render-report'), {
        inputs: { runs, 'reports-dir': join(temp, 'reports'), 'site-dir': site },
        workspace: REPO,
        runnerTemp: temp,
        timeoutMs: 200_000,
      });
      expect(r.stdout, r.stderr).not.toMatch(/::error::/);
      expect(r.exitCode).toBe(0);
      for (const name of SITE_ASSET_NAMES)
        expect(readFileSync(join(site, 'assets', name)).equals(siteAsset(name)), name).toBe(true);
      for (const [name, source] of Object.entries(assetSources()))
        expect(readFileSync(join(site, 'assets', name)).equals(readFileSync(source)), name).toBe(true);
      const page = readFileSync(join(site, 'runs', 'bundle-b', 'index.html'), 'utf8');
      for (const env of PROTO_NAMES) expect(page).toContain(`<th scope="row">${env}</th>`);
      // A chart per figure, drawn for every environment: the fallback colours, not Object.prototype's members.
      const svg = readFileSync(join(site, 'runs', 'bundle-b', 'charts', 'fig4a-tcp-absolute-from-100.svg'), 'utf8');
      for (const env of PROTO_NAMES) expect(svg).toContain(env);
      expect(existsSync(join(site, 'diffs', 'bundle-a--bundle-b', 'charts', 'diff-constructor-tcp-stream.svg'))).toBe(
        true,
      );
      expect(r.summary).toContain('| point | native | constructor | toString | hasOwnProperty |');
    },
  );

  it('diff-results writes its standalone page with the site stylesheet inlined', { timeout: 120_000 }, async () => {
    const pageDir = join(temp, 'diff-page');
    const r = await runAction(dist('diff-results'), {
      inputs: { baseline: a, current: b, 'page-dir': pageDir },
      workspace: REPO,
      runnerTemp: temp,
      timeoutMs: 100_000,
    });
    expect(r.stdout, r.stderr).not.toMatch(/::error::/);
    expect(r.exitCode).toBe(0);
    const page = readFileSync(join(pageDir, 'index.html'), 'utf8');
    expect(page).toContain(`<style>${siteAsset('site.css').toString('utf8')}</style>`);
    expect(page).toContain('<h2>constructor, TCP_STREAM: A vs B</h2>');
    expect(r.summary).toContain('hasOwnProperty');
  });
});

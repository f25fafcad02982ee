import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../plan/plan-file.ts';
import { assetSources, buildSite } from './build.ts';
import { commitRun } from '../report/report-files.ts';
import { renderSvg } from '../report/render.ts';
import { escapeHtml, html, scriptJson } from '../core/html.ts';
import { indexEntry, indexPage, renderPage, runPage, type SitePage } from './site.ts';
import { runCharts } from '../report/report.ts';
import { analyseRun } from '../analyse/run.ts';
import { checkRunId, fileNamePart } from '../core/file-names.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import { judgeClaims } from '../analyse/claims/judge.ts';
import { loadClaims } from '../analyse/claims/file.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const CLAIMS = loadClaims('paper', PLANS);
const EVIL = '<img src=x onerror=alert(1)>';
const work = mkdtempSync(join(tmpdir(), 'virtnet-site-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writeRun(name: string, run: ReturnType<typeof syntheticRun>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(run.manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'results.jsonl'), run.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return dir;
}

function snapshot(dir: string): Map<string, { bytes: string; mtime: number }> {
  const out = new Map<string, { bytes: string; mtime: number }>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.set(relative(dir, p), { bytes: readFileSync(p, 'latin1'), mtime: st.mtimeMs });
    }
  };
  walk(dir);
  return out;
}

describe('escaping', () => {
  it('escapes every HTML metacharacter and keeps specs inside their script element', () => {
    expect(escapeHtml(`${EVIL}"'&`)).toBe('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    expect(scriptJson({ t: '</script><script>alert(1)</script>' })).not.toContain('</script>');
    expect(JSON.parse(scriptJson({ t: '</script>' }))).toEqual({ t: '</script>' });
  });
  it('refuses run ids that could leave the site directory', () => {
    expect(() => checkRunId('../../etc')).toThrow(/cannot name a site directory/);
    expect(checkRunId('20261127T000436-2de68f')).toBe('20261127T000436-2de68f');
  });
  it('renders outside strings in the index as text', () => {
    const { plan } = loadPlan('quick', PLANS);
    const run = syntheticRun({ plan, environments: ['native'], replicates: 2, gitSubject: EVIL, hostname: EVIL });
    run.manifest.plan = { ...run.manifest.plan, name: EVIL };
    const entry = indexEntry(run.manifest, judgeClaims({ records: run.records }, CLAIMS), ['native']);
    entry.compareLinks = [{ href: 'diffs/a.html', text: 'compare with previous' }];
    const html = renderPage(indexPage([entry]));
    expect(html).not.toContain(EVIL);
    expect(html).toContain(escapeHtml(EVIL));
    expect(html).toContain('<td class="compare"><a href="diffs/a.html">compare with previous</a></td>');
  });
});

describe('browser assets', () => {
  it('vega, vega-lite and vega-embed come from runtime dependencies (a site builds under npm ci --omit=dev)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const sources = assetSources();
    expect(Object.keys(sources).sort()).toEqual(['vega-embed.min.js', 'vega-lite.min.js', 'vega.min.js']);
    for (const [file, path] of Object.entries(sources)) {
      const name = file.replace(/\.min\.js$/, '');
      expect(Object.hasOwn(pkg.dependencies, name), `${name} in dependencies`).toBe(true);
      expect(Object.hasOwn(pkg.devDependencies, name), `${name} not in devDependencies`).toBe(false);
      expect(path).toContain(`node_modules/${name}/build/${file}`);
    }
  });
});

describe('hostile plan values on a run page', () => {
  it("escapes the manifest's plan.replicates and plan.testLengthSeconds (issue 14, item 1: they were put in raw)", () => {
    const { plan } = loadPlan('quick', PLANS);
    const run = syntheticRun({ plan, environments: ['native'], replicates: 1 });
    run.manifest.plan = {
      ...run.manifest.plan,
      replicates: `<img src=x onerror=alert(8)>` as never,
      testLengthSeconds: `"><svg onload=alert(9)>` as never,
    };
    const analysis = analyseRun(run.manifest, run.records, CLAIMS);
    const page = renderPage(runPage({ manifest: run.manifest, analysis, charts: runCharts(run.manifest, analysis) }));
    expect(page).not.toMatch(/<img src=x|<svg onload/);
    expect(page).toContain(
      '&lt;img src=x onerror=alert(8)&gt; replicates, &quot;&gt;&lt;svg onload=alert(9)&gt; s per test',
    );
  });

  it('names chart files from a series safely, whatever the series (issue 14, item 2)', () => {
    const { plan } = loadPlan('quick', PLANS);
    const series = 'x/../../../../elsewhere/TRAVERSED';
    const hostilePlan = { ...plan, sweeps: plan.sweeps.map((s) => (s.test === 'TCP_STREAM' ? { ...s, series } : s)) };
    const run = syntheticRun({ plan: hostilePlan, environments: ['native'], replicates: 1 });
    const analysis = analyseRun(run.manifest, run.records, CLAIMS);
    const ids = runCharts(run.manifest, analysis).map((c) => c.id);
    expect(ids).toContain(`fig4a-tcp-absolute-${fileNamePart(series)}`);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('buildSite', () => {
  const { plan } = loadPlan('quick', PLANS);
  const a = writeRun(
    'a',
    syntheticRun({
      plan,
      environments: ['native', 'docker'],
      replicates: 2,
      seed: 1,
      runId: 'run-a',
      gitSubject: EVIL,
    }),
  );
  const b = writeRun(
    'b',
    syntheticRun({
      plan,
      environments: ['native', 'kvm'],
      replicates: 2,
      seed: 2,
      runId: 'run-b',
      accelerator: 'tcg',
      createdAt: '2026-02-01T00:00:00.000Z',
    }),
  );

  it('is deterministic: a rebuild writes nothing, and a fresh build gives the same bytes', async () => {
    const site1 = join(work, 'site1');
    const extra: SitePage = {
      path: 'diffs/run-a-run-b.html',
      title: `Diff ${EVIL}`,
      banner: null,
      body: html`<p>diff</p>`,
      charts: [],
    };
    const compareLinks = new Map([['run-b', [{ href: 'diffs/run-a-run-b.html', text: 'compare with previous' }]]]);
    const first = await buildSite([a, b], site1, { claims: CLAIMS, workers: 2, extraPages: [extra], compareLinks });
    expect(first.rendered).toBeGreaterThan(0);
    const before = snapshot(site1);
    const again = await buildSite([b, a], site1, { claims: CLAIMS, extraPages: [extra], compareLinks });
    expect(again.written).toBe(0);
    expect(again.rendered).toBe(0);
    expect(snapshot(site1)).toEqual(before);
    const site2 = join(work, 'site2');
    // In-process rendering this time (site1 used the worker pool): the same bytes either way.
    await buildSite([b, a], site2, { claims: CLAIMS, workers: 1, extraPages: [extra], compareLinks });
    const s2 = snapshot(site2);
    expect([...s2.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [k, v] of before) expect(s2.get(k)!.bytes, k).toBe(v.bytes);
    // Index: newest first, compare links in their column, the extra page written.
    const index = readFileSync(join(site1, 'index.html'), 'utf8');
    // The history overview first, then the table of runs, newest first.
    expect(index.indexOf('id="overview"')).toBeGreaterThan(-1);
    expect(index.indexOf('id="overview"')).toBeLessThan(index.indexOf('id="runs"'));
    const table = index.slice(index.indexOf('id="runs"'));
    expect(table.indexOf('run-b')).toBeLessThan(table.indexOf('run-a'));
    expect(index).toContain('compare with previous');
    expect(readFileSync(join(site1, 'diffs/run-a-run-b.html'), 'utf8')).toContain('../assets/site.css');
    // The run page: findings first (the verdict strip, then the figures, then the claims' evidence, collapsed),
    // TCG banner, raw data beside it, a spec beside every SVG.
    const page = readFileSync(join(site1, 'runs/run-b/index.html'), 'utf8');
    expect(page.indexOf('class="verdict-strip"')).toBeGreaterThan(-1);
    expect(page.indexOf('class="verdict-strip"')).toBeLessThan(page.indexOf('class="chart"'));
    expect(page.indexOf('class="chart"')).toBeLessThan(page.indexOf('id="claims"'));
    expect(page.slice(page.indexOf('<details class="evidence">'))).toContain('id="claims"');
    expect(page).toContain('class="banner"');
    for (const f of ['results.jsonl', 'manifest.json', 'points.csv']) expect(before.has(`runs/run-b/${f}`)).toBe(true);
    const charts = [...before.keys()].filter((k) => k.startsWith('runs/run-b/charts/') && k.endsWith('.svg'));
    expect(charts.length).toBeGreaterThan(3);
    for (const svg of charts) expect(before.has(svg.replace(/\.svg$/, '.vl.json'))).toBe(true);
    for (const svg of charts) expect(before.get(svg)!.bytes).toMatch(/^<svg/);
    expect(readFileSync(join(site1, 'runs/run-a/index.html'), 'utf8')).not.toContain(EVIL);
  });

  it("incremental: only a changed or added run is built again, with its diff and its previous run's page; a results file linked inside its run is followed", async () => {
    const site = join(work, 'site-incremental');
    const one = writeRun(
      'inc-1',
      syntheticRun({ plan, environments: ['native'], replicates: 2, seed: 11, runId: 'inc-1' }),
    );
    const two = writeRun(
      'inc-2',
      syntheticRun({
        plan,
        environments: ['native'],
        replicates: 2,
        seed: 12,
        runId: 'inc-2',
        createdAt: '2026-01-02T00:00:00.000Z',
      }),
    );
    const first = await buildSite([one, two], site, { claims: CLAIMS, svg: 'none' });
    expect([first.runsBuilt, first.diffsBuilt]).toEqual([2, 1]);
    const same = await buildSite([one, two], site, { claims: CLAIMS, svg: 'none' });
    expect([same.runsBuilt, same.diffsBuilt, same.written]).toEqual([0, 0, 0]);
    const three = writeRun(
      'inc-3',
      syntheticRun({
        plan,
        environments: ['native'],
        replicates: 2,
        seed: 13,
        runId: 'inc-3',
        createdAt: '2026-01-03T00:00:00.000Z',
      }),
    );
    const added = await buildSite([one, two, three], site, { claims: CLAIMS, svg: 'none' });
    // inc-3 and inc-2 (its page now links the new diff); the diff inc-2 -> inc-3.
    expect([added.runsBuilt, added.diffsBuilt]).toEqual([2, 1]);
    expect(readFileSync(join(site, 'runs/inc-2/index.html'), 'utf8')).toContain('as the previous run of inc-3');
    // The results replaced by a link to another file inside the run: followed, and its content is the key.
    const other = syntheticRun({
      plan,
      environments: ['native'],
      replicates: 2,
      seed: 99,
      runId: 'inc-3',
      createdAt: '2026-01-03T00:00:00.000Z',
    });
    writeFileSync(join(three, 'other.jsonl'), other.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    rmSync(join(three, 'results.jsonl'));
    symlinkSync('other.jsonl', join(three, 'results.jsonl'));
    const linked = await buildSite([one, two, three], site, { claims: CLAIMS, svg: 'none' });
    expect([linked.runsBuilt, linked.diffsBuilt]).toEqual([1, 1]);
    writeFileSync(
      join(three, 'other.jsonl'),
      syntheticRun({ plan, environments: ['native'], replicates: 2, seed: 100, runId: 'inc-3' })
        .records.map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    );
    const relinked = await buildSite([one, two, three], site, { claims: CLAIMS, svg: 'none' });
    expect([relinked.runsBuilt, relinked.diffsBuilt]).toEqual([1, 1]);
  });

  it('commitRun copies a run with its report into reports/runs/<runId>/, every SVG drawn again (never taken from a directory)', async () => {
    const reports = join(work, 'reports');
    const first = await commitRun(a, reports, CLAIMS);
    expect(first.dir).toBe(join(reports, 'runs', 'run-a'));
    const files = snapshot(first.dir);
    for (const f of ['manifest.json', 'results.jsonl', 'points.csv', 'claims.md', 'tables.md', 'analysis.json'])
      expect(files.has(f), f).toBe(true);
    const specs = [...files.keys()].filter((k) => /^charts\/.*\.vl\.json$/.test(k));
    expect(specs.length).toBeGreaterThan(0);
    // Drawn again, to the same bytes: nothing changes.
    let drawn = 0;
    const again = await commitRun(a, reports, CLAIMS, async (spec) => {
      drawn++;
      return renderSvg(spec);
    });
    expect(again.changed).toBe(0);
    expect(drawn).toBe(specs.length);
    // The site builds from the committed copy alone, drawing its SVGs itself.
    const site = await buildSite([first.dir], join(work, 'site3'), { claims: CLAIMS, render: renderSvg });
    expect(site.rendered).toBe(specs.length);
  });
});

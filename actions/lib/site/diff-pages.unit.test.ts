import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClaims } from '../analyse/claims/file.ts';
import { judgeClaims } from '../analyse/claims/judge.ts';
import { diffRuns } from '../diff/diff.ts';
import { loadPlan } from '../plan/plan-file.ts';
import { buildSite } from './build.ts';
import {
  compareLinksFor,
  diffPagePath,
  diffSitePage,
  parseDiffPairs,
  pickerPage,
  previousRunPairs,
  runDiffLinks,
  shellWord,
  sitePairs,
} from './diff-pages.ts';
import { escapeHtml } from '../core/html.ts';
import { renderPage } from './site.ts';
import { syntheticRun } from '../testing/synthetic.ts';

const PLANS = new URL('../../../env/plans', import.meta.url).pathname;
const EVIL = '<img src=x onerror=alert(1)>';
const run = (runId: string, createdAt: string, plan = 'quick') => ({ runId, createdAt, plan });

describe('pairing', () => {
  it('pairs each run with the previous run of its plan, else the previous run, whatever the input order', () => {
    const runs = [
      run('d', '2026-01-04', 'paper'),
      run('a', '2026-01-01'),
      run('c', '2026-01-03'),
      run('b', '2026-01-02', 'paper'),
      run('e', '2026-01-05'),
    ];
    const pairs = previousRunPairs(runs);
    expect(pairs).toEqual([
      { a: 'a', b: 'b', kind: 'previous' },
      { a: 'a', b: 'c', kind: 'previous-same-plan' },
      { a: 'b', b: 'd', kind: 'previous-same-plan' },
      { a: 'c', b: 'e', kind: 'previous-same-plan' },
    ]);
    expect(previousRunPairs([...runs].reverse())).toEqual(pairs);
    expect(previousRunPairs([run('only', '2026-01-01')])).toEqual([]);
    // Equal times: ordered by run id.
    expect(previousRunPairs([run('y', '2026-01-01'), run('x', '2026-01-01')])).toEqual([
      { a: 'x', b: 'y', kind: 'previous-same-plan' },
    ]);
  });

  it('parses --diff A:B and names what is wrong', () => {
    expect(parseDiffPairs(['a:b'], ['a', 'b'])).toEqual([{ a: 'a', b: 'b', kind: 'requested' }]);
    expect(() => parseDiffPairs(['a-b'], ['a', 'b'])).toThrow(/^diff: "a-b": expected A:B/);
    expect(() => parseDiffPairs(['a:b:c'], ['a', 'b'])).toThrow(/expected A:B/);
    expect(() => parseDiffPairs(['a:z'], ['a', 'b'])).toThrow(/no run with id "z" among the runs given \(a, b\)/);
    expect(() => parseDiffPairs(['a:a'], ['a'])).toThrow(/A and B are the same run/);
  });

  it('merges requested pairs without duplicates and refuses ambiguous directories', () => {
    const runs = [run('a', '2026-01-01'), run('b', '2026-01-02')];
    expect(sitePairs(runs, parseDiffPairs(['a:b', 'b:a'], ['a', 'b']))).toEqual([
      { a: 'b', b: 'a', kind: 'requested' },
      { a: 'a', b: 'b', kind: 'previous-same-plan' },
    ]);
    const odd = [run('x--y', '2026-01-01'), run('z', '2026-01-02'), run('x', '2026-01-03'), run('y--z', '2026-01-04')];
    expect(() =>
      sitePairs(odd, [
        { a: 'x--y', b: 'z', kind: 'requested' },
        { a: 'x', b: 'y--z', kind: 'requested' },
      ]),
    ).toThrow(/would share the directory diffs\/x--y--z/);
    expect(() => diffPagePath('../x', 'y')).toThrow(/cannot name a site directory/);
  });

  it('links the index and both run pages to each diff', () => {
    const pairs = [
      { a: 'a', b: 'b', kind: 'previous-same-plan' as const },
      { a: 'b', b: 'c', kind: 'previous' as const },
      { a: 'a', b: 'c', kind: 'requested' as const },
    ];
    expect(compareLinksFor(pairs)).toEqual(
      new Map([
        ['b', [{ href: 'diffs/a--b/index.html', text: 'compare with previous' }]],
        ['c', [{ href: 'diffs/b--c/index.html', text: 'compare with previous (other plan)' }]],
      ]),
    );
    // Run ids that are names of Object.prototype's properties are ordinary keys.
    const proto = [
      { a: 'toString', b: 'constructor', kind: 'previous-same-plan' as const },
      { a: 'constructor', b: 'hasOwnProperty', kind: 'previous' as const },
    ];
    expect([...compareLinksFor(proto).keys()]).toEqual(['constructor', 'hasOwnProperty']);
    expect(runDiffLinks('b', pairs).map((l) => l.href)).toEqual([
      '../../diffs/a--b/index.html',
      '../../diffs/b--c/index.html',
    ]);
    expect(runDiffLinks('a', pairs).map((l) => l.text)).toEqual([
      'as the previous run of b (this run is A)',
      'as the baseline of c (this run is A)',
    ]);
  });
});

describe('pages', () => {
  const { plan } = loadPlan('quick', PLANS);
  const envs = ['native', 'docker', 'kvm', 'osv'];
  const paper = syntheticRun({ plan, environments: envs, replicates: 3, seed: 1, runId: 'run-a', accelerator: 'tcg' });
  const flat = syntheticRun({
    plan,
    environments: envs,
    replicates: 3,
    seed: 2,
    runId: 'run-b',
    profile: 'flat',
    createdAt: '2026-01-02T00:00:00.000Z',
    gitSubject: EVIL,
  });

  it('the diff page: interactive charts with SVG fallbacks, the tables, the claims that flipped, escaped strings', () => {
    const verdicts = (r: typeof paper) =>
      judgeClaims({ manifest: r.manifest, records: r.records }, loadClaims('paper', PLANS));
    const diff = diffRuns(
      { label: `a${EVIL}`, manifest: paper.manifest, records: paper.records, verdicts: verdicts(paper) },
      { label: 'run-b', manifest: flat.manifest, records: flat.records, verdicts: verdicts(flat) },
    );
    const page = diffSitePage(diff, { a: paper.manifest, b: flat.manifest });
    expect(page.path).toBe('diffs/run-a--run-b/index.html');
    expect(String(page.banner)).toContain('TCG');
    const body = String(page.body);
    expect(page.charts.map((c) => c.id)).toContain('diff-kvm-tcp-stream');
    expect(page.charts).toHaveLength(8);
    for (const c of page.charts) {
      expect(body).toContain(`<div class="vega" data-chart="${c.id}"><img src="charts/${c.id}.svg"`);
      expect(c.specPath).toBe(`charts/${c.id}.vl.json`);
    }
    expect(body).toContain('<table class="diff-points">');
    expect(body).toContain('<table class="diff-claims-table">');
    // A flipped claim shows both verdicts with their qualifiers (here the TCG guests' parts, not judged).
    expect(body).toContain(
      '<td>tcp-100-osv-above-native-docker-4-to-20</td><td>inconclusive (osv not judged: TCG)</td><td>refuted</td>',
    );
    expect(body).toContain('href="../../runs/run-a/index.html"');
    const html = renderPage(page);
    expect(html).not.toContain(EVIL);
    expect(html).toContain(escapeHtml(`a${EVIL}`));
    expect(html).toContain('<script src="../../assets/site.js"></script>');
  });

  it('the picker: every run in both selects, the built pairs and the command as JSON, strings escaped', () => {
    const runs = [run('a', '2026-01-01', EVIL), run('b', '2026-01-02')];
    const page = pickerPage({
      runs,
      pairs: previousRunPairs(runs),
      command: ['virtnet', 'report', `dir ${EVIL}`, '--site', 's'],
    });
    const html = renderPage(page);
    expect(html).not.toContain(EVIL);
    expect(html.match(/<option value="a"/g)).toHaveLength(2);
    expect(html).toContain('<option value="b" selected>');
    expect(html).toContain('<option value="a" selected>');
    expect(html).toContain('<script src="./assets/site.js"></script>');
    expect(html).not.toContain('vega.min.js');
    const data = JSON.parse(html.match(/<script type="application\/json" id="diff-pairs">(.*)<\/script>/)![1]!);
    expect(data).toEqual({
      pairs: { 'a:b': 'diffs/a--b/index.html' },
      command: `virtnet report 'dir ${EVIL}' --site s`,
    });
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
    expect(String(pickerPage({ runs, pairs: [], command: null }).body)).toContain(
      'virtnet report RUN_DIR... --site SITE_DIR',
    );
  });
});

describe('buildSite with diffs', () => {
  const work = mkdtempSync(join(tmpdir(), 'virtnet-site-diff-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const { plan } = loadPlan('quick', PLANS);
  const write = (r: ReturnType<typeof syntheticRun>) => {
    const dir = join(work, 'runs', r.manifest.runId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(r.manifest));
    writeFileSync(join(dir, 'results.jsonl'), r.records.map((x) => `${JSON.stringify(x)}\n`).join(''));
    return dir;
  };
  const dirs = [
    write(syntheticRun({ plan, environments: ['native'], replicates: 3, seed: 1, runId: 'one' })),
    write(
      syntheticRun({
        plan,
        environments: ['native'],
        replicates: 3,
        seed: 2,
        runId: 'two',
        createdAt: '2026-01-02T00:00:00.000Z',
      }),
    ),
    write(
      syntheticRun({
        plan: { ...plan, name: 'other' },
        environments: ['native'],
        replicates: 3,
        seed: 3,
        runId: 'three',
        createdAt: '2026-01-03T00:00:00.000Z',
      }),
    ),
  ];
  const files = (dir: string) => {
    const out = new Map<string, string>();
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else out.set(relative(dir, p), readFileSync(p, 'latin1'));
      }
    };
    walk(dir);
    return out;
  };

  it(
    "writes each run's diff with its previous run and the requested ones, links them, and rewrites nothing when rebuilt",
    { timeout: 120_000 },
    async () => {
      const site = join(work, 'site');
      const first = await buildSite(dirs, site, {
        claims: loadClaims('paper', PLANS),
        workers: 1,
        diffs: ['three:one'],
        command: ['virtnet', 'report', 'runs/*', '--site', 'site'],
      });
      expect(first.diffs.map((d) => `${d.pair.a}:${d.pair.b}:${d.pair.kind}`)).toEqual([
        'three:one:requested',
        'two:three:previous',
        'one:two:previous-same-plan',
      ]);
      const before = files(site);
      for (const d of ['diffs/one--two', 'diffs/two--three', 'diffs/three--one']) {
        for (const f of [
          'index.html',
          'diff.json',
          'diff.md',
          'diff.txt',
          'charts/diff-native-tcp-stream.vl.json',
          'charts/diff-native-tcp-stream.svg',
          'charts/diff-native-udp-stream.svg',
        ])
          expect(before.has(`${d}/${f}`), `${d}/${f}`).toBe(true);
      }
      expect(before.get('diffs/one--two/charts/diff-native-tcp-stream.svg')).toMatch(/^<svg/);
      const index = before.get('index.html')!;
      expect(index).toContain('<a href="diffs/one--two/index.html">compare with previous</a>');
      expect(index).toContain('<a href="diffs/two--three/index.html">compare with previous (other plan)</a>');
      expect(index).toContain('<a href="compare.html">Compare any two runs</a>');
      expect(before.get('runs/two/index.html')).toContain(
        '<a href="../../diffs/one--two/index.html">against the previous run one (this run is B)</a>',
      );
      expect(before.get('diffs/one--two/index.html')).toContain('No claim changed its verdict.');
      expect(before.get('compare.html')).toContain(`"command":"virtnet report 'runs/*' --site site"`);
      expect(JSON.parse(before.get('diffs/one--two/diff.json')!).claimChanges).toEqual([]);

      const again = await buildSite(dirs, site, {
        claims: loadClaims('paper', PLANS),
        workers: 2,
        diffs: ['three:one'],
        command: ['virtnet', 'report', 'runs/*', '--site', 'site'],
      });
      expect(again.written).toBe(0);
      expect(again.rendered).toBe(0);
      expect(files(site)).toEqual(before);
      await expect(
        buildSite(dirs, join(work, 'bad'), { claims: loadClaims('paper', PLANS), diffs: ['one:nine'] }),
      ).rejects.toThrow(/^diff: "one:nine": no run with id "nine"/);
    },
  );
});

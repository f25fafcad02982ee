// The hostile-input corpus, site half (issue 14): runs whose every outside-controlled field that
// reaches a page carries script payloads, built into a site by the real pipeline (run directories ->
// buildSite), then EVERY page opened in headless Chromium: every HTML page with its charts drawn by
// vega-embed and their tooltips shown, every chart SVG on its own, the picker driven. No dialog may
// fire, no script error happen, no element or attribute of a payload exist, no request leave the
// site, and no file be written outside the output directories. A field the run reader refuses is
// counted as refused and must be refused with a message naming it. The corpus size is printed.

import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClaims } from '../analyse/claims/file.ts';
import type { ClaimsFile } from '../analyse/claims/schema.ts';
import { loadRun } from '../measure/run-dir.ts';
import type { Manifest, MeasurementRecord } from '../measure/records.ts';
import { loadPlan } from '../plan/plan-file.ts';
import { analyseRun } from '../analyse/run.ts';
import { syntheticRun } from '../testing/synthetic.ts';
import { HEADLINE_METRICS } from '../analyse/headline.ts';
import { buildSite } from './build.ts';
import { commitRun } from '../report/report-files.ts';
import { runPage, type SitePage } from './site.ts';

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
const REPO = join(import.meta.dirname, '..', '..', '..');
const PLANS = join(REPO, 'env', 'plans');
const PAPER_CLAIMS = loadClaims('paper', PLANS);

/** Up from <out>/<runs|site|reports>/<id>/charts/ to the work directory, then into elsewhere/. */
const TRAVERSAL = `x/${'../'.repeat(5)}elsewhere/TRAVERSED`;

/** Each payload either calls alert() (a dialog) or makes an element or attribute named with "pwn". */
const PAYLOADS: readonly string[] = [
  `<script>alert('p0')</script>`,
  `<img src=x onerror="alert('p1')" data-pwn>`,
  `"><svg onload=alert('p2') data-pwn>`,
  `'><svg/onload=alert('p3') data-pwn>`,
  `</script><script>alert('p5')</script>`,
  `</ScRiPt ><img src=x onerror=alert('p6') data-pwn>`,
  '${alert(`p7`)}`;alert(`p7b`);//',
  `{{constructor.constructor('alert("p8")')()}}`,
  `--><img src=x onerror=alert('p9') data-pwn><!--`,
  `<iframe data-pwn srcdoc="<script>parent.alert('p10')</script>"></iframe>`,
  `<a data-pwn href="javascript:alert('p11')">click</a>`,
  `" onmouseover="alert('p12')" data-pwn="`,
  `<math><mtext><table><mglyph><style><img src=x onerror=alert('p13') data-pwn>`,
  `\u2028\u2029<img src=x onerror=alert('p14') data-pwn>\u202e\u0000\ufeff`,
  `<base href="http://198.18.255.254/" data-pwn><meta http-equiv="refresh" content="0;url=javascript:alert('p15')" data-pwn>`,
  `<style data-pwn>*{display:none}</style><link data-pwn rel=stylesheet href="http://198.18.255.254/x.css">`,
  `&lt;script&gt;alert('p17')&lt;/script&gt;`,
  `\\u003cscript\\u003ealert('p18')\\u003c/script\\u003e`,
  `<!--<script>alert('p19')</script>-->`,
  `x\n## forged | row |\n<img src=x onerror=alert('p20') data-pwn>`,
  `\uff1cscript\uff1ealert('p21')\uff1c/script\uff1e`,
];

/** Payloads that only mean something as a whole value: a link target, a name of Object.prototype's, a path. */
const WHOLE: readonly string[] = [`javascript:alert('p4')`, 'constructor', '__proto__', 'toString', TRAVERSAL];

/**
 * The values put into fields: each whole payload alone, the others three to a value (what they
 * attack does not depend on where in the text they stand), so every field carries every payload.
 */
const VALUES: readonly string[] = [
  ...WHOLE,
  ...Array.from({ length: Math.ceil(PAYLOADS.length / 3) }, (_, i) => PAYLOADS.slice(3 * i, 3 * i + 3).join(' ')),
];

/** Run ids are checked to be file names (letters, digits, '.', '_', '-'): the hostile ones allowed. */
const RUN_IDS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'a..b', 'Z-_.9'];

type Run = { manifest: Manifest; records: MeasurementRecord[] };
interface Field {
  name: string;
  set: (run: Run, payload: string) => void;
}

const firstEnv = (run: Run) => run.manifest.environments.find((e) => e !== 'native')!;
function renameEnvironment(run: Run, from: string, to: string): void {
  const m = run.manifest;
  if (m.environments.includes(to)) return;
  m.environments = m.environments.map((e) => (e === from ? to : e));
  const d = m.environmentDescriptions[from];
  delete m.environmentDescriptions[from];
  if (d)
    Object.defineProperty(m.environmentDescriptions, to, {
      value: { ...d, name: to },
      enumerable: true,
      configurable: true,
      writable: true,
    });
  for (const r of run.records) if (r.environment === from) r.environment = to;
}
const host = (run: Run, role: 'server' | 'client') => run.manifest.hosts[role]!;
const own = (obj: object, key: string, value: unknown) =>
  Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });

/** Every outside-controlled field of a run that reaches a page or an output. */
const FIELDS: readonly Field[] = [
  {
    name: 'git.subject',
    set: (r, p) => {
      r.manifest.git.subject = p;
    },
  },
  {
    name: 'git.branch',
    set: (r, p) => {
      r.manifest.git.branch = p;
    },
  },
  {
    name: 'git.commit',
    set: (r, p) => {
      r.manifest.git.commit = p;
    },
  },
  {
    name: 'status',
    set: (r, p) => {
      r.manifest.status = p as Manifest['status'];
    },
  },
  {
    name: 'createdAt',
    set: (r, p) => {
      r.manifest.createdAt = `2026-01-01T00:00:00.000Z${p}`;
    },
  },
  {
    name: 'planSource',
    set: (r, p) => {
      r.manifest.planSource = p;
    },
  },
  {
    name: 'plan.name',
    set: (r, p) => {
      r.manifest.plan.name = p;
    },
  },
  {
    name: 'plan.description',
    set: (r, p) => {
      r.manifest.plan.description = p;
    },
  },
  {
    name: 'plan.interpretation',
    set: (r, p) => {
      r.manifest.plan.interpretation = [p];
    },
  },
  {
    name: 'plan.sweeps[].series',
    set: (r, p) => {
      const tcp = r.manifest.plan.sweeps.find((s) => s.test === 'TCP_STREAM')!;
      for (const rec of r.records) if (rec.series === tcp.series) rec.series = p;
      tcp.series = p;
    },
  },
  {
    name: 'hosts.server.hostname',
    set: (r, p) => {
      host(r, 'server').hostname = p;
    },
  },
  {
    name: 'hosts.client.hostname',
    set: (r, p) => {
      host(r, 'client').hostname = p;
    },
  },
  {
    name: 'hosts.server.cpuModel',
    set: (r, p) => {
      host(r, 'server').cpuModel = p;
    },
  },
  {
    name: 'hosts.server.kernel',
    set: (r, p) => {
      host(r, 'server').kernel = p;
    },
  },
  {
    name: 'hosts.client.distribution',
    set: (r, p) => {
      host(r, 'client').distribution = p;
    },
  },
  {
    name: 'hosts.server.netperfVersion',
    set: (r, p) => {
      host(r, 'server').netperfVersion = p;
    },
  },
  {
    name: 'hosts.server.sysctls (name)',
    set: (r, p) => {
      own(host(r, 'server').sysctls, p, '1');
    },
  },
  {
    name: 'hosts.client.sysctls (value)',
    set: (r, p) => {
      host(r, 'client').sysctls['net.core.wmem_max'] = p;
    },
  },
  {
    name: 'hosts.server.virtualizationFlags',
    set: (r, p) => {
      host(r, 'server').virtualizationFlags = [p];
    },
  },
  {
    name: 'link.shaping',
    set: (r, p) => {
      r.manifest.link!.shaping = p;
    },
  },
  {
    name: 'link.clientNamespace',
    set: (r, p) => {
      r.manifest.link!.clientNamespace = p;
    },
  },
  { name: 'environment name', set: (r, p) => renameEnvironment(r, firstEnv(r), p) },
  {
    name: 'environmentDescriptions.summary',
    set: (r, p) => {
      r.manifest.environmentDescriptions[firstEnv(r)]!.summary = p;
    },
  },
  {
    name: 'environmentDescriptions.details (name)',
    set: (r, p) => {
      own(r.manifest.environmentDescriptions[firstEnv(r)]!.details, p, 'x');
    },
  },
  {
    name: 'environmentDescriptions.details (value)',
    set: (r, p) => {
      own(r.manifest.environmentDescriptions[firstEnv(r)]!.details, 'version', p);
    },
  },
  {
    name: 'environmentErrors (environment and message)',
    set: (r, p) => {
      const failed = `failed-${p}`;
      r.manifest.environments.push(failed);
      own(r.manifest.environmentErrors, failed, `could not start: ${p}`);
    },
  },
  {
    name: 'sessions[].endReason',
    set: (r, p) => {
      r.manifest.sessions[0]!.endReason = p;
    },
  },
  {
    name: 'records: error, stdout, stderr, command',
    set: (r, p) => {
      const rec = r.records.find((x) => x.environment === firstEnv(r) && x.replicate === 1)!;
      Object.assign(rec, { status: 'failed', metrics: null, error: p, stdout: p, stderr: p, command: ['netperf', p] });
    },
  },
];

/** Every file under dir (relative paths), links listed as links, not followed. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** In the page: everything a payload could have made. The site itself has no inline handler, no frame, no <style>, no base. */
function findInjected(): string[] {
  const bad: string[] = [];
  const describe = (el: Element) => `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}>`;
  for (const el of Array.from(document.querySelectorAll('*'))) {
    for (const name of el.getAttributeNames()) {
      if (/^on/i.test(name)) bad.push(`${describe(el)} has ${name}`);
      if (name.includes('pwn')) bad.push(`${describe(el)} has ${name}`);
    }
    const tag = el.tagName.toLowerCase();
    if (['iframe', 'object', 'embed', 'base', 'frame', 'portal'].includes(tag)) bad.push(describe(el));
    if (tag === 'meta' && el.hasAttribute('http-equiv')) bad.push(`${describe(el)} http-equiv`);
    if (tag === 'style' && !['vega-embed-style', 'vega-tooltip-style', 'vega-tooltip-stylesheet'].includes(el.id))
      bad.push(`${describe(el)} not vega-embed's`);
    if (tag === 'script') {
      const src = el.getAttribute('src');
      const json = el.getAttribute('type') === 'application/json' && /^(spec-[A-Za-z0-9_-]+|diff-pairs)$/.test(el.id);
      if (!(src && /^(\.\.\/|\.\/)*assets\/(vega|vega-lite|vega-embed|site)(\.min)?\.js$/.test(src)) && !json)
        bad.push(`script ${src ?? el.id}`);
    }
    if (
      tag === 'link' &&
      !(el.getAttribute('rel') === 'icon' && el.getAttribute('href') === 'data:,') &&
      !/^(\.\.\/|\.\/)*assets\/site\.css$/.test(el.getAttribute('href') ?? '')
    )
      bad.push(`link ${el.getAttribute('href')}`);
    // Charts: vega's, the history's own (history.ts: svg.history in its figure, and the legend's swatches).
    if (
      tag === 'svg' &&
      !el.closest('.vega') &&
      !el.matches('figure.overview-chart svg.history, figure.history-chart svg.history, .history-legend svg.swatch')
    )
      bad.push('svg outside a chart');
    for (const attr of ['href', 'src', 'action', 'formaction', 'xlink:href']) {
      const v = el.getAttribute(attr);
      if (v !== null && /^\s*(javascript|data|vbscript):/i.test(v) && !(tag === 'link' && v === 'data:,'))
        bad.push(`${describe(el)} ${attr}=${v}`);
    }
  }
  return bad;
}

describe.skipIf(missing !== null)(
  `hostile-input corpus: every site page in headless Chromium${skipNote(missing)}`,
  () => {
    const work = mkdtempSync(join(tmpdir(), 'virtnet-hostile-'));
    const site = join(work, 'site');
    const reports = join(work, 'reports');
    let server: Server | null = null;
    let url = '';
    const corpus = { inputs: 0, refused: [] as string[], runs: 0 };
    let outsideBefore: string[] = [];
    let runDirs: string[] = [];
    let diffCount = 0;

    beforeAll(async () => {
      const { plan } = loadPlan('quick', PLANS);
      const runs: Run[] = [];
      // One run per payload: field f of run r carries payload (r + f) mod P, so every field carries every payload once.
      // Each run gets its own copy of the plan: a field set on one run must not leak into the next.
      const fresh = (r: number) =>
        syntheticRun({
          plan: structuredClone(plan),
          environments: ['native', 'docker'],
          replicates: 2,
          seed: r + 1,
          runId: RUN_IDS[r] ?? `hostile-${String(r).padStart(2, '0')}`,
          createdAt: `2026-01-01T00:00:${String(r).padStart(2, '0')}.000Z`,
          accelerator: r % 2 ? 'tcg' : 'kvm',
        });
      for (let r = 0; r < VALUES.length; r++) {
        const run = fresh(r);
        FIELDS.forEach((f, i) => f.set(run, VALUES[(r + i) % VALUES.length]!));
        runs.push(run);
      }
      // A field the reader refuses (a later schema may refuse some of these) is counted and must be named in the refusal.
      const probe = join(work, 'probe');
      const write = (dir: string, run: Run) => {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(run.manifest, null, 2)}\n`);
        writeFileSync(join(dir, 'results.jsonl'), run.records.map((x) => `${JSON.stringify(x)}\n`).join(''));
        return dir;
      };
      const accepted = new Set<string>();
      for (const [i, f] of FIELDS.entries()) {
        for (const [j, p] of VALUES.entries()) {
          corpus.inputs++;
          const run = syntheticRun({
            plan: structuredClone(plan),
            environments: ['native', 'docker'],
            replicates: 1,
            seed: 1,
            runId: 'probe',
          });
          f.set(run, p);
          try {
            loadRun(write(probe, run));
            accepted.add(`${i}/${j}`);
          } catch (e) {
            // Refused clearly: the message names the file and one of the field's words.
            const message = (e as Error).message;
            const words = f.name.split(/[^A-Za-z]+/).filter((w) => w.length > 2);
            expect(message, `${f.name} = ${JSON.stringify(p)}`).toMatch(/manifest\.json|results\.jsonl/);
            expect(
              words.some((w) => message.toLowerCase().includes(w.toLowerCase())),
              `${f.name} = ${JSON.stringify(p)}: ${message}`,
            ).toBe(true);
            corpus.refused.push(`${f.name} = ${JSON.stringify(p)}: ${(e as Error).message}`);
          }
        }
      }
      rmSync(probe, { recursive: true, force: true });
      // The site's runs carry only what the reader accepts (all of it, today).
      runDirs = runs.map((_run, r) => {
        const base = fresh(r);
        FIELDS.forEach((f, i) => {
          if (accepted.has(`${i}/${(r + i) % VALUES.length}`)) f.set(base, VALUES[(r + i) % VALUES.length]!);
        });
        // Directory names carry a payload too: they reach the picker's command line.
        return write(join(work, 'runs', `run${r}<img src=x onerror=alert('dir') data-pwn>`), base);
      });
      corpus.runs = runDirs.length;
      mkdirSync(join(work, 'elsewhere-sentinel'));
      outsideBefore = files(work);

      // Claims come from a claims file (committed by contributors): their texts are outside text too.
      const claims: ClaimsFile = {
        ...PAPER_CLAIMS,
        claims: PAPER_CLAIMS.claims.map((c, i) => ({
          ...c,
          text: VALUES[i % VALUES.length]!,
          section: VALUES[(i + 1) % VALUES.length]!,
          note: VALUES[(i + 2) % VALUES.length]!,
        })),
      };
      corpus.inputs += claims.claims.length * 3;
      const first = loadRun(runDirs[0]!);
      const claimsPage: SitePage = {
        ...runPage({
          manifest: first.manifest,
          analysis: analyseRun(first.manifest, first.results.records, claims),
          charts: [],
        }),
        path: 'extra/claims/index.html',
      };

      const ids = runs.map((r) => r.manifest.runId);
      const built = await buildSite(runDirs, site, {
        claims: PAPER_CLAIMS,
        extraPages: [claimsPage],
        diffs: [`${ids[3]}:${ids[0]}`, `${ids.at(-1)}:${ids[1]}`],
        command: ['virtnet', 'report', ...runDirs, '--site', site],
      });
      diffCount = built.diffs.length;
      await commitRun(runDirs[0]!, reports, PAPER_CLAIMS);
      ({ server, url } = await serveDirectory(site));
    }, 600_000);

    afterAll(() => {
      server?.close();
      rmSync(work, { recursive: true, force: true });
    });

    it('writes nothing outside the site and reports directories (series such as x/../../elsewhere/TRAVERSED included)', () => {
      const outsideAfter = files(work).filter((f) => !f.startsWith(`site${sep}`) && !f.startsWith(`reports${sep}`));
      expect(outsideAfter).toEqual(outsideBefore);
      expect(existsSync(join(work, 'elsewhere'))).toBe(false);
      expect(files(site).filter((f) => f.includes('TRAVERSED'))).toEqual([]);
      // A traversing series is stopped by the run reader (the plan schema's series pattern), or, were
      // it accepted, turned into a hashed chart name: either way nothing lands outside.
      const seriesRefused = corpus.refused.some((r) => /sweeps\[0\]\.series/.test(r));
      expect(
        seriesRefused ||
          files(site).some((f) => /charts\/fig4a-tcp-absolute-x-elsewhere-traversed--[0-9a-f]{16}\.svg$/.test(f)),
      ).toBe(true);
      for (const f of files(site)) expect(lstatSync(join(site, f)).isSymbolicLink()).toBe(false);
    });

    it(
      'opens every page: no dialog, no script error, no injected element, no request outside the site',
      { timeout: 900_000 },
      async () => {
        const { chromium } = await import('playwright-core');
        const profile = mkdtempSync(join(tmpdir(), 'virtnet-chromium-'));
        const browser = await chromium.launchPersistentContext(profile, {
          executablePath: CHROMIUM,
          args: FLAGS,
          headless: true,
          timeout: 60_000,
        });
        const problems: string[] = [];
        let htmlPages = 0;
        let svgPages = 0;
        let tooltips = 0;
        let tooltipsWithPayload = 0;
        let charts = 0;
        const started = Date.now();
        try {
          await browser.route('**/*', (route) =>
            route.request().url().startsWith(url)
              ? route.continue()
              : (problems.push(`request outside the site: ${route.request().url()}`), route.abort()),
          );
          const page = await browser.newPage();
          let where = '';
          page.on('dialog', (d) => {
            problems.push(`${where}: dialog ${d.type()} ${JSON.stringify(d.message())}`);
            void d.dismiss();
          });
          page.on('pageerror', (e) => problems.push(`${where}: script error ${e.message}`));
          const pages = files(site).filter((f) => f.endsWith('.html'));
          // The index, the picker, the claims page, the pair page, the regressions page, a history page
          // per headline metric, a page per run and per diff.
          expect(diffCount).toBeGreaterThanOrEqual(VALUES.length - 1);
          expect(pages.length).toBe(5 + HEADLINE_METRICS.length + VALUES.length + diffCount);
          for (const path of pages) {
            where = path;
            await page.goto(url + path, { waitUntil: 'load' });
            htmlPages++;
            const vegas = await page.locator('.vega[data-chart]').count();
            charts += vegas;
            if (vegas > 0)
              await page.waitForFunction((n) => document.querySelectorAll('.vega[data-rendered]').length === n, vegas, {
                timeout: 120_000,
              });
            expect(
              await page.locator('.vega[data-rendered="fallback"]').count(),
              `${path}: a chart fell back to its SVG`,
            ).toBe(0);
            // Tooltips: hover the first points of every chart (vega-tooltip puts outside text in them).
            const symbols = page.locator('.vega svg .mark-symbol path');
            const count = await symbols.count();
            for (let i = 0; i < Math.min(count, 4); i++) {
              // A payload that hid the page would make this fail: the element checks below then say which.
              if (
                !(await symbols
                  .nth(i * Math.floor(count / 4))
                  .hover({ force: true, timeout: 5000 })
                  .then(
                    () => true,
                    () => false,
                  ))
              )
                continue;
              tooltips++;
              const tip = await page
                .locator('#vg-tooltip-element.visible')
                .textContent({ timeout: 1000 })
                .catch(() => null);
              if (tip && /onerror|<script|\u2028|alert/.test(tip)) tooltipsWithPayload++;
              for (const b of await page.evaluate(findInjected)) problems.push(`${path} (tooltip): ${b}`);
            }
            if (path === 'compare.html') {
              // The picker prints the command of a pair the site lacks: run directories with payloads in it.
              const options = await page
                .locator('#pick-a option')
                .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
              const built = JSON.parse((await page.locator('#diff-pairs').textContent())!).pairs as Record<
                string,
                string
              >;
              const [a, b] = options
                .flatMap((x) => options.map((y) => [x, y]))
                .find(([x, y]) => x !== y && !Object.hasOwn(built, `${x}:${y}`))!;
              await page.selectOption('#pick-a', a!);
              await page.selectOption('#pick-b', b!);
              await page.click('#diff-picker button');
              // Shell-quoted, as text.
              expect(await page.locator('#picker-result code').textContent()).toContain(
                `run0<img src=x onerror=alert('\\''dir'\\'') data-pwn>'`,
              );
            }
            for (const b of await page.evaluate(findInjected)) problems.push(`${path}: ${b}`);
          }
          // Every chart on its own: an SVG opened as a document runs its scripts, if it had any.
          for (const path of files(site).filter((f) => f.endsWith('.svg'))) {
            where = path;
            await page.goto(url + path, { waitUntil: 'load' });
            svgPages++;
            const found = await page.evaluate(() =>
              Array.from(document.querySelectorAll('*')).flatMap((el) => [
                ...(el.tagName.toLowerCase() === 'script' || el.tagName.toLowerCase() === 'foreignobject'
                  ? [el.tagName]
                  : []),
                ...el.getAttributeNames().filter((n) => /^on|pwn/i.test(n)),
              ]),
            );
            for (const f of found) problems.push(`${path}: ${f}`);
          }
        } finally {
          await browser.close();
          rmSync(profile, { recursive: true, force: true });
        }
        console.log(
          `hostile-input corpus (site): ${corpus.inputs} inputs tried (${FIELDS.length} run fields x ${VALUES.length} values carrying ${PAYLOADS.length + WHOLE.length} payloads, plus claim texts), ${corpus.refused.length} refused by the run reader; ${corpus.runs} runs built into a site; ${htmlPages + svgPages} pages opened in Chromium (${htmlPages} HTML with ${charts} interactive charts and ${tooltips} tooltips hovered, ${tooltipsWithPayload} of them showing a payload, ${svgPages} chart SVGs) in ${((Date.now() - started) / 1000).toFixed(0)} s; ${problems.length} problems`,
        );
        expect(problems).toEqual([]);
        expect(htmlPages).toBeGreaterThan(20);
        expect(svgPages).toBeGreaterThan(100);
        // The hovers reached tooltips (the names that would carry payloads into them, series and
        // environments, are refused by the run reader since the schemas landed).
        expect(tooltips).toBeGreaterThan(0);
      },
    );

    it('the CLI: report RUN, report RUN --site DIR and report RUN --commit keep a hostile series inside their outputs and refuse a linked RUN/report', () => {
      const node = process.execPath;
      const cli = join(REPO, 'scripts', 'virtnet.ts');
      const cwd = join(work, 'cli');
      mkdirSync(cwd);
      const { plan } = loadPlan('quick', PLANS);
      const run = syntheticRun({
        plan: { ...plan, sweeps: plan.sweeps.map((s) => ({ ...s, series: TRAVERSAL })) },
        environments: ['native'],
        replicates: 1,
        runId: 'cli-run',
      });
      const runDir = join(cwd, 'runs', 'r');
      mkdirSync(runDir, { recursive: true });
      writeFileSync(join(runDir, 'manifest.json'), JSON.stringify(run.manifest));
      writeFileSync(join(runDir, 'results.jsonl'), run.records.map((x) => `${JSON.stringify(x)}\n`).join(''));
      const before = files(work).filter(
        (f) => !f.startsWith(`site${sep}`) && !f.startsWith(`reports${sep}`) && !f.startsWith(`cli${sep}`),
      );
      const virtnet = (...args: string[]) => {
        try {
          return { code: 0, out: execFileSync(node, [cli, ...args], { cwd, encoding: 'utf8', stdio: 'pipe' }) };
        } catch (e) {
          const err = e as { status: number; stdout: string; stderr: string };
          return { code: err.status, out: `${err.stdout}${err.stderr}` };
        }
      };
      for (const args of [
        ['report', runDir],
        ['report', runDir, '--site', join(cwd, 'site')],
        ['report', runDir, '--commit'],
      ]) {
        const r = virtnet(...args);
        // Accepted with hashed chart names, or refused naming the series: never a write outside.
        if (r.code !== 0) expect(r.out).toMatch(/series/);
      }
      expect(
        files(work).filter(
          (f) => !f.startsWith(`site${sep}`) && !f.startsWith(`reports${sep}`) && !f.startsWith(`cli${sep}`),
        ),
      ).toEqual(before);
      expect(existsSync(join(work, 'elsewhere'))).toBe(false);
      expect(files(cwd).filter((f) => f.includes('TRAVERSED'))).toEqual([]);

      // RUN/report as a link to another directory, on a run the reader accepts: refused, nothing written there.
      const plainDir = join(cwd, 'runs', 'plain');
      const plain = syntheticRun({
        plan: structuredClone(plan),
        environments: ['native'],
        replicates: 1,
        runId: 'cli-plain',
      });
      mkdirSync(plainDir, { recursive: true });
      writeFileSync(join(plainDir, 'manifest.json'), JSON.stringify(plain.manifest));
      writeFileSync(join(plainDir, 'results.jsonl'), plain.records.map((x) => `${JSON.stringify(x)}\n`).join(''));
      const outside = join(work, 'link-target');
      mkdirSync(outside);
      symlinkSync(outside, join(plainDir, 'report'));
      const linked = virtnet('report', plainDir);
      expect(linked.code).toBe(1);
      expect(linked.out).toMatch(/report is a symbolic link .*refusing to write through it/);
      expect(readdirSync(outside)).toEqual([]);
    });
  },
);

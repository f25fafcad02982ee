// The hostile corpus, round two (issue 25): what an attacker can put in a run or output directory
// (symlinks, hard links, FIFOs, devices, sparse files, planted SVGs) and in every outside string
// that reaches a sink (markdown, a terminal, a CSV cell, a workflow log line). Each case names the
// file or field and the payload; each must be refused or made inert, and nothing may hang: cases
// that would block a reader run in a child process with a time limit.
//
// Unit tier: no root, no service; files in a temporary directory; vega draws the real SVGs.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as core from '@actions/core';
import { actionsCore } from '../actions/lib/action/io.ts';
import { acquireLock } from '../actions/lib/core/lock.ts';
import { writeUnder } from '../actions/lib/core/output-dir.ts';
import { writeFileSafely } from '../actions/lib/core/safe-write.ts';
import { loadClaims } from '../actions/lib/analyse/claims/file.ts';
import { ResultsAppender, logsDir } from '../actions/lib/measure/run-dir.ts';
import {
  pointsCsv,
  probesCsv,
  relativeCsv,
  reportTextFiles,
  udpCsv,
  comparisonsCsv,
  runCharts,
} from '../actions/lib/report/report.ts';
import { analyseRun } from '../actions/lib/analyse/run.ts';
import { buildSite } from '../actions/lib/site/build.ts';
import { commitRun } from '../actions/lib/report/report-files.ts';
import { loadPlan } from '../actions/lib/plan/plan-file.ts';
import { syntheticRun } from '../actions/lib/testing/synthetic.ts';
import { testHost, testManifest } from '../actions/lib/testing/diff-fixtures.ts';

const REPO = join(import.meta.dirname, '..');
const PLANS = join(REPO, 'env/plans');
const NODE = join(REPO, 'node_modules/.bin/node');
const work = mkdtempSync(join(tmpdir(), 'virtnet-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const outside = join(work, 'outside');
mkdirSync(outside);
let dirs = 0;
/** A fresh directory for one case. */
function fresh(name: string): string {
  const dir = join(work, `${name}-${++dirs}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
/** A file outside every run directory, which no case may change. */
function victim(): string {
  const path = join(outside, `victim-${++dirs}`);
  writeFileSync(path, 'KEEP\n');
  return path;
}

/** How an attacker can stand in for a file the tool writes or reads. */
const PLANTS = {
  symlink: (at: string, target: string) => symlinkSync(target, at),
  'hard link': (at: string, target: string) => linkSync(target, at),
  FIFO: (at: string) => execFileSync('mkfifo', [at]),
} as const;
type Plant = keyof typeof PLANTS;
const plantKinds = Object.keys(PLANTS) as Plant[];

/**
 * Runs `body` (an ES module's text, with `REPO` bound) in a child Node with a time limit, for the
 * cases that would block forever when the code under test opened a FIFO; returns its stdout.
 */
function inChild(body: string, timeoutMs = 20_000): { stdout: string; timedOut: boolean; status: number | null } {
  return childNode(['--input-type=module', '-e', `const REPO = ${JSON.stringify(REPO)};\n${body}`], timeoutMs);
}

/** Node with these arguments, killed after `timeoutMs`, in 3 GB of address space (a reader of /dev/zero fails fast). */
function childNode(args: string[], timeoutMs: number): { stdout: string; timedOut: boolean; status: number | null } {
  const r = spawnSync('bash', ['-c', 'ulimit -v 3000000 && exec "$0" "$@"', NODE, ...args], {
    timeout: timeoutMs,
    encoding: 'utf8',
    killSignal: 'SIGKILL',
    cwd: REPO,
  });
  return { stdout: r.stdout, timedOut: r.error !== undefined || r.signal === 'SIGKILL', status: r.status };
}

let corpus = 0;
/** Counts each case of the corpus (the issue asks for its size). */
function hostile(name: string, fn: () => unknown, timeout?: number) {
  corpus++;
  it(name, fn as () => void, timeout);
}
afterAll(() => console.log(`hostile corpus (round two): ${corpus} cases`));

const { plan } = loadPlan('quick', PLANS);
const claims = loadClaims('paper', PLANS);
function runDirWith(name: string, records = true): string {
  const dir = fresh(name);
  const r = syntheticRun({ plan, environments: ['native'], replicates: 2, seed: 3, runId: `hostile-${dirs}` });
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(r.manifest, null, 2)}\n`);
  if (records) writeFileSync(join(dir, 'results.jsonl'), r.records.map((x) => `${JSON.stringify(x)}\n`).join(''));
  return dir;
}

describe('files the tool writes in a run directory: no write through a symlink, a hard link or a FIFO', () => {
  for (const kind of plantKinds) {
    hostile(`run --resume: results.jsonl.partial-line-N as a ${kind} (sealTruncatedTail)`, () => {
      const dir = fresh('partial');
      writeFileSync(join(dir, 'results.jsonl'), '{"whole":1}\n{"half":');
      const target = victim();
      PLANTS[kind](join(dir, 'results.jsonl.partial-line-2'), target);
      // In a child: before the fix a FIFO here blocked the writer forever.
      const r =
        inChild(`import { ResultsAppender } from ${JSON.stringify(join(REPO, 'actions/lib/measure/run-dir.ts'))};
try { new ResultsAppender(${JSON.stringify(dir)}).close(); console.log('WROTE'); } catch (e) { console.log('REFUSED ' + e.message); }`);
      expect(r.timedOut, 'the writer hung').toBe(false);
      expect(r.stdout).toMatch(
        new RegExp(
          `^REFUSED .*results\\.jsonl\\.partial-line-2 is a ${kind === 'FIFO' ? 'FIFO' : kind === 'symlink' ? 'symbolic link' : 'hard link'}`,
        ),
      );
      expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
    });

    hostile(`the lock's temporary file (run.lock.<pid>.tmp) as a ${kind}`, () => {
      const dir = fresh('lock-tmp');
      const target = victim();
      const lockPath = join(dir, 'run.lock');
      // The child's PID is not known before it starts: it plants its own temporary name first.
      const plant =
        kind === 'FIFO'
          ? `execFileSync('mkfifo', [tmp]);`
          : kind === 'symlink'
            ? `symlinkSync(${JSON.stringify(target)}, tmp);`
            : `linkSync(${JSON.stringify(target)}, tmp);`;
      const r = inChild(`import { execFileSync } from 'node:child_process';
import { linkSync, symlinkSync } from 'node:fs';
import { acquireLock } from ${JSON.stringify(join(REPO, 'actions/lib/core/lock.ts'))};
const tmp = ${JSON.stringify(lockPath)} + '.' + process.pid + '.tmp';
${plant}
try { acquireLock(${JSON.stringify(lockPath)}, 'run directory').release(); console.log('TOOK'); } catch (e) { console.log('REFUSED ' + e.message); }`);
      expect(r.timedOut, 'the lock hung').toBe(false);
      expect(r.stdout).toMatch(/^REFUSED lock's temporary file .*run\.lock\.\d+\.tmp is a /);
      expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
    });

    hostile(`manifest.json's temporary file as a ${kind} (writeManifest)`, () => {
      const dir = runDirWith('manifest-tmp');
      const target = victim();
      PLANTS[kind](join(dir, `manifest.json.tmp-${process.pid}`), target);
      // The child's PID names the temporary file: it plants it, then writes the manifest.
      const plant =
        kind === 'FIFO'
          ? `execFileSync('mkfifo', [tmp]);`
          : kind === 'symlink'
            ? `symlinkSync(${JSON.stringify(target)}, tmp);`
            : `linkSync(${JSON.stringify(target)}, tmp);`;
      const r = inChild(`import { execFileSync } from 'node:child_process';
import { linkSync, readFileSync, symlinkSync } from 'node:fs';
import { writeManifest } from ${JSON.stringify(join(REPO, 'actions/lib/measure/run-dir.ts'))};
const tmp = ${JSON.stringify(join(dir, 'manifest.json'))} + '.tmp-' + process.pid;
${plant}
try { writeManifest(${JSON.stringify(dir)}, JSON.parse(readFileSync(${JSON.stringify(join(dir, 'manifest.json'))}, 'utf8'))); console.log('WROTE'); } catch (e) { console.log('REFUSED ' + e.message); }`);
      expect(r.timedOut, 'the manifest writer hung').toBe(false);
      expect(r.stdout).toMatch(
        /^REFUSED .*manifest\.json\.tmp-\d+ is a .*refusing to write it.*the previous manifest is kept/,
      );
      expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
    });

    hostile(`report files (points.csv) as a ${kind}`, () => {
      const dir = fresh('report');
      const target = victim();
      PLANTS[kind](join(dir, 'points.csv'), target);
      expect(() => writeUnder(dir, 'points.csv', 'environment\n=1+1\n')).toThrow(
        /points\.csv (is a|exists and is not a regular file)/,
      );
      expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
    });
  }

  for (const kind of ['symlink', 'FIFO'] as const) {
    hostile(`results.jsonl as a ${kind} (the appender)`, () => {
      const dir = fresh('results-plant');
      const target = victim();
      PLANTS[kind](join(dir, 'results.jsonl'), target);
      expect(() => new ResultsAppender(dir)).toThrow(/results\.jsonl is a (symlink to .*outside|FIFO)/);
      expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
    });
  }

  hostile('a driver log (logs/native-netserver.log) as a symlink, a hard link and a FIFO', () => {
    for (const kind of plantKinds) {
      const logs = logsDir(fresh('driver-log'));
      const target = victim();
      PLANTS[kind](join(logs, 'native-netserver.log'), target);
      expect(() => writeFileSafely(join(logs, 'native-netserver.log'), 'netserver: bind failed\n'), kind).toThrow(
        /native-netserver\.log is a /,
      );
      expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
    }
  });

  hostile('results.jsonl as a hard link to a file outside (the appender)', () => {
    const dir = fresh('results-link');
    const target = victim();
    linkSync(target, join(dir, 'results.jsonl'));
    expect(() => new ResultsAppender(dir)).toThrow(
      /results\.jsonl is a hard link \(one of 2 names of one file\): refusing to write it/,
    );
    expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
  });

  hostile('logs/ as a symlink to a directory outside (the drivers write their logs there)', () => {
    const dir = fresh('logs');
    symlinkSync(outside, join(dir, 'logs'));
    expect(() => logsDir(dir)).toThrow(/logs is a symbolic link .*refusing to write through it/);
  });

  hostile('a site page (index.html) as a hard link to a file outside', async () => {
    const site = fresh('site');
    const target = victim();
    linkSync(target, join(site, 'index.html'));
    await expect(buildSite([runDirWith('site-run')], site, { claims, svg: 'none', workers: 1 })).rejects.toThrow(
      /index\.html is a hard link/,
    );
    expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
  });

  hostile('reports/runs/<id>/manifest.json as a hard link to a file outside (commitRun)', async () => {
    const run = runDirWith('commit-run');
    const reports = fresh('reports');
    const runId = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8')).runId;
    mkdirSync(join(reports, 'runs', runId), { recursive: true });
    const target = victim();
    linkSync(target, join(reports, 'runs', runId, 'manifest.json'));
    await expect(
      commitRun(run, reports, claims, async () => '<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ).rejects.toThrow(/manifest\.json is a hard link/);
    expect(readFileSync(target, 'utf8')).toBe('KEEP\n');
  });
});

describe('files the tool reads in a run or output directory: regular files only, bounded', () => {
  for (const file of ['manifest.json', 'results.jsonl']) {
    hostile(`${file} as a FIFO (loadRun): refused at once`, () => {
      const dir = runDirWith('read-fifo');
      rmSync(join(dir, file));
      execFileSync('mkfifo', [join(dir, file)]);
      const r = inChild(`import { loadRun } from ${JSON.stringify(join(REPO, 'actions/lib/measure/run-dir.ts'))};
try { loadRun(${JSON.stringify(dir)}); console.log('READ'); } catch (e) { console.log('REFUSED ' + e.message); }`);
      expect(r.timedOut, 'the run reader hung on a FIFO').toBe(false);
      expect(r.stdout).toMatch(new RegExp(`^REFUSED .*${file.replace('.', '\\.')} is a FIFO`));
    });

    hostile(`${file} as a symlink to a secret outside (loadRun): refused without quoting it`, () => {
      const dir = runDirWith('read-link');
      const secret = join(outside, `secret-${dirs}`);
      writeFileSync(secret, 'root:$y$j9T$TopSecretHash:19000:0:99999:7:::\n');
      rmSync(join(dir, file));
      symlinkSync(secret, join(dir, file));
      const r = inChild(`import { loadRun } from ${JSON.stringify(join(REPO, 'actions/lib/measure/run-dir.ts'))};
try { loadRun(${JSON.stringify(dir)}); console.log('READ'); } catch (e) { console.log('REFUSED ' + e.message); }`);
      expect(r.stdout).toMatch(/^REFUSED .* is a symlink to .*outside/);
      expect(r.stdout).not.toContain('TopSecret');
    });

    hostile(`${file} as a symlink to /dev/zero (loadRun): refused before a byte is read`, () => {
      const dir = runDirWith('read-zero');
      rmSync(join(dir, file));
      symlinkSync('/dev/zero', join(dir, file));
      const r = inChild(
        `import { loadRun } from ${JSON.stringify(join(REPO, 'actions/lib/measure/run-dir.ts'))};
try { loadRun(${JSON.stringify(dir)}); console.log('READ'); } catch (e) { console.log('REFUSED ' + e.message); }`,
        30_000,
      );
      expect(r.timedOut).toBe(false);
      expect(r.stdout).toMatch(/^REFUSED .* is a symlink to \/dev\/zero, outside/);
    });
  }

  hostile('run.lock as a FIFO: refused at once, never waited on', () => {
    const dir = fresh('lock-fifo');
    execFileSync('mkfifo', [join(dir, 'run.lock')]);
    const r = inChild(`import { acquireLock } from ${JSON.stringify(join(REPO, 'actions/lib/core/lock.ts'))};
try { acquireLock(${JSON.stringify(join(dir, 'run.lock'))}, 'run directory'); console.log('TOOK'); } catch (e) { console.log('REFUSED ' + e.message); }`);
    expect(r.timedOut, 'the lock reader hung on a FIFO').toBe(false);
    expect(r.stdout).toMatch(/^REFUSED lock .*run\.lock is a FIFO \(named pipe\), not a regular file: refused/);
  });

  hostile('run.lock as a symlink to /dev/zero: refused before a byte is read', () => {
    const dir = fresh('lock-zero');
    symlinkSync('/dev/zero', join(dir, 'run.lock'));
    const r = inChild(
      `import { acquireLock } from ${JSON.stringify(join(REPO, 'actions/lib/core/lock.ts'))};
try { acquireLock(${JSON.stringify(join(dir, 'run.lock'))}, 'run directory'); console.log('TOOK'); } catch (e) { console.log('REFUSED ' + e.message); }
console.log('RSS ' + process.resourceUsage().maxRSS);`,
      30_000,
    );
    expect(r.timedOut, 'the lock reader read /dev/zero without end').toBe(false);
    expect(r.stdout).toMatch(/^REFUSED lock .*run\.lock is a symlink to \/dev\/zero, outside/);
  });

  hostile('run.lock as a sparse file of 100 MB: refused by its size, not taken over', () => {
    const dir = fresh('lock-sparse');
    execFileSync('truncate', ['-s', '100M', join(dir, 'run.lock')]);
    expect(() => acquireLock(join(dir, 'run.lock'), 'run directory')).toThrow(
      /run\.lock holds 100\.0 MiB, more than the 4096 bytes/,
    );
    expect(lstatSync(join(dir, 'run.lock')).size).toBe(100 * 1024 * 1024);
  });

  hostile('a claims file as a FIFO: refused at once', () => {
    const dir = fresh('claims');
    execFileSync('mkfifo', [join(dir, 'my-claims.json')]);
    const r = inChild(`import { loadClaims } from ${JSON.stringify(join(REPO, 'actions/lib/analyse/claims/file.ts'))};
try { loadClaims(${JSON.stringify(join(dir, 'my-claims.json'))}, '.'); console.log('READ'); } catch (e) { console.log('REFUSED ' + e.message); }`);
    expect(r.timedOut, 'the claims reader hung on a FIFO').toBe(false);
    expect(r.stdout).toMatch(/^REFUSED claims file .*my-claims\.json is a FIFO/);
  });

  hostile(
    "the site's cache index as a sparse file of 700 MB: not read (memory stays flat)",
    () => {
      const site = fresh('site-cache');
      mkdirSync(join(site, 'cache'));
      execFileSync('truncate', ['-s', '700M', join(site, 'cache', 'index.json')]);
      const r = inChild(
        `import { readIfExists } from ${JSON.stringify(join(REPO, 'actions/lib/site/build.ts'))};
const before = process.resourceUsage().maxRSS;
const text = readIfExists(${JSON.stringify(join(site, 'cache', 'index.json'))});
console.log(JSON.stringify({ read: text !== null, grewKiB: process.resourceUsage().maxRSS - before }));`,
        60_000,
      );
      expect(r.timedOut).toBe(false);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { read: boolean; grewKiB: number };
      expect(out.read).toBe(false);
      expect(out.grewKiB, 'KiB of memory taken by reading a sparse cache file').toBeLessThan(100 * 1024);
    },
    90_000,
  );
});

describe('nothing supplied is published as is: SVGs are drawn from their specs', () => {
  const SCRIPTED =
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><script>alert(1)</script></svg>';
  const DRAWN = '<svg xmlns="http://www.w3.org/2000/svg" class="drawn-here"></svg>';
  const draw = async () => DRAWN;

  /** Plants a scripted SVG beside each chart spec in `dir`/charts (the spec left as the tool wrote it). */
  function plantScripted(dir: string): number {
    const charts = join(dir, 'charts');
    mkdirSync(charts, { recursive: true });
    const specs = readdirSync(charts).filter((f) => f.endsWith('.vl.json'));
    for (const spec of specs) writeFileSync(join(charts, spec.replace(/\.vl\.json$/, '.svg')), SCRIPTED);
    return specs.length;
  }
  function svgsIn(dir: string): string[] {
    const charts = join(dir, 'charts');
    return existsSync(charts)
      ? readdirSync(charts)
          .filter((f) => f.endsWith('.svg'))
          .map((f) => readFileSync(join(charts, f), 'utf8'))
      : [];
  }

  for (const where of ['RUN/report', 'RUN', 'the commit directory'] as const) {
    hostile(`a scripted SVG in ${where} beside a matching spec never reaches a commit or the site`, async () => {
      const run = runDirWith('svg-run');
      // The specs as the tool writes them (anyone can make them with virtnet report).
      const scratch = (await commitRun(run, fresh('svg-scratch'), claims, draw)).dir;
      const specs = readdirSync(join(scratch, 'charts')).filter((f) => f.endsWith('.vl.json'));
      expect(specs.length).toBeGreaterThan(0);
      // The run committed for the first time (its SVGs planted beside it), or again over a commit
      // whose SVGs were replaced (reports/runs/ in a pull request).
      const reports = where === 'the commit directory' ? join(scratch, '..', '..') : fresh('svg-reports');
      const into = where === 'RUN/report' ? join(run, 'report') : where === 'RUN' ? run : scratch;
      mkdirSync(join(into, 'charts'), { recursive: true });
      for (const f of specs) writeFileSync(join(into, 'charts', f), readFileSync(join(scratch, 'charts', f)));
      expect(plantScripted(into)).toBe(specs.length);
      const again = await commitRun(run, reports, claims, draw);
      expect(svgsIn(again.dir)).toHaveLength(specs.length);
      for (const svg of svgsIn(again.dir)) expect(svg).toBe(DRAWN);
      const site = fresh('svg-site');
      await buildSite([again.dir], site, { claims, render: draw, workers: 1 });
      const runPages = join(site, 'runs');
      for (const id of readdirSync(runPages)) for (const svg of svgsIn(join(runPages, id))) expect(svg).toBe(DRAWN);
    });
  }
});

/** Payloads for every sink: markup, markdown blocks, bidi overrides, terminal sequences, workflow commands, formulas. */
const ESC = '\u001b';
const TERMINAL = [
  `${ESC}[2J${ESC}[31mred`,
  `${ESC}]52;c;Y3VybCBldmlsIHwgc2g=\u0007`,
  '\u009b31m',
  'abc\u202edcba',
  'x\r  supported  C1: forged',
  'x\n  supported  C9: forged line',
];
const WORKFLOW = [
  '\n::error title=virtnet::forged',
  '::add-mask::Mbit',
  '\r::warning::forged',
  '  ::stop-commands::tok',
  '##[error]forged',
  'ok\n##[set-env name=X]y',
  '%0A::error::x',
];
const FORMULAS = ['=HYPERLINK("http://e.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];

describe('markdown: tables.md', () => {
  const md = [
    '<img src=x onerror=alert(1)>',
    '<details><summary>x</summary>',
    '\n# heading',
    '| a | b |',
    '[l](javascript:alert(1))',
    'abc\u202edcba',
  ];
  const fields = ['shaping', 'clientAddress', 'clientNamespace', 'serverAddress', 'congestion control'] as const;
  for (const field of fields) {
    hostile(`the link's ${field} carries markup, a heading, a table row and an RTL override`, () => {
      const base = testManifest();
      for (const payload of md) {
        const link = {
          ...base.link!,
          [field === 'congestion control' ? 'shaping' : field]: field === 'congestion control' ? 'tbf' : payload,
        };
        const hosts =
          field === 'congestion control'
            ? { client: testHost('client', { sysctls: { 'net.ipv4.tcp_congestion_control': payload } }), server: null }
            : base.hosts;
        const manifest = testManifest({ link, hosts });
        const analysis = analyseRun(manifest, [], claims, []);
        const tables = reportTextFiles(manifest, analysis, runCharts(manifest, analysis)).find(
          (f) => f.path === 'tables.md',
        )!.content as string;
        const linkLine = tables.split('\n\n')[0]!;
        expect(linkLine.split('\n'), JSON.stringify(payload)).toHaveLength(1);
        expect(linkLine).not.toMatch(/<|\u202e|^#|\n#|\[l\]\(/);
      }
    });
  }
});

describe('terminal: what virtnet report prints', () => {
  hostile(
    'claim texts carry ESC, OSC 52, CSI, an RTL override and forged verdict lines (virtnet report, as run)',
    () => {
      const run = runDirWith('terminal-run');
      const paper = JSON.parse(readFileSync(join(PLANS, 'paper-claims.json'), 'utf8')) as {
        claims: { text: string }[];
      };
      paper.claims = paper.claims.slice(0, TERMINAL.length).map((c, i) => ({ ...c, text: `claim ${TERMINAL[i]}` }));
      delete (paper as { $schema?: string }).$schema;
      const claimsFile = join(fresh('terminal-claims'), 'hostile-claims.json');
      writeFileSync(claimsFile, JSON.stringify(paper));
      const r = childNode(
        ['scripts/virtnet.ts', 'report', run, '--claims', claimsFile, '--out', fresh('terminal-out')],
        120_000,
      );
      expect(r.timedOut).toBe(false);
      expect(r.status, r.stdout).toBe(0);
      expect(r.stdout).toContain('claim ');
      expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(r.stdout.split('\n').filter((l) => /^\s*supported\s/.test(l))).toEqual([]);
      expect(r.stdout.split('\n').filter((l) => l.includes('claim '))).toHaveLength(TERMINAL.length);
    },
    150_000,
  );
});

describe('workflow commands: every logged line of an action', () => {
  for (const payload of WORKFLOW) {
    hostile(`core.info of an outside string holding ${JSON.stringify(payload)}`, () => {
      const written: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write;
      try {
        // As run-sweep logs the coordinator's environment description (and every other info line).
        actionsCore().info(`docker ready: ${payload} summary`);
        actionsCore().info(payload);
        // Commands with a value are escaped by @actions/core itself: a forged second command cannot start a line.
        core.warning(`from outside: ${payload}`);
      } finally {
        process.stdout.write = write;
      }
      const lines = written.join('').split(/\r\n|\r|\n/);
      const commands = lines.filter((l) => /^\s*(::|##\[)/.test(l));
      expect(commands, written.join('')).toHaveLength(1);
      expect(commands[0]).toMatch(/^::warning::from outside: /);
    });
  }
});

describe('CSV: no formula in any column', () => {
  const isFormula = (cell: string) => /^"?[=+\-@\t\r]/.test(cell) && !/^-?[\d.]+(e[+-]?\d+)?$/i.test(cell);
  /** The cells of a CSV (RFC 4180: quoted cells may hold commas, quotes and line breaks). */
  function cells(csv: string): string[] {
    const out: string[] = [];
    const re = /("(?:[^"]|"")*"|[^,\n]*)(,|\n|$)/g;
    for (let m = re.exec(csv); m !== null && m[0] !== ''; m = re.exec(csv)) out.push(m[1]!);
    return out;
  }
  for (const payload of FORMULAS) {
    hostile(
      `every text column of points, relative, udp, comparisons and round-trips CSVs holding ${JSON.stringify(payload)}`,
      () => {
        const point = {
          environment: payload,
          test: payload,
          series: payload,
          parameter: payload,
          value: 100,
          pointId: 'p',
          throughput: { n: 2, mean: -1.5, stdev: 0.1, ciLow: -2, ciHigh: -1 },
          samples: [1, 2],
          replicates: [1, 2],
          failed: 0,
          flagged: 0,
          effectiveSendSocket: null,
          requestedSendSocket: null,
          okRate: null,
          okRates: [],
          sendCalls: 1,
          recvCalls: 1,
          confidenceAsked: false,
          confidenceMissed: 0,
        };
        const other = { ...point, environment: `${payload}b`, samples: [3, 4] };
        const files = [
          pointsCsv([point] as never),
          relativeCsv([
            {
              environment: payload,
              test: payload,
              series: payload,
              x: 1,
              relative: -0.5,
              halfWidth: null,
              low: null,
              high: null,
            },
          ] as never),
          udpCsv([
            {
              environment: payload,
              x: 1,
              sent: 1,
              received: 1,
              okRate: 1,
              lost: 0,
              lossRate: 0,
              low: null,
              high: null,
            },
          ] as never),
          probesCsv([
            {
              kind: 'rtt-probe',
              environment: payload,
              test: payload,
              session: payload,
              block: null,
              startedAt: payload,
              status: payload,
              metrics: null,
              error: payload,
            },
          ] as never),
          comparisonsCsv({
            environments: [payload, `${payload}b`],
            points: [
              { ...point, test: 'TCP_STREAM' },
              { ...other, test: 'TCP_STREAM' },
            ],
          } as never),
        ];
        for (const csv of files) {
          const body = csv.split('\n').slice(1).join('\n');
          expect(body.length, csv).toBeGreaterThan(0);
          expect(cells(body).filter(isFormula), csv).toEqual([]);
        }
      },
    );
  }
});

describe('the corpus itself', () => {
  it('is what the issue asks for: file plants for every writer, payloads for every sink', () => {
    expect(corpus).toBeGreaterThanOrEqual(40);
    expect(lstatSync(outside).isDirectory()).toBe(true);
  });
});

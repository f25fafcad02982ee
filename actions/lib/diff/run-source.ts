// Where the two sides of a diff come from: a run directory, or a run committed under
// reports/runs/<runId>/ (manifest.json + results.jsonl) found from a git ref, "previous" or
// "pr-base". Committed files are read with `git show <commit>:<path>` (no checkout). Git is reached
// through the small GitReader interface, so the resolution rules are tested against a plain object
// as well as a real repository.

import { existsSync, statSync } from 'node:fs';
import { runCommand, runCommandBytes } from '../core/proc.ts';
import { parseManifest, parseResults, type Manifest, type MeasurementRecord } from '../measure/records.ts';
import { isRunDir, loadRun, MANIFEST_FILE, RESULTS_FILE } from '../measure/run-dir.ts';

/** Where committed runs live in the repository: reports/runs/<runId>/{manifest.json,results.jsonl}. */
export const COMMITTED_RUNS_DIR = 'reports/runs';

export class RunSourceError extends Error {
  override name = 'RunSourceError';
  /** Git found no commit where one was needed: perhaps not the repository that holds the runs (the caller says how to name another). */
  readonly wrongRepository: boolean;
  constructor(message: string, options: { wrongRepository?: boolean } = {}) {
    super(message);
    this.wrongRepository = options.wrongRepository ?? false;
  }
}

export interface GitReader {
  /** The full commit id a ref names, or null when git does not know the ref. */
  resolveCommit(ref: string): Promise<string | null>;
  /** Entry names directly under dir in the commit's tree; empty when dir is absent there. */
  listDir(commit: string, dir: string): Promise<string[]>;
  /** A file's content at the commit, or null when it is absent there. */
  readFile(commit: string, path: string): Promise<string | null>;
  /** Several files at the commit in one go (one git process), each null when absent. */
  readFiles(commit: string, paths: readonly string[]): Promise<(string | null)[]>;
  /** Paths under dir that the commit added (compared with its first parent; everything for a root commit). */
  addedPaths(commit: string, dir: string): Promise<string[]>;
  mergeBase(a: string, b: string): Promise<string | null>;
}

/** GitReader over the git command line in repoDir. */
export function gitCli(repoDir: string): GitReader {
  const git = async (...args: string[]) => {
    const r = await runCommand(['git', '-C', repoDir, ...args], { timeoutMs: 30_000 });
    if (r.timedOut) throw new RunSourceError(`git ${args.join(' ')} timed out in ${repoDir}`);
    return r;
  };
  return {
    async resolveCommit(ref) {
      if (ref.startsWith('-')) return null; // never let a "ref" become a git option
      const r = await git('rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`);
      return r.exitCode === 0 ? r.stdout.trim() : null;
    },
    async listDir(commit, dir) {
      const r = await git('ls-tree', '--name-only', `${commit}:${dir}`);
      return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
    },
    async readFile(commit, path) {
      const r = await git('show', `${commit}:${path}`);
      return r.exitCode === 0 ? r.stdout : null;
    },
    async readFiles(commit, paths) {
      if (paths.length === 0) return [];
      // Bytes, not text: each blob's size is a byte count, and a results file may hold any UTF-8.
      const batch = await runCommandBytes(['git', '-C', repoDir, 'cat-file', '--batch'], {
        timeoutMs: 120_000,
        input: paths.map((p) => `${commit}:${p}\n`).join(''),
      });
      if (batch.timedOut || batch.exitCode !== 0) {
        throw new RunSourceError(
          `git cat-file --batch failed in ${repoDir}: ${batch.timedOut ? 'timed out after 120 s' : `exited with ${batch.exitCode ?? batch.signal}: ${batch.stderr.trim()}`}`,
        );
      }
      const out = batch.stdout;
      // Each answer: "<id> blob <size>\n<size bytes>\n", or "<name> missing\n".
      const texts: (string | null)[] = [];
      let at = 0;
      for (let i = 0; i < paths.length; i++) {
        const eol = out.indexOf(10, at);
        const header = out.subarray(at, eol).toString('utf8');
        at = eol + 1;
        const m = / blob (\d+)$/.exec(header);
        if (!m) {
          texts.push(null);
          continue;
        }
        const size = Number(m[1]);
        texts.push(out.subarray(at, at + size).toString('utf8'));
        at += size + 1;
      }
      return texts;
    },
    async addedPaths(commit, dir) {
      const r = await git(
        'diff-tree',
        '--root',
        '--no-commit-id',
        '--name-only',
        '-r',
        '--diff-filter=A',
        commit,
        '--',
        dir,
      );
      return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
    },
    async mergeBase(a, b) {
      const r = await git('merge-base', a, b);
      return r.exitCode === 0 ? r.stdout.trim() : null;
    },
  };
}

export interface ResolvedRun {
  /** As the user named it. */
  label: string;
  /** Where it was read from, for messages: a directory, or "reports/runs/<id> at commit <sha>". */
  origin: string;
  manifest: Manifest;
  records: MeasurementRecord[];
  /** Things the user should know about the choice (another run at the same commit, a fallback). */
  notes: string[];
}

export type RunSpec =
  { kind: 'dir'; path: string } | { kind: 'ref'; ref: string } | { kind: 'previous' } | { kind: 'pr-base' };

/** A command-line argument -> what it names. An existing directory wins over a ref of the same name. */
export function parseRunSpec(arg: string): RunSpec {
  if (arg === '') throw new RunSourceError('an empty run name: give a run directory, a git ref, previous or pr-base');
  if (arg === 'previous') return { kind: 'previous' };
  if (arg === 'pr-base') return { kind: 'pr-base' };
  if (existsSync(arg) && statSync(arg).isDirectory()) return { kind: 'dir', path: arg };
  if (existsSync(arg))
    throw new RunSourceError(
      `${arg} is a file, not a run directory (a run directory holds ${MANIFEST_FILE} and ${RESULTS_FILE})`,
    );
  return { kind: 'ref', ref: arg };
}

function loadDir(path: string): ResolvedRun {
  if (!isRunDir(path))
    throw new RunSourceError(`${path} is a directory but not a virtnet run: it has no ${MANIFEST_FILE}`);
  const run = loadRun(path);
  const notes =
    run.results.truncatedLastLine !== null
      ? [`${path}: ignored a last line cut short by a crash (line ${run.results.truncatedLastLine})`]
      : [];
  return { label: path, origin: path, manifest: run.manifest, records: run.results.records, notes };
}

interface CommittedRun {
  runId: string;
  commit: string;
  manifest: Manifest;
}

function parseCommittedManifest(text: string, commit: string, runId: string): Manifest {
  return parseManifest(text, `${COMMITTED_RUNS_DIR}/${runId}/${MANIFEST_FILE} at commit ${commit.slice(0, 10)}`);
}

async function readManifest(git: GitReader, commit: string, runId: string): Promise<Manifest | null> {
  const text = await git.readFile(commit, `${COMMITTED_RUNS_DIR}/${runId}/${MANIFEST_FILE}`);
  return text === null ? null : parseCommittedManifest(text, commit, runId);
}

/** Every run committed in the commit's tree, manifests read and validated. */
async function committedRuns(git: GitReader, commit: string): Promise<CommittedRun[]> {
  const runIds = await git.listDir(commit, COMMITTED_RUNS_DIR);
  const texts = await git.readFiles(
    commit,
    runIds.map((id) => `${COMMITTED_RUNS_DIR}/${id}/${MANIFEST_FILE}`),
  );
  const out: CommittedRun[] = [];
  runIds.forEach((runId, i) => {
    const text = texts[i];
    if (text !== null && text !== undefined)
      out.push({ runId, commit, manifest: parseCommittedManifest(text, commit, runId) });
  });
  return out;
}

async function loadCommitted(git: GitReader, run: CommittedRun, label: string, notes: string[]): Promise<ResolvedRun> {
  const path = `${COMMITTED_RUNS_DIR}/${run.runId}/${RESULTS_FILE}`;
  const text = (await git.readFile(run.commit, path)) ?? '';
  const results = parseResults(text, `${path} at commit ${run.commit.slice(0, 10)}`);
  return {
    label,
    origin: `${COMMITTED_RUNS_DIR}/${run.runId} at commit ${run.commit.slice(0, 10)}`,
    manifest: run.manifest,
    records: results.records,
    notes,
  };
}

function newestFirst(runs: CommittedRun[]): CommittedRun[] {
  return [...runs].sort(
    (x, y) => y.manifest.createdAt.localeCompare(x.manifest.createdAt) || y.runId.localeCompare(x.runId),
  );
}

/**
 * The run(s) belonging to a commit: those the commit added under reports/runs/, else those whose
 * manifest.git.commit is that commit (measured it), committed at it or later on this branch (HEAD).
 */
async function runsOfCommit(git: GitReader, commit: string): Promise<{ runs: CommittedRun[]; how: string }> {
  const added = new Set<string>();
  for (const path of await git.addedPaths(commit, COMMITTED_RUNS_DIR)) {
    const runId = path.slice(COMMITTED_RUNS_DIR.length + 1).split('/')[0];
    if (runId && path.endsWith(`/${MANIFEST_FILE}`)) added.add(runId);
  }
  if (added.size > 0) {
    const runs: CommittedRun[] = [];
    for (const runId of added) {
      const manifest = await readManifest(git, commit, runId);
      if (manifest) runs.push({ runId, commit, manifest });
    }
    return { runs, how: 'committed by' };
  }
  const head = await git.resolveCommit('HEAD');
  const seen = new Map<string, CommittedRun>();
  for (const tree of head && head !== commit ? [commit, head] : [commit]) {
    for (const run of await committedRuns(git, tree))
      if (run.manifest.git?.commit === commit && !seen.has(run.runId)) seen.set(run.runId, run);
  }
  return { runs: [...seen.values()], how: 'measuring' };
}

function pickNewest(runs: CommittedRun[], what: string): { run: CommittedRun; notes: string[] } {
  const sorted = newestFirst(runs);
  const notes =
    sorted.length > 1
      ? [
          `${what}: ${sorted.length} runs found (${sorted.map((r) => r.runId).join(', ')}); using the newest, ${sorted[0]!.runId}`,
        ]
      : [];
  return { run: sorted[0]!, notes };
}

async function resolveRef(git: GitReader, ref: string, label: string): Promise<ResolvedRun> {
  const commit = await git.resolveCommit(ref);
  if (!commit)
    throw new RunSourceError(`${ref}: not a run directory, and git knows no such ref or commit`, {
      wrongRepository: true,
    });
  const { runs, how } = await runsOfCommit(git, commit);
  if (runs.length === 0) {
    throw new RunSourceError(
      `${ref} (commit ${commit.slice(0, 10)}): no run at that commit: it added nothing under ${COMMITTED_RUNS_DIR}/, and no committed run's manifest.git.commit is that commit`,
    );
  }
  const { run, notes } = pickNewest(runs, `${ref}: runs ${how} commit ${commit.slice(0, 10)}`);
  return loadCommitted(git, run, label, notes);
}

/**
 * "previous": the newest run committed on this branch (HEAD's tree) created before the other side,
 * measured by the same runner pair (or, for a run of no pair, by none): another pair's machines
 * are no baseline.
 */
async function resolvePrevious(git: GitReader, other: ResolvedRun): Promise<ResolvedRun> {
  const head = await git.resolveCommit('HEAD');
  if (!head)
    throw new RunSourceError(
      `previous: needs a git repository with committed runs under ${COMMITTED_RUNS_DIR}/ (no commit at HEAD here)`,
      { wrongRepository: true },
    );
  const pair = other.manifest.runnerPair ?? null;
  const older = (await committedRuns(git, head)).filter(
    (r) =>
      r.runId !== other.manifest.runId &&
      r.manifest.createdAt < other.manifest.createdAt &&
      (r.manifest.runnerPair ?? null) === pair,
  );
  const ofPair = pair === null ? '' : ` of runner pair ${pair}`;
  if (older.length === 0)
    throw new RunSourceError(
      `previous: no run${ofPair} committed under ${COMMITTED_RUNS_DIR}/ on this branch is older than run ${other.manifest.runId} (created ${other.manifest.createdAt})`,
    );
  const run = newestFirst(older)[0]!;
  return loadCommitted(git, run, 'previous', [
    `previous: run ${run.runId} (created ${run.manifest.createdAt}), the newest committed run${ofPair} older than ${other.manifest.runId}`,
  ]);
}

/**
 * "pr-base": the run at the merge base of the pull request's base branch (GITHUB_BASE_REF) and HEAD.
 * If that commit has no run of its own, the newest run committed in its tree stands in (noted).
 */
async function resolvePrBase(git: GitReader, baseRef: string | undefined): Promise<ResolvedRun> {
  if (!baseRef)
    throw new RunSourceError(
      'pr-base: GITHUB_BASE_REF is not set (GitHub sets it in pull_request workflows only); give the base as a ref instead, e.g. origin/main',
    );
  const base = (await git.resolveCommit(`origin/${baseRef}`)) ?? (await git.resolveCommit(baseRef));
  if (!base)
    throw new RunSourceError(
      `pr-base: neither origin/${baseRef} nor ${baseRef} is known to git (fetch the base branch: actions/checkout with fetch-depth: 0)`,
    );
  const head = await git.resolveCommit('HEAD');
  const mergeBase = head ? await git.mergeBase(base, head) : null;
  if (!mergeBase)
    throw new RunSourceError(
      `pr-base: no merge base of ${baseRef} and HEAD (is the history shallow? fetch with fetch-depth: 0)`,
    );
  const { runs, how } = await runsOfCommit(git, mergeBase);
  if (runs.length > 0) {
    const { run, notes } = pickNewest(runs, `pr-base: runs ${how} merge base ${mergeBase.slice(0, 10)}`);
    return loadCommitted(git, run, 'pr-base', [
      `pr-base: merge base ${mergeBase.slice(0, 10)} of ${baseRef} and HEAD`,
      ...notes,
    ]);
  }
  const inTree = newestFirst(await committedRuns(git, mergeBase));
  if (inTree.length === 0)
    throw new RunSourceError(
      `pr-base: no run committed under ${COMMITTED_RUNS_DIR}/ at the merge base ${mergeBase.slice(0, 10)} of ${baseRef} and HEAD`,
    );
  return loadCommitted(git, inTree[0]!, 'pr-base', [
    `pr-base: merge base ${mergeBase.slice(0, 10)} of ${baseRef} and HEAD has no run of its own; using the newest run committed there, ${inTree[0]!.runId}`,
  ]);
}

export interface ResolveContext {
  git: GitReader;
  /** GITHUB_BASE_REF, for pr-base. */
  baseRef?: string;
}

/** Resolves both sides. "previous" is relative to the other side, so that side is resolved first. */
export async function resolveRunPair(
  argA: string,
  argB: string,
  ctx: ResolveContext,
): Promise<[ResolvedRun, ResolvedRun]> {
  const specA = parseRunSpec(argA);
  const specB = parseRunSpec(argB);
  if (specA.kind === 'previous' && specB.kind === 'previous')
    throw new RunSourceError('previous is relative to the other run: only one side can be previous');
  const one = (spec: RunSpec, label: string) => {
    switch (spec.kind) {
      case 'dir':
        return Promise.resolve(loadDir(spec.path));
      case 'ref':
        return resolveRef(ctx.git, spec.ref, label);
      case 'pr-base':
        return resolvePrBase(ctx.git, ctx.baseRef);
      case 'previous':
        throw new Error('unreachable');
    }
  };
  if (specA.kind === 'previous') {
    const b = await one(specB, argB);
    return [await resolvePrevious(ctx.git, b), b];
  }
  const a = await one(specA, argA);
  const b = specB.kind === 'previous' ? await resolvePrevious(ctx.git, a) : await one(specB, argB);
  return [a, b];
}

// virtnet run: bring up the testbed (or use an external server), sweep, tear down, report.

import { plural } from '../../actions/lib/core/text.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../actions/lib/core/lock.ts';
import { checkPlanAgainstKernel, estimateSeconds, expandPoints, type Plan } from '../../actions/lib/plan/plan.ts';
import { loadPlan, overridePlan } from '../../actions/lib/plan/plan-file.ts';
import { killOrphanedDaemons } from '../../actions/lib/core/proc.ts';
import type { LinkDescription } from '../../actions/lib/measure/records.ts';
import {
  checkNewRunDir,
  executeRun,
  localHosts,
  type RunHosts,
  RunSetupError,
  type RunSummary,
} from '../../actions/lib/measure/session.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { describeEvent } from '../../actions/lib/measure/sweep-events.ts';
import { summarizePoints } from '../../actions/lib/analyse/aggregate.ts';
import { precisionLines, precisionReached } from '../../actions/lib/analyse/precision.ts';
import { acceleratorRequest } from '../../actions/lib/measure/environment.ts';
import type { EnvironmentDriver } from '../../actions/lib/measure/environment.ts';
import { parseEnvironmentList } from '../../env/registry.ts';
import { loadVariants } from '../../env/variants.ts';
import { CALIBRATED_ONE_WAY_DELAY_US, testbedDown, testbedLockPath, testbedUp } from '../../env/testbed/testbed.ts';
import { delayLineStats, formatDelay, watchDelayLine } from '../../env/testbed/delay-line.ts';
import { congestionControlOption, delayOption } from './testbed.ts';
import { reportAfterRun } from './report.ts';
import { pairNameFrom } from '../../actions/lib/measure/runner-pairs.ts';
import {
  asOptions,
  formatDuration,
  intOption,
  parseCommandArgs,
  PLANS_DIR,
  rateOption,
  REPO_DIR,
  testbedIndexOption,
  UsageError,
  say,
  sayError,
} from './common.ts';

const OPTIONS = {
  plan: { type: 'string' },
  env: { type: 'string' },
  variants: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'string' },
  replicates: { type: 'string' },
  'test-length': { type: 'string' },
  seed: { type: 'string' },
  'no-shuffle': { type: 'boolean' },
  rate: { type: 'string' },
  delay: { type: 'string' },
  cc: { type: 'string' },
  index: { type: 'string' },
  server: { type: 'string' },
  pair: { type: 'string' },
  'osv-image': { type: 'string' },
  accel: { type: 'string' },
  'guest-network': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'netperf-grace': { type: 'string' },
  'no-report': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

interface Settings {
  plan: Plan | null;
  planSource: string;
  environments: EnvironmentDriver[];
  outDir: string;
  resume: boolean;
}

function resolveSettings(values: Record<string, string | boolean | undefined>): Settings {
  const str = (k: string) => values[k] as string | undefined;
  // Built-in variants (env/variants.json), and a user's file of more (README: Environment variants).
  const variants = asOptions(() => loadVariants(str('variants') ?? null));
  if (str('resume') !== undefined) {
    const dir = str('resume')!;
    if (str('plan')) throw new UsageError('--resume takes the plan from the run; drop --plan');
    if (str('out') && str('out') !== dir) throw new UsageError('--resume DIR continues DIR; drop --out');
    const run = loadRun(dir);
    const environments = asOptions(() =>
      parseEnvironmentList(str('env') ?? run.manifest.environments.join(','), variants),
    );
    return { plan: null, planSource: run.manifest.planSource, environments, outDir: dir, resume: true };
  }
  if (!str('plan')) throw new UsageError('--plan is required: quick, paper, or a plan file');
  const { plan: loaded, source } = loadPlan(str('plan')!, PLANS_DIR);
  const plan = overridePlan(
    loaded,
    {
      replicates: intOption('replicates', str('replicates'), 1, 1000),
      testLengthSeconds: intOption('test-length', str('test-length'), 1, 3600),
      seed: intOption('seed', str('seed'), 0, 2 ** 32 - 1),
      randomize: values['no-shuffle'] ? false : undefined,
    },
    source,
  );
  const environments = asOptions(() => parseEnvironmentList(str('env') ?? 'native', variants));
  const outDir =
    str('out') ?? join('runs', `${new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, '')}-${plan.name}`);
  // Before the testbed comes up: a directory the run cannot go into stops nothing but this command.
  try {
    checkNewRunDir(outDir);
  } catch (e) {
    throw runDirError(e, outDir);
  }
  return { plan, planSource: source, environments, outDir, resume: false };
}

/** The session's refusal of a run directory, with the advice the command line can give. */
function runDirError(e: unknown, outDir: string): unknown {
  if (!(e instanceof RunSetupError)) return e;
  if (e.reason === 'holds-a-run')
    return new Error(`${outDir} already holds a run; continue it with --resume ${outDir}, or choose another --out`);
  if (e.reason === 'not-empty')
    return new Error(`${outDir} exists and is not empty; choose an empty or new --out directory`);
  return e;
}

/** The built-in plans whose sweeps need the paper's regimes: the paper plan and its trimmed `modern` form. */
export const PLANS_WITH_CALIBRATED_DELAY: readonly string[] = ['paper', 'modern'];

/**
 * The one-way delay a run gets when --delay does not say: the paper plan's TCP claims live in the
 * window-limited regime, which the bare testbed link does not show (native is at line rate from
 * -s 100), so on the embedded testbed it gets the calibrated delay; other plans, and an external
 * server's real link, get none.
 */
export function defaultOneWayDelay(planName: string, o: { external: boolean }): number {
  return PLANS_WITH_CALIBRATED_DELAY.includes(planName) && !o.external ? CALIBRATED_ONE_WAY_DELAY_US : 0;
}

/** The whole `virtnet run`, reusable by `npm run reproduce`. Returns the summary and exit code. */
export async function runFromArgs(args: string[]): Promise<{ code: number; summary: RunSummary | null }> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  const settings = resolveSettings(values);
  const external = values.server;
  const index = testbedIndexOption(values.index);
  const rate = rateOption(values.rate, 100);
  const accel = asOptions(() => acceleratorRequest('accel', values.accel ?? 'auto'));
  // The runner pair that measures (manifest.runnerPair), by its name in .github/runner-pairs.json.
  const runnerPair = values.pair === undefined ? undefined : asOptions(() => pairNameFrom('pair', values.pair!));
  const readyTimeout = intOption('ready-timeout', values['ready-timeout'], 1, 3600) ?? 120;
  const netperfGrace = intOption('netperf-grace', values['netperf-grace'], 1, 3600) ?? 20;
  const osvImage = values['osv-image'] ?? process.env.VIRTNET_OSV_IMAGE;
  if (osvImage !== undefined && !existsSync(osvImage)) throw new UsageError(`--osv-image: ${osvImage} does not exist`);
  const guestNetwork = values['guest-network'] ?? 'tap';
  if (!['tap', 'user'].includes(guestNetwork))
    throw new UsageError(`--guest-network: expected tap or user, got ${JSON.stringify(guestNetwork)}`);
  const envSettings: Record<string, string> = { accel, testbedIndex: String(index), guestNetwork };
  if (osvImage) envSettings.osvImage = osvImage;

  const resumed = settings.resume ? loadRun(settings.outDir).manifest : null;
  const plan = settings.plan ?? resumed!.plan;
  // A resumed run keeps its link: points measured over different delays would not belong together.
  const recordedDelay = resumed?.link?.oneWayDelayMicroseconds ?? 0;
  const delay =
    delayOption(values.delay) ??
    (resumed ? recordedDelay : defaultOneWayDelay(plan.name, { external: Boolean(values.server) }));
  if (resumed && delay !== recordedDelay)
    throw new UsageError(
      `--delay: the run was measured with delay ${formatDelay(recordedDelay)}; a resume cannot change it to ${formatDelay(delay)}`,
    );
  const congestionControl =
    congestionControlOption(values.cc) ??
    resumed?.hosts.client?.sysctls['net.ipv4.tcp_congestion_control'] ??
    undefined;
  if (values.server && (delay > 0 || values.cc))
    throw new UsageError(
      `--${delay > 0 ? 'delay' : 'cc'} shapes the namespace testbed; with --server the link and the client are as they are`,
    );
  checkPlanAgainstKernel(plan, { wmemMax: Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8')) });
  const log = (line: string) => {
    if (!values.quiet) say(line);
  };
  const measurements = expandPoints(plan).length * plan.replicates * settings.environments.length;
  log(
    `virtnet run: plan ${plan.name} (${settings.planSource}), environments ${settings.environments.map((e) => e.name).join(', ')}`,
  );
  log(
    `  ${plural(measurements, 'measurement')} planned (${plural(expandPoints(plan).length, 'point')} x ${plural(plan.replicates, 'replicate')} x ${plural(settings.environments.length, 'environment')}), ${plan.testLengthSeconds} s each; estimated ${formatDuration(estimateSeconds(plan, settings.environments.length))}${settings.resume ? ' before skipping those already done' : ''}`,
  );
  log(`  run directory: ${settings.outDir}`);

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // A second signal while tearing down: the user wants out now. Every record is already on
      // disk; what teardown did not reach, `virtnet cleanup` removes.
      sayError(
        `\n${signal} again: exiting without finishing the teardown; run virtnet cleanup, then virtnet run --resume ${settings.outDir}`,
      );
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    log(
      `\n${signal}: stopping after tearing down; the run can be resumed with: virtnet run --resume ${settings.outDir}`,
    );
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let serverAddress: string;
  let hosts: RunHosts;
  let link: LinkDescription;
  const lock = external ? null : acquireLock(testbedLockPath(index), `testbed ${index}`);
  if (lock?.tookOverFrom)
    log(`  note: took over the testbed ${index} lock of PID ${lock.tookOverFrom}, which is gone (killed?)`);
  // A run killed with SIGKILL leaves its daemons (netserver, ...) holding the testbed's ports.
  for (const ended of killOrphanedDaemons()) log(`  note: ended ${ended}, left by a run that is gone`);
  let summary: RunSummary | null = null;
  let madeTestbed = false;
  let linkFailure: string | null = null;
  let stopWatching = () => {};
  // Processes of the measurement this command did not start as its children: the testbed's
  // (detached) delay line. Their CPU time is not interference.
  let linkPids: number[] = [];
  try {
    if (external) {
      serverAddress = external;
      // The environments' drivers still run here: this machine serves them on the external address.
      hosts = localHosts([]);
      link = {
        kind: 'external',
        shaping: 'as cabled (not shaped by virtnet)',
        rateMbit: null,
        serverAddress: external,
        clientAddress: null,
        clientNamespace: null,
      };
    } else {
      const testbed = await testbedUp({ index, rateMbit: rate, oneWayDelayMicroseconds: delay, congestionControl });
      madeTestbed = true;
      serverAddress = testbed.layout.serverAddress;
      hosts = localHosts(testbed.clientPrefix);
      link = testbed.link;
      linkPids = testbed.delayLinePid === null ? [] : [testbed.delayLinePid];
      log(
        `  testbed ${index}: ${testbed.layout.clientAddress} (client namespace) <-> ${serverAddress} (server); ${link.shaping}; delay ${formatDelay(delay)}; client TCP ${testbed.congestionControl}`,
      );
      // Without its delay line the link drops every packet (no queue bypass): stop the run at
      // once, discarding the measurement in flight; everything recorded before stays.
      if (delay > 0) {
        stopWatching = watchDelayLine(index, (problem) => {
          linkFailure = problem;
          controller.abort(`delay line failed: ${problem}`);
        });
      }
    }
    summary = await executeRun({
      outDir: settings.outDir,
      plan: settings.plan,
      planSource: settings.planSource,
      resume: settings.resume,
      environments: settings.environments,
      serverAddress,
      hosts,
      runnerPair,
      link,
      settings: envSettings,
      readyTimeoutMs: readyTimeout * 1000,
      netperfGraceSeconds: netperfGrace,
      ownPids: () => linkPids,
      linkReleases: async () => {
        if (linkPids.length === 0) return null;
        const stats = await delayLineStats(index);
        return stats === null ? null : { released: stats.released, late: stats.lateAtLeast100Us };
      },
      repoDir: REPO_DIR,
      signal: controller.signal,
      onEvent: (e) => log(describeEvent(e).text),
    }).catch((e: unknown) => {
      throw runDirError(e, settings.outDir);
    });
  } finally {
    stopWatching();
    if (madeTestbed) await testbedDown(index);
    lock?.release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  log(
    `\nrun ${summary.status}: ${summary.measured} measured, ${summary.failed} failed, ${summary.missing} of ${summary.planned} planned measurements still missing`,
  );
  for (const [env, error] of Object.entries(summary.outcome.environmentErrors)) log(`  ${env}: ${error}`);
  // How far the replicates went: per environment, the median and worst interval against the plan's target.
  const finished = loadRun(settings.outDir);
  for (const line of precisionLines(
    precisionReached(summarizePoints(finished.results.records), finished.manifest.environments),
    finished.manifest.plan.precision?.halfWidthPercent ?? null,
  ))
    log(`  ${line}`);
  if (!values['no-report'] && !controller.signal.aborted) {
    // The report (RUN/report), the claims' verdicts and a one-run site (RUN/site); see cli/report.ts.
    await reportAfterRun(settings.outDir, log);
  }
  log(`  results: ${join(settings.outDir, 'results.jsonl')}`);
  if (linkFailure !== null) {
    sayError(
      `virtnet run: FAILED: ${linkFailure}. Without it the testbed link drops every packet, so the run stopped; the measurement in progress was discarded, the ${summary.measured + summary.failed} recorded in this session are kept. Continue with: virtnet run --resume ${settings.outDir}`,
    );
    return { code: 1, summary };
  }
  const signalCode = controller.signal.reason === 'SIGINT' ? 130 : controller.signal.reason === 'SIGTERM' ? 143 : null;
  return { code: signalCode ?? (summary.status === 'complete' ? 0 : 1), summary };
}

export async function commandRun(args: string[]): Promise<number> {
  return (await runFromArgs(args)).code;
}

#!/usr/bin/env node
// virtnet: the command line. Each command parses its arguments, then hands over to the library.

import { commandRun } from './cli/run.ts';
import { commandTestbed } from './cli/testbed.ts';
import { commandReport } from './cli/report.ts';
import { commandCleanup } from './cli/cleanup.ts';
import { commandDiff } from './cli/diff.ts';
import { commandServe } from './cli/serve.ts';
import { UsageError, print, printError } from './cli/common.ts';
import { CALIBRATED_ONE_WAY_DELAY_US } from '../env/testbed/testbed.ts';

const USAGE = `virtnet: netperf across native Linux, Docker, a QEMU/KVM Linux guest and OSv

usage:
  virtnet run --plan <quick|paper|FILE> --env <native[,docker,kvm,osv,VARIANT]|all> --out <DIR> [options]
  virtnet run --resume <DIR>
  virtnet testbed up|down|status [--rate MBIT|off] [--delay D|off] [--cc NAME] [--index N]
  virtnet report <RUN_DIR...> [--out DIR] [--site DIR] [--commit [--reports DIR]] [--claims NAME|FILE]
  virtnet diff <A> <B> [--format text|markdown|json] [--threshold PCT] [--alpha P] [--fail-on-regression]
  virtnet cleanup [--index N]
  virtnet serve --env NAME --endpoint-file FILE [--index N] [--server ADDRESS] [--hold-timeout MIN] [--run-key KEY]
                        (release key, when required: environment variable VIRTNET_RELEASE_KEY)

run options:
  --plan NAME|FILE      sweep plan: a built-in name (paper, quick) or a plan JSON file
  --env LIST            environments and variants, comma-separated, measured one at a time
                        (default: native): native, docker, kvm, osv, all (those four), and the
                        variants docker-host, kvm-e1000, kvm-vhost, osv-vhost (env/variants.json)
  --variants FILE       more variants: a JSON file of the form of env/variants.json
  --out DIR             run directory to create (default: runs/<time>-<plan>)
  --resume DIR          continue an interrupted run: keep its measurements, make the missing ones
  --replicates N        override the plan's replicates
  --test-length S       override the plan's test length (seconds)
  --seed N              override the plan's shuffle seed
  --no-shuffle          run points in plan order
  --rate MBIT|off       testbed link rate (default 100, the paper's cable)
  --delay D|off         one-way delay added in each direction of the testbed link, e.g. 0.15ms or
                        150us (default off; npm run reproduce uses the calibrated ${CALIBRATED_ONE_WAY_DELAY_US}us); a resumed
                        run keeps its delay
  --cc NAME             TCP congestion control of the client, the sender (default cubic, the paper's)
  --index N             testbed index 0-63 (default 0; tests use others)
  --server ADDRESS      measure an external server (a real two-host testbed): no namespace testbed
  --pair NAME           the runner pair that measures, recorded in the manifest (runnerPair); its
                        name in .github/runner-pairs.json (a resumed run keeps its pair)
  --osv-image PATH      OSv image for --env osv (also VIRTNET_OSV_IMAGE)
  --accel auto|kvm|tcg  accelerator for QEMU guests (default auto: kvm only with vmx/svm)
  --guest-network tap|user  QEMU guests' network: tap on a bridge with DNAT port maps, like
                        libvirt's default network (default), or QEMU user-mode networking (slower)
  --ready-timeout S     how long an environment may take to answer (default 120)
  --netperf-grace S     seconds beyond the test length before a netperf call is deemed hung (default 20)
  --no-report           do not render charts at the end

report options:
  --out DIR             where the report files go (default: RUN_DIR/report)
  --site DIR            build a static site: an index of the runs and a page per run
  --commit              copy each run with its report into reports/runs/<runId>/ (see reports/README.md)
  --reports DIR         with --commit: the reports directory (default: reports)
  --claims NAME|FILE    the claims judged: a built-in name (paper: env/plans/paper-claims.json) or a
                        claims file (default: paper)

diff: A is the baseline, B the candidate; each a run directory, a git ref or commit (its run
committed under reports/runs/), previous (the newest committed run older than the other side) or
pr-base (the run at the merge base with $GITHUB_BASE_REF)
  --format F            text (default), markdown (job summary, PR comment) or json
  --threshold PCT       smallest change that counts as improved/regressed (default 5)
  --alpha P             significance level, Holm-corrected across points (default 0.05)
  --correction holm|none  multiple-comparison correction (default holm)
  --fail-on-regression  exit with status 3 when any point regressed
  --repo DIR            git repository to read committed runs from (default: current directory)
  --out DIR             also write diff.json, diff.md, diff.txt, overlay charts and index.html
  --claims NAME|FILE    the claims whose verdicts are compared (default: paper)
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  run: commandRun,
  testbed: commandTestbed,
  report: commandReport,
  cleanup: commandCleanup,
  diff: commandDiff,
  serve: commandServe,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    print(USAGE);
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    printError(`virtnet: unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(commands).join(', ')}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      printError(`virtnet ${name}: ${err.message}\n(see virtnet --help)\n`);
      return 2;
    }
    printError(`virtnet ${name}: ${err.message}\n`);
    if (process.env.VIRTNET_DEBUG) printError(`${err.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

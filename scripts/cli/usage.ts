// What `virtnet --help` and `virtnet COMMAND --help` print: each command's synopsis and options, in
// one place. The report command's text lives with it (REPORT_USAGE).

import { CALIBRATED_ONE_WAY_DELAY_US } from '../../env/testbed/testbed.ts';
import { REPORT_USAGE } from './report.ts';

interface CommandUsage {
  synopsis: string[];
  options: string;
}

export const COMMAND_USAGE: Record<string, CommandUsage> = {
  run: {
    synopsis: [
      'virtnet run --plan <quick|paper|FILE> --env <native[,docker,kvm,osv,VARIANT]|all> --out <DIR> [options]',
      'virtnet run --resume <DIR>',
    ],
    options: `run options:
  --plan NAME|FILE      sweep plan: a built-in name (paper, quick) or a plan JSON file
  --env LIST            environments and variants, comma-separated, measured one at a time
                        (default: native): native, docker, kvm, osv, all (those four), and the
                        variants docker-host, gvisor, gvisor-host, kvm-e1000, kvm-vhost, kvm-microvm,
                        osv-vhost, podman-rootless, podman-rootless-rootlesskit, podman-rootless-pasta
                        (env/variants.json), and the repository's own (env/user-variants.json)
  --variants FILE       more variants: a JSON file of the form of env/variants.json
  --out DIR             run directory to create (default: runs/<time>-<plan>)
  --resume DIR          continue an interrupted run: keep its measurements, make the missing ones
  --replicates N        override the plan's replicates
  --test-length S       override the plan's test length (seconds)
  --seed N              override the plan's shuffle seed
  --no-shuffle          run points in plan order
  --rate MBIT|off       testbed link rate (default 100, the paper's cable)
  --delay D|off         one-way delay added in each direction of the testbed link, e.g. 0.15ms or
                        150us (default: the calibrated ${CALIBRATED_ONE_WAY_DELAY_US}us for --plan paper on the testbed, where
                        its TCP claims need it, else off; npm run reproduce adds it to any plan); a
                        resumed run keeps its delay
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
  --no-report           do not render charts at the end`,
  },
  testbed: {
    synopsis: ['virtnet testbed up|down|status [--rate MBIT|off] [--delay D|off] [--cc NAME] [--index N]'],
    options: `testbed options:
  --rate MBIT|off       link rate (default 100, the paper's cable)
  --delay D|off         one-way delay in each direction, e.g. 0.15ms or 150us (default off)
  --cc NAME             TCP congestion control of the client namespace (default cubic)
  --index N             testbed index 0-63 (default 0)`,
  },
  report: {
    synopsis: [
      'virtnet report <RUN_DIR...> [--out DIR] [--site DIR [--diff A:B]... [--no-svg]] [--commit [--reports DIR]] [--claims NAME|FILE]',
    ],
    options: `report options:
${REPORT_USAGE}`,
  },
  diff: {
    synopsis: [
      'virtnet diff <A> <B> [--format text|markdown|json] [--only-changed] [--threshold PCT] [--alpha P] [--fail-on-regression]',
    ],
    options: `diff: A is the baseline, B the candidate; each a run directory, a git ref or commit (its run
committed under reports/runs/), previous (the newest committed run older than the other side) or
pr-base (the run at the merge base with $GITHUB_BASE_REF)
  --format F            text (default), markdown (job summary, PR comment) or json
  --only-changed        only the curves with a regressed or improved point (text and markdown)
  --threshold PCT       smallest change that counts as improved/regressed (default 5)
  --alpha P             significance level, Holm-corrected across points (default 0.05)
  --correction holm|none  multiple-comparison correction (default holm)
  --fail-on-regression  exit with status 3 when any point regressed
  --repo DIR            git repository to read committed runs from (default: current directory)
  --out DIR             also write diff.json, diff.md, diff.txt, overlay charts and index.html
  --claims NAME|FILE    the claims whose verdicts are compared (default: paper)`,
  },
  cleanup: {
    synopsis: ['virtnet cleanup [--index N]'],
    options: `cleanup: removes what a killed run left behind (testbeds, containers, guests, delay lines), found by
the project's own names and PIDs; what a live run holds is kept.
  --index N             only what served testbed N`,
  },
  serve: {
    synopsis: [
      'virtnet serve --env NAME --endpoint-file FILE [--index N] [--server ADDRESS] [--hold-timeout MIN] [--run-key KEY]',
      '                      (release key, when required: environment variable VIRTNET_RELEASE_KEY)',
    ],
    options: `serve: starts one environment on this machine (the server runner) and holds it until the client
releases it or the hold times out; its endpoint is written to the endpoint file.`,
  },
};

const HEADER = 'virtnet: netperf across native Linux, Docker, a QEMU/KVM Linux guest and OSv';

/** The whole usage text: every synopsis, then every command's options. */
export function fullUsage(): string {
  const synopses = Object.values(COMMAND_USAGE).flatMap((c) => c.synopsis.map((l) => `  ${l}`));
  const options = Object.values(COMMAND_USAGE).map((c) => c.options);
  return `${HEADER}

usage:
${synopses.join('\n')}
  virtnet COMMAND --help        one command's usage
  virtnet --version

${options.join('\n\n')}
`;
}

/** One command's usage, for `virtnet COMMAND --help`. */
export function commandUsage(name: string): string {
  const c = COMMAND_USAGE[name]!;
  return `usage:\n${c.synopsis.map((l) => `  ${l}`).join('\n')}\n\n${c.options}\n`;
}

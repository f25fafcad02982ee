#!/usr/bin/env node
// npm run reproduce: the paper's sweep on every environment this machine can run, on the embedded
// two-host testbed, then the report. A thin wrapper over `virtnet run` and `virtnet report`.
// Extra arguments go to `virtnet run` (e.g. --plan quick, --env native). The testbed link gets the
// calibrated one-way delay (env/testbed/README.md) unless --delay says otherwise (--delay off: the
// bare link); a resumed run keeps the delay it was measured with.

import { ENVIRONMENTS } from '../env/registry.ts';
import { CALIBRATED_ONE_WAY_DELAY_US } from '../env/testbed/testbed.ts';
import { runFromArgs } from './cli/run.ts';
import { say, sayError } from './cli/common.ts';

const passThrough = process.argv.slice(2);
const has = (flag: string) => passThrough.some((a) => a === flag || a.startsWith(`${flag}=`));

const args = [...passThrough];
if (!has('--plan') && !has('--resume')) args.push('--plan', 'paper');
if (!has('--env') && !has('--resume')) {
  const usable: string[] = [];
  for (const env of ENVIRONMENTS) {
    const a = await env.available({});
    if (a.ok) usable.push(env.name);
    else say(`reproduce: leaving out ${env.name}: ${a.reason}`);
  }
  args.push('--env', usable.join(','));
}
if (!has('--delay') && !has('--resume') && !has('--server')) args.push('--delay', `${CALIBRATED_ONE_WAY_DELAY_US}us`);
if (!has('--out') && !has('--resume'))
  args.push('--out', `runs/reproduce-${new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, '')}`);

try {
  const { code } = await runFromArgs(args);
  process.exitCode = code;
} catch (e) {
  sayError(`reproduce: ${(e as Error).message}`);
  process.exitCode = 1;
}

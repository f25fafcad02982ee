// The plan job's check of the environments input: the names a workflow run asked for, against what
// this checkout knows (the four, the built-in variants of env/variants.json and the repository's own
// of env/user-variants.json, each file checked against the variants schema), and each one's base for
// the legs' guards. Writes the outputs to $GITHUB_OUTPUT (`environments`: a JSON list;
// `environment-list`: comma-separated; `bases`: a JSON object name -> base; `needs-osv`), or prints
// them without GitHub. A bad list or variants file stops the workflow with an error naming it.
//
//   node scripts/environments.ts LIST      (LIST: native,docker,kvm,... or all)

import { appendFileSync } from 'node:fs';
import { InputError } from '../actions/lib/core/input.ts';
import { parseEnvironmentList } from '../env/registry.ts';
import { checkoutVariants, type Variant } from '../env/variants.ts';

/** The GITHUB_OUTPUT lines for the environments in `list`; an InputError for a bad list or variants file. */
export function environmentsOutputs(list: string, variants: readonly Variant[] = checkoutVariants()): string {
  const names = parseEnvironmentList(list, variants).map((d) => d.name);
  const baseOf = new Map(variants.map((v) => [v.name, v.base]));
  const bases = Object.fromEntries(names.map((n) => [n, baseOf.get(n) ?? n]));
  return [
    `environments=${JSON.stringify(names)}`,
    `environment-list=${names.join(',')}`,
    `bases=${JSON.stringify(bases)}`,
    `needs-osv=${Object.values(bases).includes('osv')}`,
    '',
  ].join('\n');
}

if (import.meta.main) {
  try {
    const lines = environmentsOutputs(process.argv[2] ?? '');
    if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, lines);
    process.stdout.write(lines);
  } catch (e) {
    const message =
      e instanceof InputError ? `${e.field === 'env' ? 'environments' : e.field}: ${e.problem}` : String(e);
    console.log(`::error::${message.replace(/\n/g, '%0A')}`);
    process.exit(1);
  }
}

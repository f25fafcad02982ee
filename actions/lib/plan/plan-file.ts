// Plan files on disk: built-in names (env/plans/NAME.json) or a path. I/O at the edge of plan.ts.
// Read safely (core/safe-read.ts): a regular file of at most PLAN_MAX_BYTES; a symlink only when
// it stays within the directory that holds it (the plans directory for a built-in name).

import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MiB, readRegularFile } from '../core/safe-read.ts';
import { parseJson } from '../core/schema.ts';
import { type Plan, PlanError, validatePlan } from './plan.ts';

/** The paper plan is 4 kB; a plan file of a megabyte is no plan. */
export const PLAN_MAX_BYTES = 1 * MiB;

export function builtInPlanNames(plansDir: string): string[] {
  return ['paper', 'quick'].filter((n) => existsSync(join(plansDir, `${n}.json`)));
}

/** Loads `paper`, `quick` or a JSON file path; every problem is a PlanError naming the file. */
export function loadPlan(nameOrPath: string, plansDir: string): { plan: Plan; source: string } {
  const builtIn = /^[a-z0-9-]+$/.test(nameOrPath) && !nameOrPath.endsWith('.json');
  const path = builtIn ? join(plansDir, `${nameOrPath}.json`) : nameOrPath;
  if (!existsSync(path)) {
    const names = builtInPlanNames(plansDir).join(', ');
    throw new PlanError(
      builtIn
        ? `unknown plan ${JSON.stringify(nameOrPath)}: expected one of ${names}, or the path of a plan file`
        : `plan file ${path} does not exist`,
    );
  }
  const text = readRegularFile(path, { maxBytes: PLAN_MAX_BYTES, ...(builtIn ? { within: plansDir } : {}) });
  const raw = parseJson(text, (reason) => new PlanError(`plan file ${path} is not valid JSON: ${reason}`));
  return { plan: validatePlan(raw, path), source: builtIn ? nameOrPath : basename(path) };
}

/** Applies command-line overrides by re-validating, so an override gets the same checks as a file. */
export function overridePlan(
  plan: Plan,
  overrides: Partial<Pick<Plan, 'replicates' | 'testLengthSeconds' | 'warmupSeconds'>> & {
    seed?: number;
    randomize?: boolean;
  },
  source: string,
): Plan {
  const next: Record<string, unknown> = { ...plan };
  if (overrides.replicates !== undefined) next.replicates = overrides.replicates;
  if (overrides.testLengthSeconds !== undefined) next.testLengthSeconds = overrides.testLengthSeconds;
  if (overrides.warmupSeconds !== undefined) next.warmupSeconds = overrides.warmupSeconds;
  if (overrides.seed !== undefined || overrides.randomize !== undefined) {
    next.order = { randomize: overrides.randomize ?? plan.order.randomize, seed: overrides.seed ?? plan.order.seed };
  }
  return validatePlan(next, `${source} (with command-line overrides)`);
}

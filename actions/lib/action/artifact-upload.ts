// Uploading a run directory as a workflow artifact, or saying clearly why not: outside a runner
// (no ACTIONS_RUNTIME_TOKEN) the run directory simply stays where it is.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface UploadOutcome {
  id: number | null;
  message: string;
}

export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

export async function uploadRunDir(
  dir: string,
  name: string,
  enabled: boolean,
  env: NodeJS.ProcessEnv,
): Promise<UploadOutcome> {
  if (!enabled) return { id: null, message: `artifact upload disabled (upload: false); run directory: ${dir}` };
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
    return {
      id: null,
      message: `artifact upload skipped: no Actions runtime (ACTIONS_RUNTIME_TOKEN/ACTIONS_RESULTS_URL not set, so this is not a workflow step); run directory: ${dir}`,
    };
  }
  // Loaded only when needed: the artifact client is large and needs the runtime anyway.
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const files = filesUnder(dir);
  const response = await new DefaultArtifactClient().uploadArtifact(name, files, dir, { retentionDays: 90 });
  return {
    id: response.id ?? null,
    message: `uploaded ${files.length} files as artifact ${name} (id ${response.id ?? '?'}, ${response.size ?? '?'} bytes)`,
  };
}

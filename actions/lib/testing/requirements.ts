// What a test suite needs from the machine (root, netserver, dockerd, Chromium, an OSv image), in
// one place. On a developer's machine a suite whose service is missing is skipped, saying why.
// With CI=true a missing service fails the test file instead: a suite that skips because dockerd or
// Chromium did not come up would otherwise leave CI green. Only the services listed in
// ALLOWED_CI_SKIPS may be missing in CI, each for the reason given there.

import { existsSync } from 'node:fs';
import { runCommand } from '../core/proc.ts';

export type Service =
  'root' | 'netserver' | 'dockerd' | 'runsc' | 'qemu' | 'chromium' | 'osv-image' | 'podman' | 'podman-pasta';

/** The services CI may lack, and why that is acceptable. */
export const ALLOWED_CI_SKIPS: Partial<Record<Service, string>> = {
  'osv-image':
    'OSv is built from source on a runner with internet access (the build-osv-image action); CI machines have none, so the test that boots a real OSv image runs only where VIRTNET_OSV_IMAGE names one',
  'podman-pasta':
    "Debian 12's Podman is 4.3.1, and `podman run --network pasta` came with 4.4: a CI machine on Debian 12 cannot run podman-rootless-pasta, and the test says so",
};

export class MissingServiceError extends Error {
  override name = 'MissingServiceError';
}

function underCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/**
 * `reasonIfMissing`: null when the service is there, else why it is not. Returns that reason, for
 * `describe.skipIf(reason !== null)`; with CI=true a missing service throws (failing the file)
 * unless it is listed in ALLOWED_CI_SKIPS.
 */
export function requireService(
  service: Service,
  reasonIfMissing: string | null,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (reasonIfMissing === null) return null;
  if (underCi(env) && ALLOWED_CI_SKIPS[service] === undefined) {
    throw new MissingServiceError(
      `${service} is required with CI=true, and it is missing: ${reasonIfMissing} (only ${Object.keys(ALLOWED_CI_SKIPS).join(', ')} may be missing in CI)`,
    );
  }
  return `${service}: ${reasonIfMissing}`;
}

/** Several services; the first one missing decides. */
export function requireServices(
  needs: readonly [Service, string | null][],
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  for (const [service, reason] of needs) {
    const missing = requireService(service, reason, env);
    if (missing !== null) return missing;
  }
  return null;
}

/** " (skipped: why)" for a suite's title, or nothing. */
export function skipNote(reason: string | null): string {
  return reason === null ? '' : ` (skipped: ${reason})`;
}

// ---- the usual checks -------------------------------------------------------------------------

export function rootMissing(): string | null {
  return process.getuid?.() === 0 ? null : 'needs root (network namespaces, veth pairs, tc, iptables, taps)';
}

export async function netserverMissing(): Promise<string | null> {
  const r = await runCommand(['netserver', '-V'], { timeoutMs: 10_000 }).catch((e: Error) => e);
  if (r instanceof Error) return `${r.message}`;
  return r.exitCode === 0 ? null : `netserver -V exited with ${r.exitCode}`;
}

/** Why gVisor's runsc cannot be used here (not installed), or null. */
export async function runscMissing(): Promise<string | null> {
  const r = await runCommand(['runsc', '--version'], { timeoutMs: 10_000 }).catch((e: Error) => e);
  if (r instanceof Error) return `${r.message} (apt-get install runsc; scripts/install-system-packages.sh does)`;
  return r.exitCode === 0 ? null : `runsc --version exited with ${r.exitCode}`;
}

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`;
}

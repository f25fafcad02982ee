#!/usr/bin/env node
// Prints how long the Linux guest takes to build on a cold cache (kernel package downloaded and
// unpacked, initramfs packed) and to check on a warm one. A figure, not a test.
//
//   node env/kvm/bench-guest.ts

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGuestImage } from './guest-image.ts';

const cold = mkdtempSync(join(tmpdir(), 'virtnet-guest-bench-'));
try {
  const first = await ensureGuestImage({ cacheDir: cold });
  const second = await ensureGuestImage({ cacheDir: cold });
  console.log(
    `kvm guest ${first.image.kernelPackage} ${first.image.kernelPackageVersion} (kernel ${first.image.kernelVersion}), image sha256 ${first.image.imageSha256}`,
  );
  console.log(`  cold cache (download + unpack + initramfs): ${first.seconds.toFixed(1)} s (built: ${first.built})`);
  console.log(`  warm cache (inputs hashed, image found):     ${second.seconds.toFixed(2)} s (built: ${second.built})`);
} finally {
  rmSync(cold, { recursive: true, force: true });
}

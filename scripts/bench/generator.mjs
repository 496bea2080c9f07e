// The C load generator (agiload.c), compiled on first use into scripts/bench/.build/ (git ignores it),
// for the benchmark (run.mjs) and the soak (../soak.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const buildDir = join(here, '.build');

/** Path of the compiled generator; compiles it with `$CC` (default `cc`) if missing or older than its source. */
export function buildGenerator() {
  mkdirSync(buildDir, { recursive: true });
  const src = join(here, 'agiload.c');
  const bin = join(buildDir, 'agiload');
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  const cc = process.env.CC || 'cc';
  console.log(`compiling the load generator: ${cc} -O2 ${src}`);
  execFileSync(cc, ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' });
  return bin;
}

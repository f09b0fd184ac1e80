/**
 * Runs inside `docker build` (docker/Dockerfile): turns the host's node_modules, copied in, into the
 * production tree without the network. npm's lockfile already marks every package that only
 * devDependencies need (`dev`, `devOptional`), so this removes those and then checks that every
 * production package is there: .dockerignore drops some heavy dev-only folders before they reach the
 * build, and a wrong entry there must fail the build, not a container at run time.
 *
 * @example
 * node docker/prune-dev-deps.ts /app   # /app holds package-lock.json and node_modules/
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
}

const root = path.resolve(process.argv[2] ?? '.');
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  lockfileVersion?: number;
  packages?: Record<string, LockEntry>;
};
if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) {
  process.stderr.write('prune-dev-deps: package-lock.json has no "packages" map (lockfileVersion >= 2 needed)\n');
  process.exit(1);
}

const entries = Object.entries(lock.packages).filter(([key]) => key.startsWith('node_modules/'));
let removed = 0;
for (const [key, entry] of entries) {
  if ((entry.dev || entry.devOptional) && existsSync(path.join(root, key))) {
    rmSync(path.join(root, key), { recursive: true, force: true });
    removed += 1;
  }
}

// Optional packages may be absent (other platforms); everything else production needs must be here.
const required = entries
  .filter(([, entry]) => !entry.dev && !entry.devOptional && !entry.optional && !entry.link)
  .map(([key]) => key);
const missing = required.filter((key) => !existsSync(path.join(root, key)));
if (missing.length > 0) {
  process.stderr.write(
    `prune-dev-deps: production packages missing from the build context (check .dockerignore): ${missing.join(', ')}\n`,
  );
  process.exit(1);
}
process.stdout.write(`prune-dev-deps: removed ${removed} dev-only packages; all ${required.length} production packages present\n`);

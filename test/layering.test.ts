import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createVirtualFileSystem } from 'typescript/unstable/fs';
import { API } from 'typescript/unstable/sync';
import { describe, expect, it } from 'vitest';

// The layering of the top-level folders: the simulated services (mocks/) stand alone with common/,
// and common/ stands alone. harness/ may import both. Keys: a folder; values: the folders its
// files must not import from.
const RULES: Record<string, readonly string[]> = {
  common: ['harness', 'mocks'],
  mocks: ['harness'],
};

const REPO = path.resolve(import.meta.dirname, '..');
// Files are served to the compiler from a virtual file system under this root, so that it reads
// exactly the files given (a synthetic one in the self-test) and nothing else: no node_modules, no lib.
const ROOT = '/repo';

interface Violation {
  /** `mocks/auth-server/errors.ts:1` */
  at: string;
  specifier: string;
  /** The forbidden folder the specifier points into. */
  folder: string;
}

/**
 * Every module specifier of each file, as the TypeScript compiler collects them for module
 * resolution (`SourceFile.imports`): static and type-only imports, re-exports, side-effect imports,
 * `import()`, `import('...')` types and `import x = require()`. Strings and comments are not imports.
 */
function importSpecifiers(files: Record<string, string>): Map<string, { specifier: string; line: number }[]> {
  const names = Object.keys(files);
  const tree: Record<string, string> = {
    [`${ROOT}/tsconfig.json`]: JSON.stringify({
      compilerOptions: { noLib: true, types: [], module: 'nodenext', allowImportingTsExtensions: true, noEmit: true },
      files: names,
    }),
  };
  for (const name of names) tree[`${ROOT}/${name}`] = files[name]!;
  const api = new API({ cwd: ROOT, fs: createVirtualFileSystem(tree) });
  try {
    const snapshot = api.updateSnapshot({ openProjects: [`${ROOT}/tsconfig.json`] });
    const program = snapshot.getProjects()[0]!.program;
    const found = new Map<string, { specifier: string; line: number }[]>();
    for (const name of names) {
      const source = program.getSourceFile(`${ROOT}/${name}`);
      if (!source) throw new Error(`the compiler did not read ${name}`);
      found.set(
        name,
        source.imports.map((node) => ({
          specifier: (node as unknown as { text: string }).text,
          line: source.getLineAndCharacterOfPosition(node.end).line + 1,
        })),
      );
    }
    return found;
  } finally {
    api.close();
  }
}

/** The imports of `files` (paths relative to the repository) that break RULES. */
function layeringViolations(files: Record<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, imports] of importSpecifiers(files)) {
    const forbidden = RULES[file.split('/')[0]!] ?? [];
    for (const { specifier, line } of imports) {
      // Package names (zod, node:fs, ...) are dependencies, not folders of this repository.
      if (!specifier.startsWith('.') && !specifier.startsWith('/')) continue;
      const target = path.posix.relative(ROOT, path.posix.resolve(ROOT, path.posix.dirname(file), specifier));
      const folder = target.split('/')[0]!;
      if (forbidden.includes(folder)) violations.push({ at: `${file}:${line}`, specifier, folder });
    }
  }
  return violations;
}

describe('layering of the top-level folders', () => {
  it('finds no import of harness/ in mocks/, nor of harness/ or mocks/ in common/', () => {
    const names = globSync(`{${Object.keys(RULES).join(',')}}/**/*.ts`, { cwd: REPO }).map((name) => name.split(path.sep).join('/'));
    expect(names.filter((name) => name.startsWith('common/')).length).toBeGreaterThanOrEqual(6);
    expect(names.filter((name) => name.startsWith('mocks/')).length).toBeGreaterThan(40);
    const files = Object.fromEntries(names.map((name) => [name, readFileSync(path.join(REPO, name), 'utf8')]));
    expect(layeringViolations(files)).toEqual([]);
  });

  it('copies into the Docker image every folder the services and the harness import', () => {
    const names = globSync('{common,harness,mocks}/**/*.ts', { cwd: REPO })
      .map((name) => name.split(path.sep).join('/'))
      .filter((name) => !name.endsWith('.test.ts'));
    const files = Object.fromEntries(names.map((name) => [name, readFileSync(path.join(REPO, name), 'utf8')]));
    const needed = new Set<string>();
    for (const [file, imports] of importSpecifiers(files)) {
      needed.add(file.split('/')[0]!);
      for (const { specifier } of imports) {
        if (specifier.startsWith('.')) needed.add(path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).split('/')[0]!);
      }
    }
    // The build context lets in only `!name/` entries; the final stage copies `COPY <sources...> <dest>`.
    const allowed = readFileSync(path.join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    const dockerfile = readFileSync(path.join(REPO, 'docker/Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)].flatMap((match) => match[1]!.trim().split(/\s+/));
    for (const folder of needed) {
      expect(allowed, `.dockerignore lets ${folder}/ in`).toContain(folder);
      expect(copied, `docker/Dockerfile copies ${folder}/`).toContain(folder);
    }
    expect([...needed]).toEqual(expect.arrayContaining(['common', 'harness', 'mocks']));
  });

  // The check itself, on synthetic files: each forbidden form is caught, each allowed one is not.
  it.each([
    ['a value import', 'mocks/x/a.ts', `import { HarnessError } from '../../harness/errors.ts';`, 'harness'],
    ['a type-only import', 'mocks/x/a.ts', `import type { Topology } from '../../harness/topology/index.ts';`, 'harness'],
    ['an inline type import', 'mocks/x/a.ts', `import { type Topology } from '../../harness/topology/index.ts';`, 'harness'],
    ['a re-export', 'mocks/x/index.ts', `export { RuntimeError } from '../../harness/runtime/index.ts';`, 'harness'],
    ['a side-effect import', 'mocks/x/a.ts', `import '../../harness/cli.ts';`, 'harness'],
    ['a dynamic import', 'mocks/x/a.ts', `export const load = () => import('../../harness/runner/index.ts');`, 'harness'],
    ['an import type', 'mocks/x/a.ts', `export type T = typeof import('../../harness/topology/index.ts');`, 'harness'],
    ['a file in mocks/ itself', 'mocks/a.ts', `import { x } from '../harness/x.ts';`, 'harness'],
    ['common/ importing a mock', 'common/a.ts', `import { ServiceLog } from '../mocks/shared/index.ts';`, 'mocks'],
    ['common/ importing the harness', 'common/sub/a.ts', `import { x } from '../../harness/x.ts';`, 'harness'],
  ])('catches %s', (_form, file, source, folder) => {
    const violations = layeringViolations({ [file]: `// a synthetic file\n${source}\n` });
    expect(violations).toEqual([{ at: `${file}:2`, specifier: expect.any(String), folder }]);
  });

  it.each([
    ['a mock importing common/', 'mocks/x/a.ts', `import { HarnessError } from '../../common/index.ts';`],
    ['a mock importing mocks/shared', 'mocks/x/a.ts', `import { runMain } from '../shared/index.ts';`],
    ['a folder named harness inside mocks/', 'mocks/x/a.ts', `import { y } from '../harness/y.ts';`],
    ['a package import', 'common/a.ts', `import { fetch } from 'undici';`],
    ['a path in a string and a comment', 'mocks/x/a.ts', `const s = '../../harness/x.ts'; // import { x } from '../../harness/x.ts'`],
    ['the harness importing a mock', 'harness/x/a.ts', `import { startAuthServer } from '../../mocks/auth-server/index.ts';`],
  ])('allows %s', (_form, file, source) => {
    expect(layeringViolations({ [file]: source })).toEqual([]);
  });
});

// The container suite's sessions: every test process (a setup file sets its MTH_SESSION_ID) and
// every child run a test starts gets a session under one id of this suite run, so the suite's
// teardown (leftovers.ts) finds what this run left, and nothing of another run or engineer.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run of the container suites (leftovers.ts provides it). */
    mthSuite: string;
  }
}

/** A new session label value of this suite run: `<suite>.<uuid>`. */
export function suiteSession(): string {
  return `${inject('mthSuite')}.${randomUUID()}`;
}

/** This test process's own session (what containersRuntime.start labels everything with here). */
export function processSession(): string {
  const session = process.env.MTH_SESSION_ID;
  if (!session?.startsWith(`${inject('mthSuite')}.`)) throw new Error('no session of this suite run: run the container suites with vitest.containers.config.ts');
  return session;
}

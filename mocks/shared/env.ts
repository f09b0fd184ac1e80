import type { ListenOptions } from '../../common/index.ts';

/** PORT and HOST from the environment, as every service's `main.ts` reads them. */
export function listenOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ListenOptions {
  return { host: env.HOST || '127.0.0.1', port: env.PORT ? Number(env.PORT) : 0 };
}

/**
 * Runs a service from its `main.ts`: starts it, prints `listening <url>` (what a container
 * runtime waits for), and closes it on SIGINT/SIGTERM.
 */
export async function runMain(name: string, start: () => Promise<{ url: string; close(): Promise<void> }>): Promise<void> {
  try {
    const service = await start();
    process.stdout.write(`${JSON.stringify({ service: name, event: 'listening', url: service.url })}\n`);
    const stop = () => {
      void service.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

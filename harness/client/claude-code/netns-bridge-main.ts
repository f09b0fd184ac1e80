// Runs inside a fresh network namespace (`unshare -n`), as the parent of Claude Code: brings `lo`
// up, listens on its loopback, forwards every connection to the harness's Unix socket (which
// reaches the worker's egress outside the namespace), then runs Claude Code with HTTP(S)_PROXY set
// to that listener. So Claude Code has no route anywhere but through the egress.
//   node netns-bridge-main.ts <unix socket> -- <claude binary> [args...]
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

const [socketPath, separator, binary, ...args] = process.argv.slice(2);
if (!socketPath || separator !== '--' || !binary) {
  process.stderr.write('usage: netns-bridge-main.ts <unix socket> -- <binary> [args...]\n');
  process.exit(2);
}
const up = spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (up.status !== 0) {
  process.stderr.write(`netns bridge: ip link set lo up failed: ${up.stderr || up.error?.message}\n`);
  process.exit(2);
}
const server = net.createServer((inside) => {
  const outside = net.connect(socketPath);
  inside.pipe(outside).pipe(inside);
  const end = () => {
    inside.destroy();
    outside.destroy();
  };
  inside.on('error', end).on('close', end);
  outside.on('error', end).on('close', end);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as net.AddressInfo;
  const proxy = `http://127.0.0.1:${port}`;
  const child = spawn(binary, args, {
    stdio: 'inherit',
    env: { ...process.env, HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy },
  });
  const stop = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGTERM', () => stop('SIGTERM'));
  child.on('exit', (code, signal) => {
    server.close();
    process.exit(code ?? (signal ? 128 : 1));
  });
  child.on('error', (error) => {
    process.stderr.write(`netns bridge: cannot run ${binary}: ${error.message}\n`);
    process.exit(2);
  });
});

import http from 'node:http';
import { disposable, listen } from '../common/index.ts';

/** An HTTP front that answers every request `delayMs` (real time) late, passing it on to `target`. */
export async function startSlowFront(target: string, delayMs: number) {
  const upstream = new URL(target);
  return disposable(
    await listen((req, res) => {
      setTimeout(() => {
        const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        forward.on('error', () => res.destroy());
        req.pipe(forward);
      }, delayMs);
    }),
  );
}

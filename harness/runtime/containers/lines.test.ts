import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineCollector } from './lines.ts';

describe('LineCollector', () => {
  it('keeps JSON object lines across chunk boundaries and the plain ones for errors', () => {
    const lines = new LineCollector();
    lines.push('{"event":"listen');
    lines.push('ing","n":1}\nnode: cannot find module\n[1,2]\n\n{"event":"flow"}\n');
    expect(lines.json).toEqual([{ event: 'listening', n: 1 }, { event: 'flow' }]);
    expect(lines.tail()).toBe('node: cannot find module\n[1,2]');
  });

  it('resolves waitFor with a line seen before or arriving after', async () => {
    const lines = new LineCollector();
    const stream = new PassThrough();
    lines.attach(stream);
    stream.write('{"event":"mark","n":1}\n');
    await expect(lines.waitFor((line) => line.n === 1, 1_000)).resolves.toEqual({ event: 'mark', n: 1 });
    const later = lines.waitFor((line) => line.n === 2, 1_000);
    stream.write('{"event":"mark","n":2}\n');
    await expect(later).resolves.toEqual({ event: 'mark', n: 2 });
    lines.close();
    expect(stream.destroyed).toBe(true);
  });

  it('rejects waitFor when no such line comes in time', async () => {
    await expect(new LineCollector().waitFor(() => true, 10, 'the mark')).rejects.toThrow(/the mark did not arrive within 10 ms/);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../src/http/server.js';

/** A server under test, running as its own process so the load generator has its own core. */
export interface Target {
  name: string;
  url: string;
  pid: number;
  /** What it printed up to its `listening on` line (the RESP port is named there too). */
  banner: string;
  stop(): Promise<void>;
}

const path = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
export const MAIN = path('../src/main.js');
export const FLOOR = path('./floor.js');
export const HONO_MAP = path('./hono-map.js');
export const NET_FLOOR = path('./net-floor.js');

/** Starts `script args` and resolves when it prints `listening on http://...`. */
export function startTarget(name: string, script: string, args: string[], nodeFlags: string[] = []): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(seen);
      if (match === null) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve({
        name,
        url: match[1]!,
        pid: child.pid!,
        banner: seen,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening`)));
  });
}

export const startFloor = (): Promise<Target> => startTarget('node:http floor', FLOOR, ['0']);
export const startNetFloor = (): Promise<Target> => startTarget('net floor', NET_FLOOR, ['0']);
export const startHonoMap = (): Promise<Target> => startTarget('Hono + Map', HONO_MAP, ['0']);
/** The cache built in this tree, or in another checkout's `dist/` (`main`), for a side-by-side run. */
export const startCache = (name: string, args: string[] = [], main = MAIN): Promise<Target> =>
  startTarget(name, main, ['--port', '0', ...args], [...SERVER_NODE_FLAGS]);

/** CPU time of a process and all its threads so far, in clock ticks (1/100 s on Linux). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// Starts the real verityd for the console's tests: loopback ports chosen by
// the kernel (port 0), a temporary data directory, the built console as
// --console-dir; stopped with SIGTERM. VERITYD overrides the binary
// (default: <repo>/build/server/verityd).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// tests-dist/tests/verityd.js -> the console directory, then the repository.
export const CONSOLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO_ROOT = resolve(CONSOLE_DIR, '..');
export const DIST_DIR = join(CONSOLE_DIR, 'dist');
export const ARTIFACTS_DIR = join(CONSOLE_DIR, 'test-artifacts');
export const VERITYD = process.env.VERITYD ?? join(REPO_ROOT, 'build', 'server', 'verityd');

export interface Server {
  http: string; // http://127.0.0.1:PORT
  grpcPort: number;
  dataDir: string;
  proc: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

export interface StartOptions {
  keys?: string; // the keys file's content (NAME ROLE SHA256 lines)
}

export async function startVerityd(opts: StartOptions = {}): Promise<Server> {
  if (!existsSync(VERITYD)) throw new Error(`verityd not found at ${VERITYD} (build it, or set VERITYD)`);
  if (!existsSync(join(DIST_DIR, 'index.html'))) throw new Error(`${DIST_DIR}/index.html missing: run npm run build`);
  const dataDir = mkdtempSync(join(tmpdir(), 'verity-console-test-'));
  const args = [
    '--listen', '127.0.0.1:0',
    '--http-listen', '127.0.0.1:0',
    '--data', join(dataDir, 'data'),
    '--console-dir', DIST_DIR,
  ];
  if (opts.keys !== undefined) {
    const keysFile = join(dataDir, 'keys');
    writeFileSync(keysFile, opts.keys);
    args.push('--keys', keysFile);
  }
  const proc = spawn(VERITYD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const started = new Promise<{ http: string; port: number }>((resolveStart, rejectStart) => {
    const timer = setTimeout(() => rejectStart(new Error(`verityd did not start in 30 s:\n${err}`)), 30_000);
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      err += chunk;
      for (const line of err.split('\n')) {
        if (!line.includes('"start"')) continue;
        try {
          const j = JSON.parse(line);
          if (j.event === 'start' && j.http) {
            clearTimeout(timer);
            resolveStart({ http: String(j.http), port: Number(j.port) });
          }
        } catch {
          // not a whole JSON line yet
        }
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`verityd exited with ${code} before starting:\n${err}`));
    });
  });
  const { http, port } = await started;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { http, grpcPort: port, dataDir, proc, stderr: () => err, stop };
}

/** POST /v1/<Service>/<Method> with JSON; throws with the error body on a non-200. */
export async function api(server: Server, path: string, body: object = {}, key?: string): Promise<any> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  const res = await fetch(`${server.http}/v1/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

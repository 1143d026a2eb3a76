// Starts a real verityd for the tests: gRPC and HTTP on free loopback
// ports (port 0), a temporary data directory, its JSON log on stderr read
// for the "start" line, which carries the bound HTTP address.
//
// The binary: env VERITYD, else build/server/verityd of the repository this
// package is in (resolved from this file: dist/test/ -> client/typescript
// -> the repository root).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = path.resolve(HERE, "..", "..");
export const REPO_ROOT = path.resolve(PACKAGE_DIR, "..", "..");

export function verityBinary(): string {
  const binary = process.env.VERITYD || path.join(REPO_ROOT, "build", "server", "verityd");
  if (!existsSync(binary)) {
    throw new Error(`verityd not found at ${binary}: build it (scripts/build.sh verityd) or set VERITYD`);
  }
  return binary;
}

export class Verityd {
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly #proc: ChildProcess;
  readonly #workDir: string;
  readonly #log: string[];

  private constructor(proc: ChildProcess, baseUrl: string, workDir: string, log: string[]) {
    this.#proc = proc;
    this.baseUrl = baseUrl;
    this.#workDir = workDir;
    this.dataDir = path.join(workDir, "data");
    this.#log = log;
  }

  /** Starts verityd and waits (at most `timeoutMs`) for its start line. */
  static async start(extraArgs: string[] = [], timeoutMs = 30000): Promise<Verityd> {
    const binary = verityBinary();
    const workDir = mkdtempSync(path.join(tmpdir(), "verity-ts-"));
    const args = ["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data", path.join(workDir, "data"), ...extraArgs];
    const proc = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    const log: string[] = [];
    const baseUrl = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      const timer = setTimeout(() => {
        proc.kill("SIGKILL");
        reject(new Error(`verityd logged no start line within ${timeoutMs} ms:\n${log.join("\n")}`));
      }, timeoutMs);
      proc.stderr!.setEncoding("utf8");
      proc.stderr!.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          log.push(line);
          try {
            const event = JSON.parse(line) as { event?: string; http?: string };
            if (event.event === "start" && event.http) {
              clearTimeout(timer);
              resolve(event.http);
            }
          } catch {
            // not a JSON line
          }
        }
      });
      proc.on("exit", (code, signal) => {
        clearTimeout(timer);
        rmSync(workDir, { recursive: true, force: true });
        reject(new Error(`verityd exited (${code ?? signal}) before its start line:\n${log.join("\n")}`));
      });
    });
    return new Verityd(proc, baseUrl, workDir, log);
  }

  /** The log lines so far. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** SIGTERM, then the exit code (0 for a clean stop); removes the data directory. */
  async stop(timeoutMs = 30000): Promise<number | null> {
    const proc = this.#proc;
    const code = await new Promise<number | null>((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      proc.once("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
      proc.kill("SIGTERM");
    });
    rmSync(this.#workDir, { recursive: true, force: true });
    return code;
  }
}

/** Runs a bench child script in a fresh Node process and returns the JSON line it printed last. */
import { spawn } from 'node:child_process';

export function runChild<T>(script: string, args: Array<string | number>, nodeFlags: string[] = ['--expose-gc']): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, script, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || last === '') {
        reject(new Error(`${script} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(last) as T);
    });
  });
}

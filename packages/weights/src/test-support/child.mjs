// Runs one hostile case of hostile.ts in this fresh process and prints what it cost as JSON:
// the outcome, and process.resourceUsage() before and after (maxRSS in KiB, CPU in µs).
// Node runs the TypeScript sources directly (type stripping); `.js` imports resolve to `.ts`.
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL) {
      const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
      if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
    }
    return next(specifier, context);
  },
});

const { HOSTILE } = await import('./hostile.ts');
const name = process.argv[2];
const make = HOSTILE[name];
if (!make) throw new Error(`no hostile case ${name}`);
const { run } = make();
const before = process.resourceUsage();
const rssBefore = process.memoryUsage.rss();
let outcome;
try {
  outcome = { ok: true, result: await run() };
} catch (e) {
  outcome = { ok: false, name: e?.constructor?.name, message: String(e?.message ?? e) };
}
const after = process.resourceUsage();
process.stdout.write(
  JSON.stringify({
    ...outcome,
    maxRSSBefore: before.maxRSS * 1024,
    rssBefore,
    maxRSS: after.maxRSS * 1024,
    cpuMs: (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1000,
  }),
);

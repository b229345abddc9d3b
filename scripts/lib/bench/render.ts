/** The readable report `npm run bench` prints (the JSON is the report itself). */
import type { BenchReport, CliFigures } from './report.ts';

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const fixed = (value: number, digits = 2) => value.toFixed(digits);

function cliRows(cli: CliFigures): string[][] {
  const rows = [['entry', '--help ms', 'x floor', 'status ms', 'x floor']];
  for (const entry of ['bundle', 'source'] as const) {
    const f = cli[entry];
    if ('missing' in f) rows.push([entry, `MISSING: ${f.missing}`, '', '', '']);
    else
      rows.push([entry, fixed(f.helpMs, 1), fixed(f.helpRatio), fixed(f.statusMs, 1), fixed(f.statusRatio)]);
  }
  return rows;
}

/** The report as tables, then the targets and the bottleneck. */
export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const signerRows = [
    [
      'alg',
      'in flight',
      'signer CPU ms',
      'floor+signature ms',
      'floor ms',
      'signature (serving) ms',
      'signature (loop) ms',
      'excess ms',
      'signer/s',
      'floor/s',
    ],
  ];
  for (const alg of ['RS256', 'ES256'] as const) {
    const s = report.signer[alg];
    for (const c of s.byConcurrency) {
      signerRows.push([
        alg,
        String(c.concurrency),
        fixed(c.cpuMsPerCall, 4),
        fixed(c.floorWithSignatureCpuMsPerCall, 4),
        fixed(c.floorCpuMsPerCall, 4),
        fixed(c.signatureCpuMs, 4),
        fixed(s.signatureCpuMs, 4),
        fixed(c.excessCpuMsPerCall, 4),
        fixed(c.opsPerSec, 0),
        fixed(c.floorOpsPerSec, 0),
      ]);
    }
  }
  const k = report.kmsBackend;
  const out: string[] = [
    `irsa-anywhere benchmarks — ${report.date} — node ${m.node}, ${m.platform}/${m.arch}, ${m.cpus} CPU (${m.cpuModel})`,
    `load average ${m.loadAverage.start.join(' ')} at start, ${m.loadAverage.end.join(' ')} at end; medians of ${report.rounds} rounds; whole run ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
    `Signer: server CPU per Sign, warm (${report.signer.warmupCalls} calls of warm-up, ${report.signer.roundMs} ms rounds)`,
    table(signerRows),
    '',
    `Production shape: ${report.kmsSim.keySpec}, backend ${report.kmsSim.delayMs}`,
    table([
      [
        'offered/s',
        'achieved/s',
        'ratio',
        'p50 ms',
        'p99 ms',
        'backend p99 ms',
        'added p99 ms',
        'send lag p99 ms',
        'errors',
      ],
      ...report.kmsSim.rates.map((r) => [
        String(r.rate),
        fixed(r.achievedPerSec, 0),
        fixed(r.achievedRatio, 3),
        fixed(r.p50Ms, 2),
        fixed(r.p99Ms, 2),
        fixed(r.backendP99Ms, 2),
        fixed(r.addedP99Ms, 2),
        fixed(r.sendLagP99Ms, 2),
        String(r.errors),
      ]),
    ]),
    `uncapped, ${report.kmsSim.uncapped.concurrency} in flight: ${fixed(report.kmsSim.uncapped.opsPerSec, 0)} Sign/s, p99 ${fixed(report.kmsSim.uncapped.p99Ms, 2)} ms`,
    '',
    `kms backend (KmsSigner + @aws-sdk/client-kms, loopback fake KMS): RS256 ${fixed(k.RS256.cpuMsPerSign, 4)} ms CPU per Sign, ES256 ${fixed(k.ES256.cpuMsPerSign, 4)} ms; without cacheMiddleware ${fixed(k.withoutCacheMiddleware.cpuMsPerSign, 4)} ms; ${k.connections} connections`,
    `  where it goes: ${k.profile.map((p) => `${p.group} ${p.percent}%`).join(', ')}`,
    '',
    `CLI start (node -e 0: ${fixed(report.cli.floorMs, 1)} ms)`,
    table(cliRows(report.cli)),
    '',
    'Lambda bundles',
    table([
      ['function', 'bundle', 'zip', 'import ms', 'floor ms', 'x floor', 'builtins-only ms'],
      ...report.bundles.map((b) => [
        b.function,
        kb(b.bytes),
        kb(b.zipBytes),
        fixed(b.importMs, 1),
        fixed(b.floorImportMs, 1),
        fixed(b.importMs / b.floorImportMs),
        fixed(b.builtinsImportMs, 1),
      ]),
    ]),
    '',
    `Steady-state rotate run: ${report.steadyState.requests} requests (${Object.entries(
      report.steadyState.byName,
    )
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}), ${report.steadyState.writes} writes`,
    `verify (ours vs jose): ${fixed(report.verify.opsPerSec, 0)}/s vs ${fixed(report.verify.baselineOpsPerSec, 0)}/s, ratio ${fixed(report.verify.ratio, 3)}`,
    `planner (plan + JWKS for 100 keys): ${fixed(report.planner.ms, 3)} ms`,
    '',
    'Targets',
    table([
      ['figure', 'value', 'target', 'result'],
      ...report.targets.map((t) => [
        t.name,
        String(t.value),
        t.target,
        t.pass ? 'PASS' : t.value === null ? 'MISSING' : 'MISS',
      ]),
    ]),
    '',
    `Bottleneck: ${report.bottleneck}`,
  ];
  return out.join('\n');
}

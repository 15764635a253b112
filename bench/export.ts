/**
 * Export benchmark: a generated 5,000-file / 50 MB workspace, our streaming ZIP export
 * vs Info-ZIP `zip -qr` (and archiver 8, the usual Node choice) on the same tree, in the same run.
 * Each contender runs in its own child process so its peak RSS (VmHWM) is its own.
 *
 *   npm run bench:export            # FILES=5000 MB=50 RUNS=3 by default
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZipArchive } from 'archiver';
import { exportWorkspaceZip } from '../workspaces/export.js';

const FILES = Number(process.env.FILES ?? 5000);
const TOTAL_MB = Number(process.env.MB ?? 50);
const RUNS = Number(process.env.RUNS ?? 3);

/** Small deterministic PRNG (mulberry32), so every run benchmarks the same tree. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'const let function return import export from await async if else for while class new this value result error data item index length push map filter reduce'.split(' ');

/** 70% source-like text (compressible), 30% random bytes; sizes spread around the mean. */
function generateTree(root: string): number {
  const rand = prng(42);
  const mean = (TOTAL_MB * 1024 * 1024) / FILES;
  let total = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `pkg${i % 50}`, `mod${i % 7}`);
    mkdirSync(dir, { recursive: true });
    const size = Math.max(1, Math.round(mean * (0.2 + 1.6 * rand())));
    let data: Buffer;
    if (rand() < 0.7) {
      const parts: string[] = [];
      let n = 0;
      while (n < size) {
        const line = `${Array.from({ length: 4 + Math.floor(rand() * 8) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')} ${Math.floor(rand() * 1e6)};\n`;
        parts.push(line);
        n += line.length;
      }
      data = Buffer.from(parts.join('')).subarray(0, size);
      writeFileSync(path.join(dir, `file${i}.ts`), data);
    } else {
      data = Buffer.alloc(size);
      for (let j = 0; j < size; j++) data[j] = (rand() * 256) | 0;
      writeFileSync(path.join(dir, `blob${i}.bin`), data);
    }
    total += size;
  }
  return total;
}

interface Measure {
  ms: number;
  rssMb: number;
  zipBytes: number;
}

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** Child mode: export `dir` to `out` with one contender, print its time and peak RSS. */
async function child(kind: string, dir: string, out: string): Promise<void> {
  const started = process.hrtime.bigint();
  if (kind === 'samokoder') {
    await exportWorkspaceZip({ dir, gitDir: path.join(dir, '.no-git') }, createWriteStream(out));
  } else {
    const archive = new ZipArchive({ zlib: { level: 6 } });
    const done = new Promise<void>((resolve, reject) => {
      const ws = createWriteStream(out);
      ws.on('close', () => resolve());
      archive.on('error', reject);
      archive.pipe(ws);
    });
    archive.directory(dir, false);
    await archive.finalize();
    await done;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ ms, rssMb: peakRssMb(), zipBytes: statSync(out).size }));
}

function runNode(kind: string, dir: string, out: string): Measure {
  const res = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, dir, out], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${kind} failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Measure;
}

function runZip(dir: string, out: string): Measure {
  rmSync(out, { force: true });
  const started = process.hrtime.bigint();
  // GNU time reports zip's peak RSS (%M, KB) on its last stderr line.
  const res = spawnSync('/usr/bin/time', ['-f', '%M', 'zip', '-qr', out, '.'], { cwd: dir, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 0) throw new Error(`zip failed: ${res.stderr}`);
  const kb = Number(res.stderr.trim().split('\n').at(-1));
  return { ms, rssMb: kb / 1024, zipBytes: statSync(out).size };
}

/** Reads every file of the tree, so it is in the page cache. */
function warm(dir: string): void {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) warm(p);
    else readFileSync(p);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
  try {
    execFileSync('/usr/bin/time', ['zip', '-v'], { stdio: 'ignore' });
  } catch {
    console.error('Info-ZIP `zip` and GNU `time` are needed for the comparison: apt-get install -y zip time');
    process.exit(1);
  }
  const base = await mkdtemp(path.join(tmpdir(), 'samokoder-bench-export-'));
  try {
    const tree = path.join(base, 'tree');
    const bytes = generateTree(tree);
    console.log(`tree: ${FILES} files, ${(bytes / 1024 / 1024).toFixed(1)} MB (70% text, 30% random); ${RUNS} runs each, median`);
    const results: Record<string, Measure[]> = { 'zip -qr (Info-ZIP)': [], 'samokoder export': [], 'archiver 8': [] };
    // Every contender starts with the tree in the page cache: some VMs reclaim cold page cache
    // within seconds (Linux DAMON), so one warm-up at the start would leave later runs reading
    // from disk, each to a different degree.
    for (let r = 0; r < RUNS; r++) {
      warm(tree);
      results['zip -qr (Info-ZIP)']!.push(runZip(tree, path.join(base, 'zip.zip')));
      warm(tree);
      results['samokoder export']!.push(runNode('samokoder', tree, path.join(base, 'ours.zip')));
      warm(tree);
      results['archiver 8']!.push(runNode('archiver', tree, path.join(base, 'archiver.zip')));
    }
    const zipMs = median(results['zip -qr (Info-ZIP)']!.map((m) => m.ms));
    console.log('| Exporter | Time (ms) | × zip | Peak RSS (MB) | ZIP size (MB) |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, ms] of Object.entries(results)) {
      const t = median(ms.map((m) => m.ms));
      const rss = Math.max(...ms.map((m) => m.rssMb));
      console.log(`| ${name} | ${t.toFixed(0)} | ${(t / zipMs).toFixed(2)} | ${Number.isNaN(rss) ? '—' : rss.toFixed(0)} | ${(ms[0]!.zipBytes / 1024 / 1024).toFixed(1)} |`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();

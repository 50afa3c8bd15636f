/**
 * General-purpose compressors as baselines: a language model that knows
 * English should need fewer bits per character than bzip2 or xz need for the
 * same text. They run as the system's own `bzip2 -9` and `xz -9e` (what a
 * user would run to check the numbers); the pure-JavaScript bzip2 on npm took
 * ~18 s for a 466 kB book on this project's machine, and the maintained xz
 * package needs a native binary per platform. A missing tool is reported,
 * never silently dropped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { errorMessage } from '../utils/errors.js';

export interface CompressorSpec {
  name: string;
  command: string;
  args: string[];
  /** The Debian package that provides it, for the hint when it is missing. */
  debianPackage: string;
}

export const COMPRESSORS: readonly CompressorSpec[] = [
  { name: 'bzip2 -9', command: 'bzip2', args: ['-9', '-c'], debianPackage: 'bzip2' },
  { name: 'xz -9e', command: 'xz', args: ['-9e', '-c', '--format=xz'], debianPackage: 'xz-utils' },
];

export interface CompressorScore {
  name: string;
  /** What produced it, e.g. "system bzip2 1.0.8". */
  tool: string;
  bytes: number;
  bitsPerCharacter: number;
}

export interface CompressorResults {
  scores: CompressorScore[];
  /** One line per compressor that could not run. */
  unavailable: string[];
}

/** Compresses `text` (UTF-8) with each compressor; bits per character divide by `characters` (code points). */
export function compressorBaselines(text: string, characters: number, specs: readonly CompressorSpec[] = COMPRESSORS): CompressorResults {
  const input = Buffer.from(text, 'utf8');
  const scores: CompressorScore[] = [];
  const unavailable: string[] = [];
  for (const spec of specs) {
    let out: Buffer;
    try {
      out = execFileSync(spec.command, spec.args, { input, maxBuffer: input.length * 2 + 65536, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      unavailable.push(missing
        ? `${spec.name}: \`${spec.command}\` is not installed (Debian package ${spec.debianPackage}), so its baseline is missing`
        : `${spec.name}: \`${spec.command}\` failed: ${errorMessage(err).split('\n')[0]}`);
      continue;
    }
    scores.push({ name: spec.name, tool: `system ${toolVersion(spec.command)}`, bytes: out.length, bitsPerCharacter: (out.length * 8) / characters });
  }
  return { scores, unavailable };
}

/** The tool's name and version, e.g. "bzip2 1.0.8" or "xz 5.4.1" (bzip2 prints it on stderr). */
function toolVersion(command: string): string {
  const r = spawnSync(command, ['--version'], { input: '', encoding: 'utf8' });
  const m = /(\d+\.\d+(?:\.\d+)?)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return m ? `${command} ${m[1]}` : command;
}

/** The text of `ids` without special tokens (document separators, <unk>): what the model's bits per character count. */
export function plainText(tokenizer: Tokenizer, ids: ArrayLike<number>): string {
  const special = new Set(tokenizer.specialTokens.values());
  return tokenizer.decode(Array.from(ids).filter((id) => !special.has(id)));
}

import { readdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/** True when `spec` contains glob syntax (*, ? or [). */
export function isGlob(spec: string): boolean {
  return /[*?[]/.test(spec);
}

/**
 * Files matching a glob with `*` (within one path segment), `?`, `[…]` and
 * `**` (any number of segments). Node 20 has no fs.glob, and a tiny matcher is
 * all --corpus needs. Results are absolute paths, sorted.
 */
export function globFiles(pattern: string): string[] {
  const normalized = pattern.split(sep).join('/');
  const parts = normalized.split('/');
  const firstGlob = parts.findIndex(isGlob);
  const baseParts = parts.slice(0, firstGlob);
  const base = resolve(baseParts.length === 0 ? '.' : baseParts.join('/') || '/');
  const matcher = globToRegExp(parts.slice(firstGlob).join('/'));
  const out: string[] = [];
  walk(base, '', matcher, out);
  return out.sort();
}

function walk(dir: string, rel: string, matcher: RegExp, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const relPath = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) walk(join(dir, e.name), relPath, matcher, out);
    else if (e.isFile() && matcher.test(relPath)) out.push(join(dir, e.name));
  }
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // "**/" matches zero or more directories; a trailing "**" matches anything.
      if (glob[i + 2] === '/') { re += '(?:.*/)?'; i += 2; } else { re += '.*'; i += 1; }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else { re += '[' + glob.slice(i + 1, close).replace(/^!/, '^') + ']'; i = close; }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

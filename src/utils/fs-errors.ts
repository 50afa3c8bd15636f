/**
 * Node's file-system errors, said as one line a user can act on. A failed
 * mkdir, open, write or rename is not a bug in inkwell but a fact about the
 * machine (a full disk, a read-only mount, a file where a folder should be),
 * so it becomes an InkwellError naming the path, instead of a stack trace.
 */
import { basename, dirname, join } from 'node:path';
import { InkwellError } from './errors.js';

const FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EEXIST', 'EISDIR', 'ENOTDIR', 'ENOENT', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE', 'ENAMETOOLONG', 'ELOOP', 'EIO', 'EBUSY', 'EXDEV', 'ENOTEMPTY', 'EINVAL']);

export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException;
  return err instanceof Error && typeof e.code === 'string' && FS_CODES.has(e.code) && typeof e.syscall === 'string';
}

/** The file a temporary name (AtomicFileWriter's ".NAME.PID.HEX.tmp", a commit's ".NAME.pending") stands for. */
function userPath(path: string): string {
  const m = /^\.(.+)\.\d+\.[0-9a-f]{8}\.tmp$/.exec(basename(path)) ?? /^\.(.+)\.pending$/.exec(basename(path));
  return m ? join(dirname(path), m[1]!) : path;
}

export function fsErrorToInkwell(err: NodeJS.ErrnoException): InkwellError {
  const named = err.path ?? (err as { dest?: unknown }).dest;
  // A write through a descriptor names no file; the message then says what failed without one.
  const path = typeof named === 'string' ? userPath(named) : `a file (${err.syscall})`;
  switch (err.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new InkwellError(`no space left on the device to write ${path}`, 'free some space or write to another disk; nothing half-written was kept');
    case 'EEXIST':
      return new InkwellError(`${path} already exists`, 'remove it or choose another path');
    case 'EISDIR':
      return new InkwellError(`${path} is a directory, where a file was expected`, 'choose a file path, or remove the directory');
    case 'ENOTDIR':
      return new InkwellError(`${path}: a part of this path is a file, not a directory`, 'choose a path whose parent folders are directories');
    case 'ENOENT':
      return new InkwellError(`${path} does not exist`, 'check the path (a folder above it may be missing)');
    case 'EACCES':
    case 'EPERM':
      return new InkwellError(`permission denied: ${path}`, 'choose a location you can write to, or change its permissions');
    case 'EROFS':
      return new InkwellError(`${path} is on a read-only file system`, 'choose a writable location');
    case 'EMFILE':
    case 'ENFILE':
      return new InkwellError(`too many open files (opening ${path})`, 'raise the limit (ulimit -n) or run fewer commands at once');
    default:
      return new InkwellError(`cannot ${err.syscall} ${path}: ${err.code}`, 'check the path and the disk');
  }
}

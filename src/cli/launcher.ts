/**
 * How the `inkwell` command starts node. main.ts's first two lines are a POSIX shell launcher as well as
 * JavaScript (the second is a comment to node): run as a program — `npx inkwell`, an installed bin — the
 * shell execs `node` on the same file with these glibc malloc settings in GLIBC_TUNABLES, which glibc
 * reads only when a process starts. `node dist/src/cli/main.js` skips the launcher and runs as before.
 *
 * Why: a decoder's session allocates ~45 MB for the weights ONNX Runtime pre-packs, plus the weights a
 * quantizing load keeps, and each fresh 4 KiB page costs a page fault. On a VM whose faults are costly
 * (measured here: ~12-15 µs a page, 190-245 ms to first-touch 64 MB; 20 ms with transparent huge pages) that
 * is most of the time to a first token. `hugetlb=1` has malloc ask for transparent huge pages (2 MiB);
 * ORT's allocations are each a few MB, too small to hold an aligned 2 MiB page when malloc maps them one by
 * one, so `mmap_threshold` keeps allocations under 32 MiB in the heap and `top_pad` grows the heap 16 MiB at
 * a time, in which huge pages fit. A GPT 6×384's session: ~13,700 page faults → ~1,100.
 * glibc alone reads the variable (musl and macOS ignore it); the user's own GLIBC_TUNABLES come after these,
 * so theirs win where both set a tunable.
 */
export const CLI_GLIBC_TUNABLES = 'glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.top_pad=16777216';

/** The environment the launcher gives node, from the one it was started in (for a child process started as `inkwell` would be, e.g. a benchmark's). */
export function cliEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own = env.GLIBC_TUNABLES;
  return { ...env, GLIBC_TUNABLES: own ? `${CLI_GLIBC_TUNABLES}:${own}` : CLI_GLIBC_TUNABLES };
}

/**
 * The one error type inkwell throws for problems a user can fix (bad path,
 * bad flag, corrupt file). The CLI prints `message` and `hint` without a stack
 * trace; anything that is not an InkwellError is a bug and keeps its stack.
 */
export class InkwellError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'InkwellError';
    this.hint = hint;
  }
}

/** Message of any thrown value, for wrapping low-level errors into InkwellErrors. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The CLI's contract with scripts. */
export const EXIT = {
  ok: 0,
  /** Invalid input, or a plan that was refused. */
  invalid: 1,
  usage: 2,
  /** The server is unreachable, or failed internally. */
  unavailable: 3,
} as const;

/** An error the CLI has already explained to the user; main() only sets the exit code. */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  readonly code: number;
  constructor(code: number, message = '') {
    super(message);
    this.code = code;
  }
}

/**
 * The error classes kernelzoo throws. Every error is a {@link KernelzooError}; subclasses say
 * which kind of mistake it was so callers can branch on `instanceof`.
 *
 * @module
 */

/** Base class of every error kernelzoo throws on purpose. */
export class KernelzooError extends Error {
  /** @param message - what went wrong, what was expected and what came. */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * An argument given to an op or a module was wrong: its message names the op, the argument,
 * what was expected and what came.
 */
export class ArgumentError extends KernelzooError {
  /** The op or module that refused the argument, e.g. `conv2d`. */
  readonly op: string;
  /** The argument that was wrong, e.g. `weight`. */
  readonly argument: string;

  /**
   * @param op - the op or module that checks the argument.
   * @param argument - the argument's name.
   * @param expected - what was expected, in words.
   * @param got - what came, in words.
   */
  constructor(op: string, argument: string, expected: string, got: string) {
    super(`${op}: argument '${argument}' must be ${expected}, got ${got}`);
    this.op = op;
    this.argument = argument;
  }
}

/** A backend could not be found or initialised, or lacks a kernel. */
export class BackendError extends KernelzooError {}

/** A tensor was used after it was disposed. */
export class DisposedError extends KernelzooError {}

/** A state-dict key whose tensor has another shape than the module's. */
export interface ShapeMismatch {
  /** The dotted key. */
  readonly key: string;
  /** The module's shape. */
  readonly expected: readonly number[];
  /** The state dict's shape. */
  readonly got: readonly number[];
}

/**
 * A state dict did not fit a module. Lists every missing, unexpected and mis-shaped key at
 * once; the module is unchanged when this is thrown.
 */
export class StateDictError extends KernelzooError {
  /** Keys the module has that the state dict lacks. */
  readonly missing: readonly string[];
  /** Keys the state dict has that the module lacks. */
  readonly unexpected: readonly string[];
  /** Keys present in both whose shapes differ. */
  readonly mismatched: readonly ShapeMismatch[];

  /**
   * @param module - the class name of the module that was loaded.
   * @param missing - keys the state dict lacks.
   * @param unexpected - keys the module does not have.
   * @param mismatched - keys whose shapes differ.
   */
  constructor(
    module: string,
    missing: readonly string[],
    unexpected: readonly string[],
    mismatched: readonly ShapeMismatch[],
  ) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
    if (unexpected.length > 0) parts.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
    if (mismatched.length > 0)
      parts.push(
        `mis-shaped keys (${mismatched.length}): ${mismatched
          .map((m) => `${m.key} expected [${m.expected.join(', ')}] got [${m.got.join(', ')}]`)
          .join('; ')}`,
      );
    super(`loadStateDict into ${module} failed; nothing was changed. ${parts.join('. ')}`);
    this.missing = missing;
    this.unexpected = unexpected;
    this.mismatched = mismatched;
  }
}

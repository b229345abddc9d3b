/**
 * Answers AWS SDK v3 commands from memory: handlers registered per command class, called by a
 * middleware at the `initialize` step, before any serialisation, signing or network. The
 * `on(Command).callsFake(fn)` shape matches aws-sdk-client-mock so tests can drive both.
 */

/** A command class, as the SDK exports it (`GetObjectCommand`, ...). */
export type CommandClass = abstract new (...args: never) => unknown;

type InputOf<C extends CommandClass> = C extends abstract new (
  ...args: never
) => infer R
  ? R extends { input: infer I }
    ? I
    : never
  : never;

/** An in-memory answer to one command's input. */
export type Handler = (input: never) => unknown;

/** Handlers by command class. */
export class CommandRouter {
  readonly handlers = new Map<CommandClass, Handler>();
  /** Every command name the client sent, implemented or not (for request counts). */
  readonly seen: string[] = [];

  /** Registers the answer to `command`. */
  on<C extends CommandClass>(command: C): { callsFake(fn: (input: InputOf<C>) => unknown): void } {
    return {
      callsFake: (fn) => {
        this.handlers.set(command, fn as Handler);
      },
    };
  }

  /** The handler for a command by its name (the SDK's `context.commandName`). */
  byName(name: string | undefined): Handler | undefined {
    for (const [command, handler] of this.handlers) if (command.name === name) return handler;
    return undefined;
  }
}

interface MiddlewareHost {
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<{ output: unknown; response: unknown }>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** Makes `client` answer every command from `router` (an unknown command is an error). */
export function answerFromMemory(client: unknown, router: CommandRouter): void {
  (client as MiddlewareHost).middlewareStack.add(
    (_next, context) => async (args) => {
      router.seen.push(context.commandName ?? '(unnamed)');
      const handler = router.byName(context.commandName);
      if (handler === undefined) {
        throw new Error(
          `the in-memory AWS adapter does not implement ${context.commandName ?? 'this command'}`,
        );
      }
      const output = (await handler(args.input as never)) as Record<string, unknown>;
      return { output: { $metadata: {}, ...output }, response: {} };
    },
    { step: 'initialize', name: 'irsaAnywhereMemoryAdapter' },
  );
}

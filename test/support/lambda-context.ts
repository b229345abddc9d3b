/** The in-memory Lambda context, kept beside the in-memory adapter (functions/adapters/memory). */
export * from '#adapters/memory/lambda-context.ts';

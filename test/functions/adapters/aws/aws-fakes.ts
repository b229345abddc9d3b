/** SDK-shaped errors and S3 bodies for the adapter tests (kept beside the in-memory adapter). */
export * from '#adapters/memory/sdk-shapes.ts';

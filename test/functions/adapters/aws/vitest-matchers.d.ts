/**
 * Types of the aws-sdk-client-mock-vitest matchers for vitest 4. The package's own augmentation
 * targets the top-level `@vitest/expect` (3.x, its peer), not the copy vitest 4 uses, so the
 * matchers are declared on `vitest`'s `Matchers` here. test/setup/aws-matchers.ts registers them.
 */
import 'vitest';
import type { CustomMatcher } from 'aws-sdk-client-mock-vitest';

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: must repeat vitest's own declaration to merge with it.
  interface Matchers<T = any> extends CustomMatcher<T> {}
}

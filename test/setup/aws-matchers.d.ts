/**
 * Types for the aws-sdk-client-mock-vitest matchers (`toReceiveCommandWith`, ...), which
 * test/setup/aws-matchers.ts registers for every test file.
 */
import '@vitest/expect';
import type { CustomMatcher } from 'aws-sdk-client-mock-vitest';

declare module '@vitest/expect' {
  // biome-ignore lint/suspicious/noExplicitAny: must repeat vitest's own declaration to merge with it.
  interface Matchers<T = any> extends CustomMatcher<T> {}
  interface AsymmetricMatchersContaining extends CustomMatcher {}
}

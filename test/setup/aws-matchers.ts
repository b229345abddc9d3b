/** Registers the aws-sdk-client-mock-vitest matchers for every test file. */
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import { expect } from 'vitest';

expect.extend(allCustomMatcher);

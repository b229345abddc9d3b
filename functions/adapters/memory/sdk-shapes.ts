/** Test helpers for the AWS adapter tests: SDK-shaped errors and S3 bodies. */
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';

/** An error shaped like an AWS SDK v3 service exception. */
export function awsError(name: string, httpStatusCode: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}

/** A GetObject body that yields `content`. */
export function body(content: string | Uint8Array): GetObjectCommandOutput['Body'] {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const fake = {
    transformToString: async () => new TextDecoder().decode(bytes),
    transformToByteArray: async () => bytes,
  };
  return fake as unknown as GetObjectCommandOutput['Body'];
}

/**
 * The in-memory AWS adapter (functions/adapters/memory) for tests, with aws-sdk-client-mock call
 * history on each process's clients (`s3Mock.commandCalls(...)`), answering from the same memory.
 */
import { mockClient } from 'aws-sdk-client-mock';
import { FakeAws as MemoryAws, FakeProcess as MemoryProcess } from '#adapters/memory/memory-aws.ts';

export * from '#adapters/memory/memory-aws.ts';

/** A process whose clients are also aws-sdk-client-mock mocks (for call history in assertions). */
export class FakeProcess extends MemoryProcess {
  readonly s3Mock = mockClient(this.s3);
  readonly kmsMock = mockClient(this.kms);

  constructor(aws: MemoryAws) {
    super(aws);
    // mockClient replaces send(), so the in-memory answers are wired to the mocks as well.
    for (const [command, handler] of this.s3Router.handlers) {
      this.s3Mock.on(command as Parameters<typeof this.s3Mock.on>[0]).callsFake(handler as never);
    }
    for (const [command, handler] of this.kmsRouter.handlers) {
      this.kmsMock.on(command as Parameters<typeof this.kmsMock.on>[0]).callsFake(handler as never);
    }
  }
}

/** The in-memory account whose processes carry client mocks. */
export class FakeAws extends MemoryAws {
  override process(): FakeProcess {
    return new FakeProcess(this);
  }
}

/**
 * What the world can see: a Publisher decorator around the local publisher that checks every
 * publish for private key members, reads the published JWKS back from disk, and keeps the history
 * of what was public when, so verifiers fetch exactly the bytes a client would have fetched.
 */
import { assertNoPrivateMembers } from '#core/jwks.ts';
import type { LiveDocuments, PublicDocuments, Publisher } from '#core/ports.ts';

/** One publish as seen from outside: its virtual time, the JWKS bytes read back, its kids. */
export interface PublishedJwks {
  at: number;
  text: string;
  jwks: unknown;
  kids: string[];
}

/** Records and checks every publish. */
export class RecordingPublisher implements Publisher {
  /** Publishes in time order. */
  readonly history: PublishedJwks[] = [];
  /** Documents checked for private members (two per publish: JWKS and discovery). */
  documentsChecked = 0;
  /** Virtual time each kid first became public. */
  readonly firstPublished = new Map<string, number>();

  /**
   * @param inner the real publisher (local files)
   * @param readBack reads the JWKS as published (from disk), to record what a client sees
   * @param now the virtual clock, in milliseconds
   */
  constructor(
    private readonly inner: Publisher,
    private readonly readBack: () => Promise<string>,
    private readonly now: () => number,
  ) {}

  inspect(): Promise<LiveDocuments> {
    return this.inner.inspect();
  }

  async publish(
    documents: PublicDocuments,
    expected?: LiveDocuments,
  ): Promise<{ changed: boolean; live: LiveDocuments }> {
    assertNoPrivateMembers(JSON.parse(documents.jwks));
    assertNoPrivateMembers(JSON.parse(documents.discovery));
    this.documentsChecked += 2;
    const result = await this.inner.publish(documents, expected);
    const text = await this.readBack();
    const jwks = JSON.parse(text) as { keys: Array<{ kid: string }> };
    assertNoPrivateMembers(jwks);
    this.documentsChecked += 1;
    const at = this.now();
    const kids = jwks.keys.map((key) => key.kid);
    for (const kid of kids) if (!this.firstPublished.has(kid)) this.firstPublished.set(kid, at);
    this.history.push({ at, text, jwks, kids });
    return result;
  }

  /** The JWKS public at the current time (the latest publish), or undefined before the first. */
  current(): PublishedJwks | undefined {
    return this.history[this.history.length - 1];
  }
}

/**
 * Wires the local adapters for a `--dir`, the local twin of `adapters/compose.ts`.
 */
import { LocalKeysetStore, LocalPublisher, localPaths } from './fs-store.ts';
import { LocalKeys } from './software-keys.ts';

/** The local ports for one directory. */
export function composeLocal(dir: string) {
  const paths = localPaths(dir);
  const keys = new LocalKeys(paths.state);
  return {
    paths,
    store: new LocalKeysetStore(paths.state),
    keys,
    signer: keys,
    publisher: new LocalPublisher(dir),
  };
}

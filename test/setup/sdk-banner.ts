/**
 * The AWS SDK's Node-version banner (nine lines, once per worker on Node 20) would fill `npm test`
 * output. The CLI condenses it to one line (scripts/lib/sdk-banner.ts, tested with the real banner
 * in test/scripts/new-user/sdk-banner.test.ts); in the test workers it is dropped. Every other
 * warning still reaches the output.
 */
import { condenseSdkBanner } from '#scripts/lib/sdk-banner.ts';

const INSTALLED = Symbol.for('irsa-anywhere.test.sdk-banner');
const state = globalThis as { [INSTALLED]?: true };
if (state[INSTALLED] !== true) {
  state[INSTALLED] = true;
  process.emitWarning = condenseSdkBanner(process.emitWarning.bind(process), () => {}, process.version);
}

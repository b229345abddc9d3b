/**
 * The process entry of `irsa-anywhere`, for scripts/bin.mjs (through tsx) and for the bundle
 * (`npm run build`): output-error handling and the SDK banner first, then the CLI.
 */
import { main } from './cli.ts';
import { handleOutputErrors } from './lib/output-errors.ts';
import { installSdkBanner } from './lib/sdk-banner.ts';

handleOutputErrors();
installSdkBanner();
process.exitCode = await main(process.argv);

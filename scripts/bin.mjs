#!/usr/bin/env node
// The `irsa-anywhere` command. The CLI is TypeScript, loaded through tsx so it runs straight from a
// fresh clone after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { handleOutputErrors } = await import('./lib/output-errors.ts');
handleOutputErrors();
const { installSdkBanner } = await import('./lib/sdk-banner.ts');
installSdkBanner();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv);

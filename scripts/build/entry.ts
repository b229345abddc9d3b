/** The bundle's entry point (`dist/irsa-anywhere.mjs`): the same `main` as scripts/bin.mjs runs. */
import { main } from '../cli.ts';

process.exitCode = await main(process.argv);

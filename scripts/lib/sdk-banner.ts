/**
 * The AWS SDK for JavaScript warns, through `process.emitWarning`, that its versions published
 * after the first week of January 2027 need Node 22: nine lines on every AWS-touching command on
 * Node 20 (once per copy of the SDK core, and a CLI run can load several). The CLI keeps the news
 * and drops the noise: one line, at most once per process. Other warnings pass through unchanged.
 * The supported Node versions are in README.md ("Install the CLI on a node").
 */

const SDK_WARNING = /^NodeVersionSupportWarning: The AWS SDK for JavaScript \(v3\)/;

/** One line in place of the SDK's banner. */
export function sdkBannerLine(nodeVersion: string): string {
  return `note: the AWS SDK for JavaScript needs Node.js 22 or newer for its releases after the first week of January 2027; this is Node.js ${nodeVersion}. The CLI works on Node.js 20.19+ with the pinned SDK (see README.md).\n`;
}

/**
 * Wraps an `emitWarning` so the SDK's Node-version banner becomes {@link sdkBannerLine}, written
 * once with `write`; everything else goes to `emit` as before.
 */
export function condenseSdkBanner(
  emit: typeof process.emitWarning,
  write: (line: string) => void,
  nodeVersion: string,
): typeof process.emitWarning {
  let shown = false;
  const wrapped = (warning: string | Error, ...rest: unknown[]): void => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (SDK_WARNING.test(text)) {
      if (!shown) write(sdkBannerLine(nodeVersion));
      shown = true;
      return;
    }
    (emit as (w: string | Error, ...r: unknown[]) => void)(warning, ...rest);
  };
  return wrapped as typeof process.emitWarning;
}

/** Installs {@link condenseSdkBanner} on this process. */
export function installSdkBanner(): void {
  process.emitWarning = condenseSdkBanner(
    process.emitWarning.bind(process),
    (line) => {
      try {
        process.stderr.write(line);
      } catch {
        // stderr is gone; the note is not worth failing for.
      }
    },
    process.version,
  );
}

// How `gantry server` and `gantry agent` end on SIGINT and SIGTERM: the first signal runs the command's
// stop (which says what it does first) and the process exits 0 once it is over, 1 if it failed; a second
// signal quits at once (exit 130), e.g. a second Ctrl-C while a drain waits for the tasks' grace.
export function onStopSignals(stop: (signal: NodeJS.Signals) => Promise<void>, failure: string): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`gantry: ${failure}: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

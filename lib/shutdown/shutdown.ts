// Graceful shutdown for every binary: SIGTERM/SIGINT run the closers once, a second signal exits at once.
/**
 * onShutdown runs `closers` once on the first SIGTERM or SIGINT, in order, then exits 0
 * (1 if one failed). A second signal exits at once with 130, for an operator who won't wait.
 */
export function onShutdown(...closers: (() => Promise<void> | void)[]): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.error(`${signal} received, shutting down (send it again to exit now)`);
    void (async () => {
      let code = 0;
      for (const close of closers) {
        try {
          await close();
        } catch (err) {
          console.error(`shutdown step failed: ${err instanceof Error ? err.message : String(err)}`);
          code = 1;
        }
      }
      process.exit(code);
    })();
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}

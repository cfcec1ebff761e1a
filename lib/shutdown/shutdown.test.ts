import { expect, test } from "bun:test";
import { join } from "node:path";

/** spawnWithShutdown runs a process whose one closer logs, waits `closeMs`, and logs again. */
async function spawnWithShutdown(closeMs: number) {
  const script = `const { onShutdown } = await import(${JSON.stringify(join(import.meta.dir, "shutdown.ts"))});
    onShutdown(async () => { console.log("closing"); await Bun.sleep(${closeMs}); console.log("closed"); });
    console.log("ready");
    setInterval(() => {}, 1000);`;
  const proc = Bun.spawn(["bun", "-e", script], { stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  const readUntil = async (text: string) => {
    while (!out.includes(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    return out;
  };
  await readUntil("ready");
  return { proc, readUntil };
}

test("onShutdown runs the closers once on SIGTERM, then exits 0", async () => {
  const { proc, readUntil } = await spawnWithShutdown(100);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect((await readUntil("\u0000")).match(/closing|closed/g)).toEqual(["closing", "closed"]);
});

test("a second signal exits at once with a non-zero code", async () => {
  const { proc, readUntil } = await spawnWithShutdown(10_000);
  proc.kill("SIGINT");
  await readUntil("closing");
  proc.kill("SIGINT");
  const started = Date.now();
  expect(await proc.exited).toBe(130);
  expect(Date.now() - started).toBeLessThan(2000);
});

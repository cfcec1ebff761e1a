// The baseline: a bare Bun.serve answering a small JSON object, nothing else. PORT from the environment.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  fetch: () => Response.json({ id: "0195c3a4-7d2e-7000-8000-000000000000", name: "bare", ok: true }),
});
console.log(`listening on ${server.url}`);

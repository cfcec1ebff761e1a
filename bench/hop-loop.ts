// The internal hop alone: `concurrency` callers of user.v1.UserService/GetUser (a cached user) for
// SECONDS, either in-process (the user service's routes in this process, as combined mode calls
// them) or across processes (createRpcTransport to a running user service's internal port, with
// the gateway's credential, as the gateway calls it). After a warm-up it measures CPU itself: its
// own, plus the service's (/proc) when it has one, so the row's CPU per call is both sides' sum.
// Usage: bun bench/hop-loop.ts in-process|<internal url> <user id> <concurrency> <seconds> <warm-up seconds> [service pid]
import { createClient, type Transport } from "@connectrpc/connect";
import { UserService } from "../gen/user/v1/user_pb.ts";
import { tokenLifetimes } from "../lib/config/config.ts";
import { openDatabase } from "../lib/db/database.ts";
import { pgliteDir } from "../lib/db/env.ts";
import { createLogger } from "../lib/log.ts";
import { storeFromEnv } from "../lib/redis/index.ts";
import { sendCredential } from "../lib/rpc/callers.ts";
import { createRpcTransport } from "../lib/rpc/client.ts";
import { loadGatewayEnv } from "../gateway/env.ts";
import { loadUserEnv } from "../services/user/env.ts";
import { startUserService } from "../services/user/service.ts";
import { cpuSeconds } from "./processes.ts";
import { callLoop, percentile, printResult } from "./result.ts";

const [target = "in-process", id = "", concurrency = "50", seconds = "5", warmup = "2", servicePid] = process.argv.slice(2);

let transport: Transport;
let close = async () => {};
if (target === "in-process") {
  const env = loadUserEnv();
  const log = createLogger({ service: "hop-loop" });
  const db = await openDatabase({ url: env.DATABASE_URL, pgliteDir: pgliteDir(env.DATA_DIR) });
  const store = storeFromEnv(env);
  const service = await startUserService({
    db,
    store,
    log,
    host: "127.0.0.1",
    port: 0,
    credentials: env.credentials,
    lifetimes: tokenLifetimes(env),
  });
  transport = service.inProcess("gateway");
  close = async () => {
    await service.close();
    await Promise.all([db.close(), store.close()]);
  };
} else {
  transport = createRpcTransport(target, { interceptors: [sendCredential(loadGatewayEnv().credential)] });
}
const users = createClient(UserService, transport);
await users.getUser({ id }); // fail loudly if the user isn't there, and cache it

const run = (ms: number) => callLoop(() => users.getUser({ id }), Number(concurrency), ms);

if (Number(warmup) > 0) await run(Number(warmup) * 1000);
const pids = servicePid ? [Number(servicePid)] : [];
const cpuBefore = cpuSeconds(pids);
const ownBefore = process.cpuUsage();
const start = performance.now();
const { latencies, errors } = await run(Number(seconds) * 1000);
const durationUs = Math.round((performance.now() - start) * 1000);
const own = process.cpuUsage(ownBefore);
const cpuUs = (cpuSeconds(pids) - cpuBefore) * 1e6 + own.user + own.system;
const requests = latencies.length + errors;
printResult({
  requests,
  durationUs,
  errors,
  p50Us: percentile(latencies, 50) * 1000,
  p99Us: percentile(latencies, 99) * 1000,
  cpuUsPerRequest: cpuUs / requests,
});
await close();
process.exit(0);

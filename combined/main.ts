#!/usr/bin/env bun
// combined: the development binary — gateway, auth and user services in one process.
import { migrateCommand } from "../lib/db/migrate-cli.ts";
import { configCommand, runCommands } from "../lib/cli.ts";
import { usersCommand } from "./users.ts";

const USAGE = `Usage: bun run combined <command>

Commands:
  serve [--gateway-port 3000] [--auth-port 50051] [--user-port 50052]
                     run the gateway and both services in one process
  migrate up|down|status|fresh
                     manage the database schema
  config check       validate the environment as serve would, then exit (0, or 2 listing every problem)
  users promote <email>
  users create --email E --name N [--admin] [--password-stdin]
                     bootstrap an admin without SQL

Run "bun run combined <command> --help" for a command's options.`;

await runCommands(USAGE, {
  serve: async (args) => (await import("./serve.ts")).serve(args),
  migrate: migrateCommand,
  users: usersCommand,
  config: configCommand(USAGE, async () => (await import("./serve.ts")).loadCombinedEnv()),
});

// The command-line edge shared by every binary: parse flags strictly, print usage on --help, and
// turn every known failure into one clear line on stderr and a non-zero exit — never a stack trace.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "./config/config.ts";
import { DatabaseUnavailableError, MigrationError } from "./db/errors.ts";

/** UsageError is a mistake on the command line; the message says what to type instead. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** parseFlags is node:util parseArgs in strict mode, with its errors turned into UsageError. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/\. To specify.*$/s, "") : String(error));
  }
}

/** portFlag reads a --port style flag, or the fallback when absent. */
export function portFlag(value: string | boolean | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`${flag} must be a port number (0-65535), got "${value}"`);
  return port;
}

/** Command runs one subcommand with the arguments after its name. */
export type Command = (args: string[]) => Promise<unknown>;

/**
 * runCommands is a binary's whole command line: `--help`/`-h`/`help` prints usage, a known
 * subcommand runs, anything else is a UsageError — all through runCli's exit codes.
 */
export function runCommands(usage: string, commands: Record<string, Command>): Promise<void> {
  return runCli(usage, async () => {
    const [command, ...args] = process.argv.slice(2);
    if (command === "--help" || command === "-h" || command === "help") return console.log(usage);
    if (command === undefined) throw new UsageError("missing command");
    if (!Object.hasOwn(commands, command)) throw new UsageError(`unknown command "${command}"`);
    return commands[command]?.(args);
  });
}

/** serveCommand is `serve [--port N]`: start receives the flag's port, or the fallback it names. */
export function serveCommand(usage: string, start: (port: (fallback: number) => number) => Promise<void>): Command {
  return async (args) => {
    const { values } = parseFlags(args, { port: { type: "string", short: "p" } });
    if (values.help) return console.log(usage);
    return start((fallback) => portFlag(values.port, "--port", fallback));
  };
}

/**
 * configCommand is `config check`: read and validate the environment exactly as serve would, say so,
 * and exit — 0 when serve would start, 2 with every problem listed when it wouldn't (runCli). For a
 * deployment's pre-flight (an init step, CI against the rendered manifests).
 */
export function configCommand(usage: string, load: () => unknown): Command {
  return async (args) => {
    const { positionals, values } = parseFlags(args, {});
    if (values.help) return console.log(usage);
    if (positionals.length !== 1 || positionals[0] !== "check") throw new UsageError('config takes one subcommand: "config check"');
    await load();
    console.log("configuration OK");
  };
}

/** runCli runs main and maps failures to exit codes: 2 for usage and configuration, 1 otherwise. */
export async function runCli(usage: string, main: () => Promise<unknown>): Promise<void> {
  try {
    const code = await main();
    if (typeof code === "number") process.exitCode = code;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${usage}`);
      process.exit(2);
    }
    if (error instanceof ConfigError) {
      console.error(`error: invalid configuration\n${error.problems.map((p) => `  - ${p}`).join("\n")}`);
      process.exit(2);
    }
    if (error instanceof DatabaseUnavailableError || error instanceof MigrationError) {
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
    const debug = process.env.LOG_LEVEL === "debug";
    console.error(`error: ${debug && error instanceof Error ? error.stack : error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

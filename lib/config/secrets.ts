// Zero-setup development needs no secrets: outside production, a missing JWT_SECRET or caller
// secret (GATEWAY_TOKEN, AUTH_SERVICE_TOKEN, OPERATOR_TOKEN) is generated once, kept in
// DATA_DIR/dev-secrets.json (shared by every binary started from the same folder), and announced
// as a development-only value. In production their absence is a configuration error (see
// parseEnv's requiredInProduction).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type DevSecretName = "JWT_SECRET" | "GATEWAY_TOKEN" | "AUTH_SERVICE_TOKEN" | "OPERATOR_TOKEN";

const announced = new Set<string>();

/** devSecret returns the development value of a secret, creating and announcing it the first time. */
export function devSecret(name: DevSecretName, dataDir: string): string {
  const file = join(dataDir, "dev-secrets.json");
  const secrets: Partial<Record<DevSecretName, string>> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  let value = secrets[name];
  if (!value) {
    value = randomBytes(48).toString("base64url");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify({ ...secrets, [name]: value }, null, 2)}\n`, { mode: 0o600 });
  }
  if (announced.has(name)) return value;
  announced.add(name);
  console.error(`note: ${name} is not set; using a development-only value kept in ${file}. Set ${name} in production.`);
  return value;
}

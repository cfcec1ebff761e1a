// The semantic checks deploy/k8s.test.ts runs on a rendered overlay (`kubectl kustomize`): each
// returns one line per problem, so a test expects [] and a planted mistake shows what it broke.
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";

/** K8sObject is one rendered object, before we know its kind. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export type Workload = { name: string; labels: Record<string, string>; pod: IPodSpec };

/** workloads lists the rendered Deployments with their pod templates. */
export function workloads(objects: unknown[]): Workload[] {
  return objects.filter(Deployment.is).map((d) => ({
    name: d.metadata?.name ?? "",
    labels: d.spec?.template.metadata?.labels ?? {},
    pod: d.spec?.template.spec ?? { containers: [] },
  }));
}

/** matches tells whether every matchLabels pair is among the labels (an empty selector matches nothing here). */
export const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);

const allContainers = (pod: IPodSpec) => [...(pod.initContainers ?? []), ...pod.containers];

/** selectorProblems: Deployments select their own pods; Services, PDBs, HPAs and the Ingress find theirs. */
export function selectorProblems(objects: unknown[]): string[] {
  const problems: string[] = [];
  const pods = workloads(objects);
  for (const d of objects.filter(Deployment.is)) {
    const name = d.metadata?.name;
    if (!matches(d.spec?.selector.matchLabels, d.spec?.template.metadata?.labels ?? {})) {
      problems.push(`Deployment ${name}: selector doesn't match its pod template's labels`);
    }
  }
  for (const s of objects.filter(Service.is)) {
    if (!pods.some((w) => matches(s.spec?.selector, w.labels))) problems.push(`Service ${s.metadata?.name}: selects no pod`);
  }
  for (const p of objects.filter(PodDisruptionBudget.is)) {
    if (!pods.some((w) => matches(p.spec?.selector?.matchLabels, w.labels)))
      problems.push(`PodDisruptionBudget ${p.metadata?.name}: selects no pod`);
  }
  for (const h of objects.filter(HorizontalPodAutoscaler.is)) {
    const target = h.spec?.scaleTargetRef;
    if (target?.kind !== "Deployment" || !pods.some((w) => w.name === target.name)) {
      problems.push(`HorizontalPodAutoscaler ${h.metadata?.name}: scales no Deployment`);
    }
  }
  const services = objects.filter(Service.is);
  for (const i of objects.filter(Ingress.is)) {
    for (const path of (i.spec?.rules ?? []).flatMap((rule) => rule.http?.paths ?? [])) {
      const backend = path.backend.service;
      const service = services.find((s) => s.metadata?.name === backend?.name);
      if (!service?.spec?.ports?.some((p) => p.name === backend?.port?.name || p.port === backend?.port?.number)) {
        problems.push(
          `Ingress ${i.metadata?.name}: backend ${backend?.name}:${backend?.port?.name ?? backend?.port?.number} is no Service port`,
        );
      }
    }
  }
  return problems;
}

const hasPort = (container: IContainer, port: number | string | undefined) =>
  (container.ports ?? []).some((p) => (typeof port === "string" ? p.name === port : p.containerPort === port));

/** portProblems: every Service targetPort names a port of each container it reaches; every probe's port is the container's. */
export function portProblems(objects: unknown[]): string[] {
  const problems: string[] = [];
  const pods = workloads(objects);
  for (const s of objects.filter(Service.is)) {
    const selected = pods.filter((w) => matches(s.spec?.selector, w.labels));
    for (const port of s.spec?.ports ?? []) {
      if (typeof port.targetPort !== "string") problems.push(`Service ${s.metadata?.name}: port ${port.port} targets no named port`);
      for (const w of selected) {
        if (!w.pod.containers.some((c) => hasPort(c, port.targetPort))) {
          problems.push(`Service ${s.metadata?.name}: targetPort ${port.targetPort} is no container port of ${w.name}`);
        }
      }
    }
  }
  for (const w of pods) {
    for (const c of w.pod.containers) {
      const probes: [string, IProbe | undefined][] = [
        ["startupProbe", c.startupProbe],
        ["livenessProbe", c.livenessProbe],
        ["readinessProbe", c.readinessProbe],
      ];
      for (const [kind, probe] of probes) {
        if (!probe) problems.push(`${w.name}/${c.name}: no ${kind}`);
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
        if (probe && !hasPort(c, port)) problems.push(`${w.name}/${c.name}: ${kind} port ${port} is no container port`);
      }
    }
  }
  return problems;
}

/** Lookup finds a ConfigMap's or Secret's data (decoded) by name. */
export type Lookup = (kind: "ConfigMap" | "Secret", name: string) => Record<string, string> | undefined;

/** renderedData looks ConfigMaps and Secrets up among the rendered objects. */
export function renderedData(objects: unknown[]): Lookup {
  return (kind, name) => {
    if (kind === "ConfigMap") return objects.filter(ConfigMap.is).find((m) => m.metadata?.name === name)?.data ?? undefined;
    const secret = objects.filter(Secret.is).find((s) => s.metadata?.name === name);
    if (!secret) return undefined;
    const decode = (value: string) => Buffer.from(value.replace(/\s/g, ""), "base64").toString("utf8");
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, decode(value)]));
  };
}

/**
 * containerEnv is the environment Kubernetes gives a container, with the problems found on the way:
 * a variable not taken from a ConfigMap or Secret, a missing object, a missing key that isn't optional.
 */
export function containerEnv(container: IContainer, lookup: Lookup): { env: Record<string, string>; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  if (container.envFrom?.length) problems.push(`${container.name}: envFrom hands over every key, not only what the binary reads`);
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
    if (!ref) {
      problems.push(`${container.name}: ${variable.name} isn't taken from the ConfigMap or the Secret`);
      continue;
    }
    const kind = variable.valueFrom?.configMapKeyRef ? "ConfigMap" : "Secret";
    const data = lookup(kind, ref.name ?? "");
    const value = data?.[ref.key];
    if (value !== undefined) env[variable.name] = value;
    else if (!ref.optional)
      problems.push(`${container.name}: ${variable.name} needs key ${ref.key} of ${kind} ${ref.name}, which has none`);
  }
  return { env, problems };
}

/** envProblems runs containerEnv over every container of every workload. */
export const envProblems = (objects: unknown[], lookup: Lookup) =>
  workloads(objects).flatMap((w) => allContainers(w.pod).flatMap((c) => containerEnv(c, lookup).problems.map((p) => `${w.name}/${p}`)));

/** preStopSeconds is how long a container's preStop hook pauses (exec sleep N, or the sleep action). */
export function preStopSeconds(container: IContainer): number | undefined {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const [command, seconds] = preStop?.exec?.command ?? [];
  return command === "sleep" && /^\d+$/.test(seconds ?? "") ? Number(seconds) : undefined;
}

/** shutdownProblems: the grace period outlasts the preStop pause plus the binary's drain (SHUTDOWN_TIMEOUT_SECONDS). */
export function shutdownProblems(objects: unknown[], lookup: Lookup): string[] {
  return workloads(objects).flatMap((w) =>
    w.pod.containers.flatMap((c) => {
      const pause = preStopSeconds(c);
      if (pause === undefined) return [`${w.name}/${c.name}: no preStop pause`];
      const drain = Number(containerEnv(c, lookup).env.SHUTDOWN_TIMEOUT_SECONDS ?? 10);
      const grace = w.pod.terminationGracePeriodSeconds ?? 30;
      return grace > pause + drain
        ? []
        : [`${w.name}: terminationGracePeriodSeconds ${grace} ≤ preStop ${pause} + SHUTDOWN_TIMEOUT_SECONDS ${drain}`];
    }),
  );
}

/** securityProblems: every container runs as uid 1000, non-root, read-only, unprivileged, all capabilities dropped, seccomp on. */
export function securityProblems(objects: unknown[]): string[] {
  return workloads(objects).flatMap((w) => {
    const pod = w.pod.securityContext ?? {};
    const problems: string[] = [];
    if (w.pod.automountServiceAccountToken !== false) problems.push(`${w.name}: mounts a service account token it never uses`);
    if (w.pod.enableServiceLinks !== false) problems.push(`${w.name}: service links inject variables the binary doesn't read`);
    for (const c of allContainers(w.pod)) {
      const own = c.securityContext ?? {};
      const effective = {
        runAsNonRoot: own.runAsNonRoot ?? pod.runAsNonRoot,
        runAsUser: own.runAsUser ?? pod.runAsUser,
        readOnlyRootFilesystem: own.readOnlyRootFilesystem,
        allowPrivilegeEscalation: own.allowPrivilegeEscalation,
        dropsAll: own.capabilities?.drop?.includes("ALL") ?? false,
        seccomp: (own.seccompProfile ?? pod.seccompProfile)?.type,
      };
      const expected = {
        runAsNonRoot: true,
        runAsUser: 1000,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        dropsAll: true,
        seccomp: "RuntimeDefault",
      };
      for (const [field, value] of Object.entries(expected)) {
        const actual = effective[field as keyof typeof effective];
        if (actual !== value) problems.push(`${w.name}/${c.name}: ${field} is ${actual}, not ${value}`);
      }
      for (const kind of ["requests", "limits"] as const) {
        for (const resource of ["cpu", "memory"]) {
          if (c.resources?.[kind]?.[resource] === undefined) problems.push(`${w.name}/${c.name}: no ${resource} ${kind.slice(0, -1)}`);
        }
      }
    }
    return problems;
  });
}

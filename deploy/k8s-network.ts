// networkGraph computes who may reach whom under the rendered NetworkPolicies, the way the
// NetworkPolicy API defines it: a connection needs the sender's egress and the receiver's ingress to
// allow it, and a pod no policy selects (for that direction) is not isolated. deploy/k8s.test.ts
// compares the result to the table of connections the binaries make.
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import type { INetworkPolicyPort } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort";
import type { IContainerPort } from "kubernetes-models/v1/ContainerPort";
import { workloads } from "./k8s-checks.ts";

type Selector = NonNullable<INetworkPolicyPeer["podSelector"]>;

/** Endpoint is a pod (or, with no namespace, an address outside the cluster) that may send or receive. */
export type Endpoint = { name: string; namespace?: string; labels: Record<string, string>; ports: IContainerPort[] };

/**
 * assumedEndpoints are the pods outside the rendered manifests that the policies speak of (or must
 * keep out): PostgreSQL and Redis beside the binaries, DNS, the ingress controller, a pod of some
 * other namespace, and an address on the internet.
 */
export const assumedEndpoints = (namespace: string): Endpoint[] => [
  {
    name: "postgresql",
    namespace,
    labels: { "app.kubernetes.io/name": "postgresql" },
    ports: [{ name: "tcp-postgresql", containerPort: 5432 }],
  },
  { name: "redis", namespace, labels: { "app.kubernetes.io/name": "redis" }, ports: [{ name: "tcp-redis", containerPort: 6379 }] },
  {
    name: "kube-dns",
    namespace: "kube-system",
    labels: { "k8s-app": "kube-dns" },
    ports: [
      { name: "dns", containerPort: 53, protocol: "UDP" },
      { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
    ],
  },
  { name: "ingress-nginx", namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" }, ports: [] },
  { name: "other-namespace", namespace: "other", labels: { "app.kubernetes.io/name": "other" }, ports: [] },
  { name: "internet", labels: {}, ports: [] },
];

/** selects implements metav1.LabelSelector: matchLabels and matchExpressions, {} selecting everything. */
export function selects(selector: Selector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    byLabels &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      if (operator === "In") return value !== undefined && values.includes(value);
      if (operator === "NotIn") return value === undefined || !values.includes(value);
      if (operator === "Exists") return value !== undefined;
      return value === undefined; // DoesNotExist
    })
  );
}

// An ipBlock is taken to match every endpoint: pod addresses may fall inside it, so the graph can
// only come out wider than the cluster's, never narrower.
function peerMatches(peer: INetworkPolicyPeer, endpoint: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) return true;
  if (!endpoint.namespace) return false;
  if (peer.namespaceSelector) {
    const namespaceLabels = { "kubernetes.io/metadata.name": endpoint.namespace };
    return selects(peer.namespaceSelector, namespaceLabels) && (!peer.podSelector || selects(peer.podSelector, endpoint.labels));
  }
  return endpoint.namespace === policyNamespace && !!peer.podSelector && selects(peer.podSelector, endpoint.labels);
}

type Port = { port: number; protocol: string };

function portMatches(rule: INetworkPolicyPort, port: Port, receiver: Endpoint): boolean {
  if ((rule.protocol ?? "TCP") !== port.protocol) return false;
  if (rule.port === undefined) return true;
  if (typeof rule.port === "string") {
    return receiver.ports.some((p) => p.name === rule.port && p.containerPort === port.port && (p.protocol ?? "TCP") === port.protocol);
  }
  return rule.endPort ? port.port >= rule.port && port.port <= rule.endPort : port.port === rule.port;
}

/** networkGraph lists every allowed "sender → receiver:port/protocol" with at least one end in the namespace. */
export function networkGraph(objects: unknown[], namespace: string): string[] {
  const policies = objects.filter(NetworkPolicy.is).map((p) => ({ namespace: p.metadata?.namespace ?? namespace, spec: p.spec ?? {} }));
  const endpoints: Endpoint[] = [
    ...workloads(objects).map((w) => ({
      name: w.name,
      namespace,
      labels: w.labels,
      ports: w.pod.containers.flatMap((c) => c.ports ?? []),
    })),
    ...assumedEndpoints(namespace),
  ];
  // Every port anything listens on or a policy names, and one nobody uses.
  const ports = new Map<string, Port>();
  const addPort = (port: number, protocol = "TCP") => ports.set(`${port}/${protocol}`, { port, protocol });
  for (const e of endpoints) for (const p of e.ports) addPort(p.containerPort, p.protocol);
  for (const { spec } of policies) {
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
      for (const p of rule.ports ?? []) if (typeof p.port === "number") addPort(p.port, p.protocol);
    }
  }
  addPort(8080);

  const allows = (direction: "Ingress" | "Egress", self: Endpoint, peer: Endpoint, port: Port, receiver: Endpoint) => {
    const applying = policies.filter(
      (p) =>
        p.namespace === self.namespace &&
        selects(p.spec.podSelector ?? {}, self.labels) &&
        (p.spec.policyTypes ?? (p.spec.egress ? ["Ingress", "Egress"] : ["Ingress"])).includes(direction),
    );
    if (applying.length === 0) return true;
    return applying.some((p) =>
      (direction === "Ingress"
        ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
        : (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }))
      ).some(
        (rule) =>
          (!rule.peers?.length || rule.peers.some((peer_) => peerMatches(peer_, peer, p.namespace))) &&
          (!rule.ports?.length || rule.ports.some((r) => portMatches(r, port, receiver))),
      ),
    );
  };

  const edges: string[] = [];
  for (const from of endpoints) {
    for (const to of endpoints) {
      if (from === to || (from.namespace !== namespace && to.namespace !== namespace)) continue;
      for (const port of ports.values()) {
        if (allows("Egress", from, to, port, to) && allows("Ingress", to, from, port, to)) {
          edges.push(`${from.name} → ${to.name}:${port.port}/${port.protocol}`);
        }
      }
    }
  }
  return edges.sort();
}

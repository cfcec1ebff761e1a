// The gateway's view of the two services, over any Connect transport: gRPC over h2c in split mode,
// in-process in combined mode.
import { createClient, type Transport } from "@connectrpc/connect";
import { AuthService } from "../gen/auth/v1/auth_pb.ts";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.ts";
import { UserService } from "../gen/user/v1/user_pb.ts";

/** serviceClients builds the auth and user clients and their gRPC health checks. */
export function serviceClients(transports: { auth: Transport; user: Transport }) {
  const check = (transport: Transport, service: string) => async () => {
    const { status } = await createClient(Health, transport).check({ service }, { timeoutMs: 2000 });
    if (status !== ServingStatus.SERVING) throw new Error(`${service} is ${ServingStatus[status]}`);
  };
  return {
    auth: createClient(AuthService, transports.auth),
    users: createClient(UserService, transports.user),
    healthChecks: {
      auth: check(transports.auth, AuthService.typeName),
      user: check(transports.user, UserService.typeName),
    },
  };
}

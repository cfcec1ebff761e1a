// encodeBinary and decodeBinary against protobuf-es on every message type of the services' contracts:
// the same bytes out, the same messages in, the same refusals.
import { describe, expect, test } from "bun:test";
import { create, type DescField, type DescMessage, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import { file_auth_v1_auth, VerifyEmailResponseSchema } from "../../gen/auth/v1/auth_pb.ts";
import { file_user_v1_user, GetUserRequestSchema, ListUsersResponseSchema, UserResponseSchema } from "../../gen/user/v1/user_pb.ts";
import { decodeBinary, encodeBinary } from "./binary.ts";

const MESSAGES: DescMessage[] = [...file_user_v1_user.messages, ...file_auth_v1_auth.messages];

// A seeded generator, so a failure reproduces.
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(values: T[]): T => values[Math.floor(random() * values.length)]!;
const STRINGS = [
  "",
  "a",
  "someone@example.com",
  "é",
  "名前",
  "emoji 😀 here",
  "x".repeat(42),
  "y".repeat(43),
  "z".repeat(200),
  "ü".repeat(50),
  "\u0000",
];
const INT32 = [0, 1, -1, 127, 128, 300, 2 ** 31 - 1, -(2 ** 31), -12345];
const UINT32 = [0, 1, 127, 128, 16384, 2 ** 32 - 1];

function randomValue(field: DescField, depth: number): unknown {
  if (field.fieldKind === "message") return depth < 3 ? randomMessage(field.message, depth + 1) : undefined;
  if (field.fieldKind === "list") {
    if (field.listKind !== "message") return [];
    return depth < 3 ? Array.from({ length: Math.floor(random() * 3) }, () => randomMessage(field.message, depth + 1)) : [];
  }
  if (field.fieldKind === "enum") return pick(field.enum.values).number;
  if (field.fieldKind !== "scalar") return undefined;
  switch (field.scalar) {
    case ScalarType.STRING:
      return pick(STRINGS);
    case ScalarType.BOOL:
      return random() < 0.5;
    case ScalarType.INT32:
      return pick(INT32);
    case ScalarType.UINT32:
      return pick(UINT32);
    case ScalarType.INT64:
      return BigInt(pick(INT32));
    default:
      return undefined;
  }
}

function randomMessage(desc: DescMessage, depth = 0) {
  const init: Record<string, unknown> = {};
  for (const field of desc.fields) {
    if (random() < 0.3) continue; // unset (explicit presence) or zero
    const value = randomValue(field, depth);
    if (value !== undefined) init[field.localName] = value;
  }
  return create(desc, init as never);
}

describe("encodeBinary and decodeBinary give protobuf-es' results", () => {
  for (const desc of MESSAGES) {
    test(desc.typeName, () => {
      for (let i = 0; i < 200; i++) {
        const message = randomMessage(desc);
        const bytes = toBinary(desc, message);
        expect(encodeBinary(desc, message)).toEqual(bytes);
        expect(decodeBinary(desc, bytes)).toStrictEqual(fromBinary(desc, bytes));
      }
    });
  }
});

/** outcome is what a function returned or threw, for comparing refusals. */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: String(error) };
  }
}

const sameDecoding = (desc: DescMessage, bytes: Uint8Array) =>
  expect(outcome(() => decodeBinary(desc, bytes))).toStrictEqual(outcome(() => fromBinary(desc, bytes)));

describe("input that isn't plain is protobuf-es' to read", () => {
  const user = create(UserResponseSchema, { id: "u1", email: "a@example.com", deletedAt: "2026-01-01" });
  const bytes = toBinary(UserResponseSchema, user);

  test("unknown fields are kept as protobuf-es keeps them", () => {
    const withUnknown = new Uint8Array([...bytes, (15 << 3) | 0, 5, (14 << 3) | 2, 1, 65]);
    sameDecoding(UserResponseSchema, withUnknown);
    const decoded = decodeBinary(UserResponseSchema, withUnknown);
    expect(decoded.$unknown).toHaveLength(2);
    expect(encodeBinary(UserResponseSchema, decoded)).toEqual(toBinary(UserResponseSchema, decoded));
  });

  test("invalid UTF-8, truncation, a wrong wire type and an overlong varint are refused alike", () => {
    sameDecoding(GetUserRequestSchema, new Uint8Array([0x0a, 2, 0xc3, 0x28]));
    sameDecoding(GetUserRequestSchema, new Uint8Array([0x0a, 5, 0x61]));
    sameDecoding(GetUserRequestSchema, new Uint8Array([0x08, 1]));
    sameDecoding(GetUserRequestSchema, new Uint8Array([0x10, ...Array(11).fill(0xff), 0]));
    sameDecoding(GetUserRequestSchema, bytes.subarray(0, bytes.length - 1));
  });

  test("a bool whose only set bits are past 32 is true, and a later value wins", () => {
    sameDecoding(GetUserRequestSchema, new Uint8Array([0x10, 0x80, 0x80, 0x80, 0x80, 0x10]));
    sameDecoding(GetUserRequestSchema, new Uint8Array([0x0a, 1, 0x61, 0x0a, 1, 0x62, 0x10, 1, 0x10, 0]));
  });

  test("a singular message sent twice is merged, by protobuf-es", () => {
    const first = toBinary(VerifyEmailResponseSchema, create(VerifyEmailResponseSchema, { user: { id: "u1", name: "First" } }));
    const second = toBinary(VerifyEmailResponseSchema, create(VerifyEmailResponseSchema, { user: { email: "b@example.com" } }));
    sameDecoding(VerifyEmailResponseSchema, new Uint8Array([...first, ...second]));
    expect(decodeBinary(VerifyEmailResponseSchema, new Uint8Array([...first, ...second])).user).toMatchObject({
      id: "u1",
      email: "b@example.com",
    });
  });

  test("repeated messages keep their order", () => {
    const list = create(ListUsersResponseSchema, { users: [user, create(UserResponseSchema, { id: "u2" })], nextPageToken: "t" });
    const bytes = toBinary(ListUsersResponseSchema, list);
    expect(decodeBinary(ListUsersResponseSchema, bytes)).toStrictEqual(list);
  });

  test("a lone surrogate is encoded as protobuf-es encodes it", () => {
    const message = create(GetUserRequestSchema, { id: "a\ud800b" });
    expect(outcome(() => encodeBinary(GetUserRequestSchema, message))).toStrictEqual(
      outcome(() => toBinary(GetUserRequestSchema, message)),
    );
  });

  test("a message of another type is refused as protobuf-es refuses it", () => {
    const other = create(GetUserRequestSchema, { id: "x" }) as never;
    expect(outcome(() => encodeBinary(UserResponseSchema, other))).toStrictEqual(outcome(() => toBinary(UserResponseSchema, other)));
  });

  test("a message larger than the scratch buffer is encoded by protobuf-es", () => {
    const users = Array.from({ length: 400 }, (_, i) => create(UserResponseSchema, { id: `${i}`, name: "n".repeat(200) }));
    const big = create(ListUsersResponseSchema, { users });
    expect(encodeBinary(ListUsersResponseSchema, big)).toEqual(toBinary(ListUsersResponseSchema, big));
  });
});

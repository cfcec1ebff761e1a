// Binary protobuf for the internal hop: toBinary and fromBinary with the same results, cheaper for
// the kinds of message the services exchange (strings, bools, 32-bit integers, enums and nested
// messages: all of user.v1 and most of auth.v1). protobuf-es decodes a short ASCII string through an
// array of char codes and String.fromCharCode.apply, ≈ 290 ns a string on Bun where a native slice
// costs 40–60: a UserResponse took 1.2–1.8 µs to decode and ≈ 1 µs to encode, this takes ≈ 0.35
// each way, and a hop call costs ≈ 8 µs of CPU less under load (BENCHMARKS.md).
//
// Anything else goes to protobuf-es untouched, so its errors and edge cases stay its own: message
// types with other field kinds (64-bit or floating numbers, bytes, maps, oneofs, repeated scalars,
// proto2 or editions), and input that isn't plain (an unknown field, a singular message sent twice,
// an unexpected wire type, invalid UTF-8, a message that carries unknown fields or is too large).
import { isUtf8 } from "node:buffer";
import { type DescField, type DescMessage, fromBinary, type MessageShape, ScalarType, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { Edition, FeatureSet_FieldPresence as Presence } from "@bufbuild/protobuf/wkt";

type Plain = Record<string, unknown>;

type Field = {
  number: number;
  localName: string;
  /** explicit: the field has presence (proto3 `optional`, messages); else it is left out when zero. */
  explicit: boolean;
  kind: "string" | "bool" | "int32" | "uint32" | "message" | "list";
  /** tag is the field's key as one varint (number << 3 | wire type). */
  tag: number;
  /** message is the nested message type's plan. */
  message?: Plan;
};

type Plan = {
  typeName: string;
  /** fields in number order, as protobuf-es writes them. */
  fields: Field[];
  /** byNumber[n] is field n (numbers are small in these schemas). */
  byNumber: (Field | undefined)[];
  /** blank is a decoded message before its fields are read: implicit scalar fields at zero. */
  blank: Plain;
  /** lists are the repeated fields, each a new empty array in a decoded message. */
  lists: string[];
};

const plans = new WeakMap<DescMessage, Plan | null>();

/** planOf compiles a message type once; null when any field is of a kind handled only by protobuf-es. */
function planOf(desc: DescMessage, compiling = new Set<DescMessage>()): Plan | null {
  const known = plans.get(desc);
  if (known !== undefined) return known;
  if (compiling.has(desc)) return null; // recursive types stay with protobuf-es
  compiling.add(desc);
  const plan = compile(desc, compiling);
  compiling.delete(desc);
  plans.set(desc, plan);
  return plan;
}

function compile(desc: DescMessage, compiling: Set<DescMessage>): Plan | null {
  if (desc.file.edition !== Edition.EDITION_PROTO3 || desc.oneofs.length > 0) return null;
  const fields: Field[] = [];
  const blank: Plain = { $typeName: desc.typeName };
  for (const field of [...desc.fields].sort((a, b) => a.number - b.number)) {
    const planned = fieldPlan(field, compiling);
    if (!planned || planned.number > 1024) return null;
    fields.push(planned);
    if (planned.kind !== "list" && !planned.explicit) blank[planned.localName] = zero(planned.kind);
  }
  const byNumber: (Field | undefined)[] = [];
  for (const field of fields) byNumber[field.number] = field;
  const lists = fields.filter((field) => field.kind === "list").map((field) => field.localName);
  return { typeName: desc.typeName, fields, byNumber, blank, lists };
}

function fieldPlan(field: DescField, compiling: Set<DescMessage>): Field | null {
  const base = { number: field.number, localName: field.localName, explicit: field.presence !== Presence.IMPLICIT };
  if (field.presence === Presence.LEGACY_REQUIRED) return null;
  switch (field.fieldKind) {
    case "scalar": {
      const kind = SCALARS[field.scalar];
      if (!kind || (kind === "string" && !field.utf8Validation)) return null;
      return { ...base, kind, tag: (field.number << 3) | (kind === "string" ? WireType.LengthDelimited : WireType.Varint) };
    }
    case "enum":
      return field.enum.open ? { ...base, kind: "int32", tag: (field.number << 3) | WireType.Varint } : null;
    case "message": {
      if (field.delimitedEncoding) return null;
      const message = planOf(field.message, compiling);
      return message && { ...base, explicit: true, kind: "message", tag: (field.number << 3) | WireType.LengthDelimited, message };
    }
    case "list": {
      if (field.listKind !== "message" || field.delimitedEncoding) return null;
      const message = planOf(field.message, compiling);
      return message && { ...base, explicit: false, kind: "list", tag: (field.number << 3) | WireType.LengthDelimited, message };
    }
    default:
      return null;
  }
}

const SCALARS: Partial<Record<ScalarType, Field["kind"]>> = {
  [ScalarType.STRING]: "string",
  [ScalarType.BOOL]: "bool",
  [ScalarType.INT32]: "int32",
  [ScalarType.UINT32]: "uint32",
};

const zero = (kind: Field["kind"]) => (kind === "string" ? "" : kind === "bool" ? false : 0);

// ---- encoding -------------------------------------------------------------------------------

// Messages are written into one scratch buffer, then copied out; a message that doesn't fit goes to
// protobuf-es. Buffer's utf8Write is the cheapest native UTF-8 encoder here.
const SCRATCH_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES) as Buffer & { utf8Write(value: string, offset: number): number };

/** Unplain: the message is not one this encoder writes exactly; protobuf-es does. */
const UNPLAIN = -1;

/** encodeBinary is toBinary(desc, message). */
export function encodeBinary<Desc extends DescMessage>(desc: Desc, message: MessageShape<Desc>): Uint8Array {
  const plan = planOf(desc);
  if (plan) {
    const end = writeMessage(plan, message as unknown as Plain, 0);
    if (end !== UNPLAIN) return new Uint8Array(scratch.subarray(0, end));
  }
  return toBinary(desc, message);
}

/** writeMessage writes message's fields at pos and gives where they end, or UNPLAIN. */
function writeMessage(plan: Plan, message: Plain, pos: number): number {
  if (message.$typeName !== plan.typeName || message.$unknown !== undefined) return UNPLAIN;
  for (const field of plan.fields) {
    const value = message[field.localName];
    if (value === undefined && (field.explicit || field.kind === "list")) continue;
    if (pos > SCRATCH_BYTES - 16) return UNPLAIN;
    switch (field.kind) {
      case "string": {
        if (typeof value !== "string") return UNPLAIN;
        if (value === "" && !field.explicit) continue;
        pos = writeVarint(field.tag, pos);
        pos = writeString(value, pos);
        break;
      }
      case "bool":
        if (typeof value !== "boolean") return UNPLAIN;
        if (!value && !field.explicit) continue;
        pos = writeVarint(field.tag, pos);
        scratch[pos++] = value ? 1 : 0;
        break;
      case "int32":
      case "uint32": {
        if (typeof value !== "number" || !Number.isInteger(value)) return UNPLAIN;
        if (field.kind === "int32" ? (value | 0) !== value : value >>> 0 !== value) return UNPLAIN;
        if (value === 0 && !field.explicit) continue;
        pos = writeVarint(field.tag, pos);
        pos = value < 0 ? writeNegative(value, pos) : writeVarint(value, pos);
        break;
      }
      case "message":
        pos = writeNested(field, value, pos);
        break;
      case "list": {
        if (!Array.isArray(value)) return UNPLAIN;
        for (const item of value) {
          if (pos === UNPLAIN || pos > SCRATCH_BYTES - 16) return UNPLAIN;
          pos = writeNested(field, item, pos);
        }
        break;
      }
    }
    if (pos === UNPLAIN) return UNPLAIN;
  }
  return pos;
}

/** writeNested writes a message field: its tag, its length, its fields. */
function writeNested(field: Field, value: unknown, pos: number): number {
  if (typeof value !== "object" || value === null) return UNPLAIN;
  pos = writeVarint(field.tag, pos);
  // The length goes first; reserve one byte and move the fields if it takes more.
  const start = pos + 1;
  const end = writeMessage(field.message!, value as Plain, start);
  if (end === UNPLAIN) return UNPLAIN;
  const length = end - start;
  const lengthBytes = varintSize(length);
  if (lengthBytes > 1) {
    if (end + lengthBytes - 1 > SCRATCH_BYTES) return UNPLAIN;
    scratch.copyWithin(start + lengthBytes - 1, start, end);
  }
  writeVarint(length, pos);
  return end + lengthBytes - 1;
}

function writeString(value: string, pos: number): number {
  // A string of under 43 UTF-16 units is under 128 UTF-8 bytes: its length fits one byte.
  if (value.length < 43) {
    if (pos + 1 + value.length * 3 > SCRATCH_BYTES) return UNPLAIN;
    const written = scratch.utf8Write(value, pos + 1);
    // More bytes than units: not ASCII, and a lone surrogate is protobuf-es' to refuse or replace.
    if (written !== value.length && !value.isWellFormed()) return UNPLAIN;
    scratch[pos] = written;
    return pos + 1 + written;
  }
  const length = Buffer.byteLength(value, "utf8");
  if (pos + 5 + length > SCRATCH_BYTES) return UNPLAIN;
  if (length !== value.length && !value.isWellFormed()) return UNPLAIN;
  pos = writeVarint(length, pos);
  return pos + scratch.utf8Write(value, pos);
}

/** writeVarint writes a non-negative 32-bit number. */
function writeVarint(value: number, pos: number): number {
  while (value > 0x7f) {
    scratch[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  scratch[pos++] = value;
  return pos;
}

/** writeNegative writes a negative int32 as protobuf does: sign-extended to 64 bits, ten bytes. */
function writeNegative(value: number, pos: number): number {
  let low = value >>> 0;
  for (let i = 0; i < 4; i++) {
    scratch[pos++] = (low & 0x7f) | 0x80;
    low >>>= 7;
  }
  scratch[pos++] = (low & 0x0f) | 0x70 | 0x80; // bits 28–31, then ones
  for (let i = 0; i < 4; i++) scratch[pos++] = 0xff;
  scratch[pos++] = 0x01;
  return pos;
}

const varintSize = (value: number) => (value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5);

// ---- decoding -------------------------------------------------------------------------------

// Node's Buffer methods, on a plain Uint8Array: a string without a Buffer or a subarray made for it.
type Slice = (this: Uint8Array, start: number, end: number) => string;
const { utf8Slice, latin1Slice } = Buffer.prototype as unknown as { utf8Slice: Slice; latin1Slice: Slice };

/** Thrown inside the decoder when the input is not plain; decodeBinary then asks protobuf-es. */
const NOT_PLAIN = Symbol("not plain");

/** decodeBinary is fromBinary(desc, bytes). */
export function decodeBinary<Desc extends DescMessage>(desc: Desc, bytes: Uint8Array): MessageShape<Desc> {
  const plan = planOf(desc);
  if (plan) {
    try {
      return readMessage(plan, bytes, 0, bytes.length) as MessageShape<Desc>;
    } catch (error) {
      if (error !== NOT_PLAIN) throw error;
    }
  }
  return fromBinary(desc, bytes);
}

// The reader's position, shared by the functions below (decoding is synchronous).
let at = 0;

function readMessage(plan: Plan, bytes: Uint8Array, start: number, end: number): Plain {
  const message: Plain = { ...plan.blank };
  for (const name of plan.lists) message[name] = [];
  at = start;
  while (at < end) {
    const tag = readVarint(bytes, end);
    const field = plan.byNumber[tag >>> 3];
    if (!field || field.tag !== tag) throw NOT_PLAIN; // unknown fields and unexpected wire types
    switch (field.kind) {
      case "string": {
        const length = readVarint(bytes, end);
        const from = at;
        at += length;
        if (at > end) throw NOT_PLAIN;
        message[field.localName] = readString(bytes, from, at);
        break;
      }
      case "bool":
        message[field.localName] = readBool(bytes, end);
        break;
      case "int32":
        message[field.localName] = readVarint(bytes, end) | 0;
        break;
      case "uint32":
        message[field.localName] = readVarint(bytes, end) >>> 0;
        break;
      case "message":
      case "list": {
        if (field.kind === "message" && message[field.localName] !== undefined) throw NOT_PLAIN; // merged by protobuf-es
        const length = readVarint(bytes, end);
        const from = at;
        const to = from + length;
        if (to > end) throw NOT_PLAIN;
        const nested = readMessage(field.message!, bytes, from, to);
        at = to;
        if (field.kind === "list") (message[field.localName] as Plain[]).push(nested);
        else message[field.localName] = nested;
        break;
      }
    }
  }
  if (at !== end) throw NOT_PLAIN;
  return message;
}

/** readVarint reads a varint's low 32 bits (as protobuf does for 32-bit fields) at `at`. */
function readVarint(bytes: Uint8Array, end: number): number {
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (at >= end) throw NOT_PLAIN;
    const byte = bytes[at++]!;
    if (shift < 32) value |= (byte & 0x7f) << shift;
    if (byte < 0x80) return value >>> 0;
  }
  throw NOT_PLAIN; // over ten bytes
}

/** readBool reads a varint as protobuf's bool does: true when any of its 64 bits is set. */
function readBool(bytes: Uint8Array, end: number): boolean {
  let set = false;
  for (let i = 0; i < 10; i++) {
    if (at >= end) throw NOT_PLAIN;
    const byte = bytes[at++]!;
    if ((byte & 0x7f) !== 0) set = true;
    if (byte < 0x80) return set;
  }
  throw NOT_PLAIN;
}

/** readString decodes UTF-8, refusing invalid bytes as protobuf-es does for proto3 strings. */
function readString(bytes: Uint8Array, from: number, to: number): string {
  for (let i = from; i < to; i++) {
    if (bytes[i]! > 0x7f) {
      if (!isUtf8(bytes.subarray(from, to))) throw NOT_PLAIN;
      return utf8Slice.call(bytes, from, to);
    }
  }
  return latin1Slice.call(bytes, from, to);
}

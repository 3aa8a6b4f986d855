// Loads the agent contract at run time (server and client share it). The proto directory is
// found relative to this module, which sits at the same depth in src/ and dist/, so the same
// code works from sources (tests, dev) and from the build.

import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../gen/agent.js';

export const PROTO_DIR = fileURLToPath(new URL('../../../../proto', import.meta.url));
export const PROTO_FILE = 'seconet/agent/v1/agent.proto';
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true };

let cached: ProtoGrpcType | undefined;

export function loadAgentProto(): ProtoGrpcType {
  if (cached === undefined) {
    const def = protoLoader.loadSync(PROTO_FILE, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    cached = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return cached;
}

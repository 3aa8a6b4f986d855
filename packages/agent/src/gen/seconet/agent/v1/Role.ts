// Original file: proto/seconet/agent/v1/agent.proto

export const Role = {
  ROLE_UNSPECIFIED: 'ROLE_UNSPECIFIED',
  ROLE_SINK: 'ROLE_SINK',
  ROLE_SOURCE: 'ROLE_SOURCE',
} as const;

export type Role =
  | 'ROLE_UNSPECIFIED'
  | 0
  | 'ROLE_SINK'
  | 1
  | 'ROLE_SOURCE'
  | 2

export type Role__Output = typeof Role[keyof typeof Role]

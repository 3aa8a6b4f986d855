// Original file: proto/seconet/agent/v1/agent.proto

export const Variant = {
  /**
   * in requests: the agent picks, kernel first
   */
  VARIANT_UNSPECIFIED: 'VARIANT_UNSPECIFIED',
  VARIANT_KERNEL: 'VARIANT_KERNEL',
  VARIANT_USERSPACE: 'VARIANT_USERSPACE',
} as const;

export type Variant =
  /**
   * in requests: the agent picks, kernel first
   */
  | 'VARIANT_UNSPECIFIED'
  | 0
  | 'VARIANT_KERNEL'
  | 1
  | 'VARIANT_USERSPACE'
  | 2

export type Variant__Output = typeof Variant[keyof typeof Variant]

// The `video` workload's traffic model: each of N TCP streams plays one video whose length and
// size are drawn from YouTube-like distributions, seeded so a run is reproducible.
//
// Source of the shapes: Abhari & Soraya, "Workload generation for YouTube", Multimedia Tools
// and Applications 46 (2010) 91-118, which characterises YouTube video lengths and sizes with
// heavy-tailed fits (gamma for length, lognormal for size). The numeric parameters below are
// ours, chosen so that the medians and tails resemble the paper's figures; they are listed in
// docs/workloads.md and are the only ones the code uses:
//   length L ~ Gamma(shape 1.8, scale 110 s)          mean 198 s
//   size   S ~ LogNormal(mu 2.4, sigma 0.9) MiB      median 11 MiB
// Each stream's bit rate is c * S / L, with c chosen analytically so that the expected rate is
// `gbPerHour` GB per hour per stream (3 GB/h = 6.67 Mbit/s by default): E[S/L] = E[S] E[1/L]
// for independent draws, E[S] = exp(mu + sigma^2/2), E[1/L] = 1 / (scale (shape - 1)).

export const VIDEO_MODEL = {
  lengthShape: 1.8,
  lengthScaleS: 110,
  sizeMu: 2.4,
  sizeSigma: 0.9,
  sizeUnitBytes: 2 ** 20,
} as const;

/** splitmix64-seeded xoshiro128**: small, fast, and the same sequence on every platform. */
export class SeededRandom {
  private s: Uint32Array;

  constructor(seed: number | bigint) {
    let x = BigInt.asUintN(64, BigInt(seed));
    const next = (): bigint => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return z ^ (z >> 31n);
    };
    const a = next();
    const b = next();
    this.s = new Uint32Array([Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n)]);
  }

  /** Uniform in [0, 1). */
  next(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r / 2 ** 32;
  }

  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Marsaglia-Tsang, shape >= 1. */
  gamma(shape: number, scale: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  lognormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface VideoStream {
  readonly lengthS: number;
  readonly sizeBytes: number;
  /** Scaled bit rate of the stream. */
  readonly bitsPerSecond: number;
}

/** The scale factor c that makes E[c S / L] equal to `gbPerHour` (decimal GB) per hour. */
export function videoRateScale(gbPerHour: number): number {
  const m = VIDEO_MODEL;
  const meanSize = Math.exp(m.sizeMu + (m.sizeSigma * m.sizeSigma) / 2) * m.sizeUnitBytes;
  const meanInvLength = 1 / (m.lengthScaleS * (m.lengthShape - 1));
  const meanRate = meanSize * 8 * meanInvLength;
  return (gbPerHour * 1e9 * 8) / 3600 / meanRate;
}

export function drawVideoStreams(count: number, seed: number | bigint, gbPerHour: number): VideoStream[] {
  const rnd = new SeededRandom(seed);
  const c = videoRateScale(gbPerHour);
  const m = VIDEO_MODEL;
  return Array.from({ length: count }, () => {
    const lengthS = Math.max(1, rnd.gamma(m.lengthShape, m.lengthScaleS));
    const sizeBytes = rnd.lognormal(m.sizeMu, m.sizeSigma) * m.sizeUnitBytes;
    return { lengthS, sizeBytes, bitsPerSecond: (c * sizeBytes * 8) / lengthS };
  });
}

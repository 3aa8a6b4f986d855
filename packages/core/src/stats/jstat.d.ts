// The part of jStat (no published types) that stats/ uses.
declare module 'jstat' {
  interface JStat {
    studentt: { inv(p: number, dof: number): number; cdf(x: number, dof: number): number };
    binomial: { cdf(k: number, n: number, p: number): number };
    normal: { inv(p: number, mean: number, sd: number): number };
  }
  const jStat: JStat;
  export default jStat;
}

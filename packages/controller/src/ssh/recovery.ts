// Recovery of an agent that stopped answering: restart it over SSH (when the operator configured
// how) and collect its last log lines, so the run's error says what happened on the host.

import { shQuote, type SshSession } from './session.js';

export interface RecoveryConfig {
  /** argv that restarts the agent, e.g. ["systemctl", "restart", "seconet-agent"]. */
  readonly restartCommand: readonly string[];
  /** The agent's log file, or ["journalctl", ...] argv to read it. */
  readonly logFile?: string | undefined;
  readonly logLines?: number | undefined;
}

export interface RecoveryResult {
  readonly restarted: boolean;
  readonly exitCode: number | null;
  readonly output: string;
  readonly logTail: string;
}

export async function restartAgentOverSsh(session: SshSession, cfg: RecoveryConfig): Promise<RecoveryResult> {
  const lines = Math.max(1, Math.min(cfg.logLines ?? 50, 1000));
  const logTail = cfg.logFile ? (await session.exec(`tail -n ${lines} ${shQuote(cfg.logFile)}`, { timeoutMs: 15_000 })).stdout : '';
  const r = await session.exec(cfg.restartCommand.map(shQuote).join(' '), { timeoutMs: 60_000 });
  return { restarted: r.code === 0, exitCode: r.code, output: (r.stdout + r.stderr).slice(-4000), logTail };
}

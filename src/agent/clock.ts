import { performance } from 'node:perf_hooks';

/** Where the agent's time comes from; injectable so tests can jump the wall clock. */
export interface ClockSource {
  /** A clock that never jumps (ms, arbitrary origin). */
  monotonicMs(): number;
  /** The wall clock (epoch ms); may jump when NTP or an operator sets it. */
  wallMs(): number;
}

export const systemClock: ClockSource = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};

/**
 * Billing time for the agent: the wall clock read once at start, advanced by the monotonic
 * clock after that (times `speed` for a simulation). A wall-clock jump while the agent runs
 * neither creates nor erases billable time; it only shows in the next start's anchor.
 */
export class AgentClock {
  private readonly wallAnchor: number;
  private readonly monoAnchor: number;

  constructor(
    private readonly source: ClockSource = systemClock,
    readonly speed = 1,
    startWallMs?: number,
  ) {
    this.wallAnchor = Math.floor(startWallMs ?? source.wallMs());
    this.monoAnchor = source.monotonicMs();
  }

  /** Integer epoch ms. */
  nowMs(): number {
    return this.wallAnchor + Math.floor((this.source.monotonicMs() - this.monoAnchor) * this.speed);
  }

  /** How far the wall clock has drifted from billing time (for a warning, never for billing). */
  wallSkewMs(): number {
    return this.source.wallMs() - this.nowMs();
  }
}

import { Injectable } from '@nestjs/common';

/**
 * In-process news that usage was stored, by workspace: metering tells, budgets listen (to
 * evaluate alerts as usage lands, not on a slow schedule). A signal, not a queue: a listener
 * that misses one catches up on its own full sweep.
 */
@Injectable()
export class UsageStoredSignal {
  private readonly listeners: Array<(workspaceIds: ReadonlySet<string>) => void> = [];

  listen(listener: (workspaceIds: ReadonlySet<string>) => void): void {
    this.listeners.push(listener);
  }

  stored(workspaceIds: ReadonlySet<string>): void {
    if (workspaceIds.size === 0) return;
    for (const l of this.listeners) l(workspaceIds);
  }
}

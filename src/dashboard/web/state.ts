import type { Schemas } from '../../api-client/client';

/** The day × GPU type table's figures, which the chart draws from. */
export interface Pivot {
  types: string[];
  cells: Map<string, Schemas['UsageRowResponse']>;
}

/** What is on screen: the workspace, the current month, the month shown and its usage. */
export interface Shown {
  current: string;
  period: string;
  workspace: string;
  usage: Schemas['UsageResponse'];
  pivot?: Pivot;
}

export const state: {
  shown: Shown | null;
  /** Which measure the chart stacks. */
  measure: 'amount' | 'gpu_seconds';
  /** Each load gets a number; an answer for an older load (the month changed since) is dropped. */
  loadNumber: number;
} = { shown: null, measure: 'amount', loadNumber: 0 };

/** Payloads of the workspace billing events (subject: the workspace); their names are in BillingEventPayloads. */
export interface WorkspaceCreatedData {
  id: string;
  name: string;
  email: string;
  api_key_hash: string;
  api_key_prefix: string;
  plan?: string; // absent in events from before plans: the default plan
}

export interface WorkspacePlanChangedData {
  plan: string;
  effective_from: string;
}

export interface WorkspaceBudgetSetData {
  monthly_limit: string | null; // null: the budget is removed
  thresholds: number[];
  enforce?: boolean; // a hard cap (absent in events from before caps: not enforced)
}

/**
 * A workspace's own billing threshold (src/invoicing/README.md, threshold invoices):
 * `follows_plan` true puts it back on its plan's; else `billing_threshold` (null: none at all).
 */
export interface WorkspaceBillingThresholdSetData {
  billing_threshold: string | null;
  follows_plan: boolean;
}

"""Lets localstripe 1.15.10 create a one-off invoice from a customer's pending invoice items.

Real Stripe does this (POST /v1/invoices with pending_invoice_items_behavior=include);
localstripe only invoices subscriptions and answers 404 "No upcoming invoices for customer".
gpumeter invoices pay-per-use usage without subscriptions, so the local stack patches that one
branch (and keeps the invoice's metadata, which localstripe drops on that path). Idempotent.
Nothing else of localstripe changes: it still ignores Idempotency-Key and has no finalize route.
"""
import sys
from pathlib import Path

path = Path(sys.argv[1])
text = path.read_text()
MARK = "# gpumeter: one-off invoices from pending items"
if MARK in text:
    sys.exit(0)
anchor = "        if not simulation and not current_subscription:\n"
if text.count(anchor) != 1:
    sys.exit("localstripe source is not the expected 1.15.10: cannot apply the one-off invoice patch")
patch = (
    f"        {MARK}\n"
    "        if not simulation and not current_subscription and pending_items \\\n"
    "                and not upcoming:\n"
    "            return cls(customer=customer, items=[], tax_percent=tax_percent,\n"
    "                       default_tax_rates=default_tax_rates, date=date,\n"
    "                       description=description, metadata=metadata)\n"
)
path.write_text(text.replace(anchor, patch + anchor))
print("patched")

"""Patches localstripe 1.15.10 where the local stack needs it. Idempotent; prints "patched"
when it changed the file (stack.sh then restarts a running localstripe).

1. One-off invoices from pending items. Real Stripe creates an invoice from a customer's
   pending invoice items (POST /v1/invoices with pending_invoice_items_behavior=include);
   localstripe only invoices subscriptions and answers 404 "No upcoming invoices for
   customer". gpumeter invoices pay-per-use usage without subscriptions, so that branch is
   added (keeping the invoice's metadata, which localstripe drops on that path).
2. Its state file. localstripe pickles its whole store to /tmp/localstripe.pickle after every
   write, in place: a stop in the middle of a write leaves a truncated file and the next
   start crashes. The dump is made atomic (temporary file, then rename) and an unreadable
   file is set aside instead of stopping start-up.

Nothing else changes: it still ignores Idempotency-Key and has no finalize route.
"""
import sys
from pathlib import Path

PATCHES = [
    (
        "# gpumeter: one-off invoices from pending items",
        "        if not simulation and not current_subscription:\n",
        "        # gpumeter: one-off invoices from pending items\n"
        "        if not simulation and not current_subscription and pending_items \\\n"
        "                and not upcoming:\n"
        "            return cls(customer=customer, items=[], tax_percent=tax_percent,\n"
        "                       default_tax_rates=default_tax_rates, date=date,\n"
        "                       description=description, metadata=metadata)\n"
        "        if not simulation and not current_subscription:\n",
    ),
    (
        "# gpumeter: atomic state file",
        "        with open('/tmp/localstripe.pickle', 'wb') as f:\n"
        "            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)\n",
        "        # gpumeter: atomic state file\n"
        "        import os\n"
        "        tmp = '/tmp/localstripe.pickle.%d' % os.getpid()\n"
        "        with open(tmp, 'wb') as f:\n"
        "            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)\n"
        "        os.replace(tmp, '/tmp/localstripe.pickle')\n",
    ),
    (
        "# gpumeter: unreadable state file set aside",
        "        except FileNotFoundError:\n            pass\n",
        "        except FileNotFoundError:\n            pass\n"
        "        except Exception:  # gpumeter: unreadable state file set aside\n"
        "            import os\n"
        "            os.replace('/tmp/localstripe.pickle', '/tmp/localstripe.pickle.unreadable')\n"
        "            self.clear()\n",
    ),
]

path = Path(sys.argv[1])
text = path.read_text()
changed = False
for mark, anchor, replacement in PATCHES:
    if mark in text:
        continue
    if text.count(anchor) != 1:
        sys.exit(f"localstripe source is not the expected 1.15.10: cannot apply '{mark}'")
    text = text.replace(anchor, replacement)
    changed = True
if changed:
    path.write_text(text)
    print("patched")

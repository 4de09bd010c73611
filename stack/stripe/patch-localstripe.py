"""Patches a freshly installed localstripe 1.15.10 where the local stack needs it.

stack.sh reinstalls localstripe (pip --force-reinstall --no-deps) before running this whenever
this file or localstripe-requirements.txt changes, so the patches always apply to pristine
sources; a source that is not the expected one stops the stack with the patch's name.

1. One-off invoices from pending items. Real Stripe creates an invoice from a customer's
   pending invoice items (POST /v1/invoices with pending_invoice_items_behavior=include);
   localstripe only invoices subscriptions and answers 404 "No upcoming invoices for
   customer". gpumeter invoices pay-per-use usage without subscriptions, so that branch is
   added (keeping the invoice's metadata, which localstripe drops on that path).
2. Its state file. localstripe pickles its whole store to /tmp/localstripe.pickle after every
   write, in place: a stop in the middle of a write leaves a truncated file and the next
   start crashes. The path comes from LOCALSTRIPE_STATE_FILE (stack.sh keeps it in the
   stack's own folder, so one checkout never loads another's, or an older version's, state),
   the dump is atomic (temporary file, then rename) and an unreadable file is set aside
   instead of stopping start-up. It re-pickled the whole store after every write — each
   Stripe call grew slower as a test run's state grew (seconds per invoice late in a full
   run) — so the dump now runs at most once a second on the event loop, and at exit.
3. Its listener. localstripe binds one IPv6 socket on '::' and relies on the host mapping
   IPv4 onto it; with net.ipv6.bindv6only=1 it never answers on 127.0.0.1, and without IPv6
   it cannot start. Dual-stack is asked for explicitly, with an IPv4 socket as the fallback.

4. The invoice lifecycle as Stripe runs it (issue 24), so gpumeter's code runs against it
   unchanged and its whole path — push, finalize, paid or failed, each webhook — is tested with
   state:
   - invoice items take `period` ({start, end}), as Stripe's API does (it took only the
     legacy period_start/period_end);
   - `POST /v1/invoices/{id}/finalize`: a draft becomes open (`invoice.finalized`); one of
     nothing due is paid at once, as Stripe does;
   - a payment sends `invoice.paid` beside `invoice.payment_succeeded`, as Stripe does;
   - `POST /v1/invoices/{id}/pay` with a card that declines sends `invoice.payment_failed` and
     answers 402 card_declined, as Stripe's does (it swallowed the failure: no event at all).

Nothing else changes: it still ignores Idempotency-Key.
"""
import sys
from pathlib import Path

STATE_FILE = "os.environ.get('LOCALSTRIPE_STATE_FILE', '/tmp/localstripe.pickle')"

PATCHES = {
    "resources.py": [
        (
            "invoice items take period {start, end}",
            "                 tax_rates=[], metadata=None, **kwargs):\n"
            "        if kwargs:\n"
            "            raise UserError(400, 'Unexpected ' + ', '.join(kwargs.keys()))\n"
            "\n"
            "        amount = try_convert_to_int(amount)\n"
            "        period_start = try_convert_to_int(period_start)\n",
            "                 tax_rates=[], metadata=None, **kwargs):\n"
            "        # gpumeter: Stripe's period {start, end}\n"
            "        period = kwargs.pop('period', None)\n"
            "        if kwargs:\n"
            "            raise UserError(400, 'Unexpected ' + ', '.join(kwargs.keys()))\n"
            "        if period is not None:\n"
            "            if type(period) is not dict or set(period) != {'start', 'end'} \\\n"
            "                    or period_start is not None or period_end is not None:\n"
            "                raise UserError(400, 'Bad request')\n"
            "            period_start, period_end = period['start'], period['end']\n"
            "\n"
            "        amount = try_convert_to_int(amount)\n"
            "        period_start = try_convert_to_int(period_start)\n",
        ),
        (
            "a payment sends invoice.paid too",
            "        self.status_transitions['paid_at'] = int(time.time())\n"
            "        schedule_webhook(Event('invoice.payment_succeeded', self))\n",
            "        self.status_transitions['paid_at'] = int(time.time())\n"
            "        # gpumeter: Stripe sends invoice.paid beside invoice.payment_succeeded\n"
            "        schedule_webhook(Event('invoice.paid', self))\n"
            "        schedule_webhook(Event('invoice.payment_succeeded', self))\n",
        ),
        (
            "a declined payment of an invoice is reported",
            "            obj.payment_intent = pi.id\n"
            "            pi.invoice = obj.id\n"
            "            pi._confirm(on_failure_now=lambda: None)\n",
            "            obj.payment_intent = pi.id\n"
            "            pi.invoice = obj.id\n"
            "            # gpumeter: a decline sends invoice.payment_failed and answers 402\n"
            "            pi._confirm(on_failure_now=pi._report_failure)\n",
        ),
        (
            "POST /v1/invoices/{id}/finalize",
            "    ('POST', '/v1/invoices/{id}/pay', Invoice._api_pay_invoice),\n",
            "    ('POST', '/v1/invoices/{id}/pay', Invoice._api_pay_invoice),\n"
            "    ('POST', '/v1/invoices/{id}/finalize', Invoice._gpumeter_finalize),\n",
        ),
        (
            "Invoice._gpumeter_finalize",
            "    @classmethod\n"
            "    def _api_pay_invoice(cls, id):\n",
            "    @classmethod\n"
            "    def _gpumeter_finalize(cls, id, auto_advance=None, **kwargs):\n"
            "        # gpumeter: Stripe's finalize — a draft becomes open; nothing due is paid at once\n"
            "        if kwargs:\n"
            "            raise UserError(400, 'Unexpected ' + ', '.join(kwargs.keys()))\n"
            "        obj = Invoice._api_retrieve(id)\n"
            "        if obj.status != 'draft':\n"
            "            raise UserError(400, 'This invoice is already finalized')\n"
            "        obj._finalize()\n"
            "        schedule_webhook(Event('invoice.finalized', obj))\n"
            "        if obj.total <= 0:\n"
            "            obj._on_payment_success()\n"
            "        return obj\n"
            "\n"
            "    @classmethod\n"
            "    def _api_pay_invoice(cls, id):\n",
        ),
        (
            "one-off invoices from pending items",
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
            "state file read from LOCALSTRIPE_STATE_FILE, unreadable one set aside",
            "        try:\n"
            "            with open('/tmp/localstripe.pickle', 'rb') as f:\n"
            "                old = pickle.load(f)\n"
            "                self.clear()\n"
            "                self.update(old)\n"
            "        except FileNotFoundError:\n"
            "            pass\n",
            "        # gpumeter: state file from LOCALSTRIPE_STATE_FILE, unreadable one set aside\n"
            "        import os\n"
            f"        path = {STATE_FILE}\n"
            "        try:\n"
            "            with open(path, 'rb') as f:\n"
            "                old = pickle.load(f)\n"
            "                self.clear()\n"
            "                self.update(old)\n"
            "        except FileNotFoundError:\n"
            "            pass\n"
            "        except Exception:\n"
            "            os.replace(path, path + '.unreadable')\n"
            "            self.clear()\n",
        ),
        (
            "state file written atomically to LOCALSTRIPE_STATE_FILE",
            "        with open('/tmp/localstripe.pickle', 'wb') as f:\n"
            "            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)\n",
            "        # gpumeter: state file written atomically to LOCALSTRIPE_STATE_FILE, at most\n"
            "        # once a second on the event loop (and at exit): every write re-pickled the\n"
            "        # whole store, slower and slower as a test run's state grows\n"
            "        import asyncio, atexit, os\n"
            "        def flush():\n"
            "            globals()['_gpumeter_flush_pending'] = False\n"
            f"            path = {STATE_FILE}\n"
            "            tmp = '%s.%d' % (path, os.getpid())\n"
            "            with open(tmp, 'wb') as f:\n"
            "                pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)\n"
            "            os.replace(tmp, path)\n"
            "        if not globals().get('_gpumeter_atexit'):\n"
            "            globals()['_gpumeter_atexit'] = True\n"
            "            atexit.register(flush)\n"
            "        try:\n"
            "            loop = asyncio.get_running_loop()\n"
            "        except RuntimeError:\n"
            "            flush()\n"
            "            return\n"
            "        if not globals().get('_gpumeter_flush_pending'):\n"
            "            globals()['_gpumeter_flush_pending'] = True\n"
            "            loop.call_later(1.0, flush)\n",
        ),
    ],
    "server.py": [
        (
            "listener reachable on 127.0.0.1",
            "    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
            "    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "    sock.bind(('::', args.port))\n",
            "    # gpumeter: dual-stack asked for explicitly, IPv4 when there is no IPv6\n"
            "    try:\n"
            "        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
            "        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
            "        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "        sock.bind(('::', args.port))\n"
            "    except OSError:\n"
            "        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
            "        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "        sock.bind(('127.0.0.1', args.port))\n",
        ),
    ],
}

package = Path(sys.argv[1])
for name, patches in PATCHES.items():
    path = package / name
    text = path.read_text()
    for what, anchor, replacement in patches:
        if text.count(anchor) != 1:
            sys.exit(f"{path} is not localstripe 1.15.10 as expected: cannot patch '{what}'")
        text = text.replace(anchor, replacement)
    path.write_text(text)

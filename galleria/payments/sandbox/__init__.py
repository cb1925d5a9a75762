"""A protocol-faithful local payment gateway — WeChat Pay API v3 and Alipay — run as a separate process.

    python -m galleria.payments.sandbox keys --out var/sandbox/keys.json
    python -m galleria.payments.sandbox serve --port 8765 --keys var/sandbox/keys.json [--state var/sandbox/state.json]
                                            [--time-scale 1.0] [--share-max-bp 3000] [--host 127.0.0.1] [--base-url …]

It prints `SANDBOX LISTENING http://127.0.0.1:<port>` on stdout once ready. It speaks the real wire formats with the
locally generated keys (signatures, AES-256-GCM resources, RSA2), so Galleria's adapters talk to it through the very
code paths they use against the real gateways; only the base URL and the keys differ. It serves the member-facing
cashier pages, delivers notifications asynchronously with the real retry schedules (× `--time-scale`; 0 = only on
`POST /sandbox/control/deliver-due`), builds daily bills from what it recorded, and has control endpoints for tests
and the demo. It imports no Django: it is the other party, not part of Galleria. Documentation: docs/payments.md.
"""

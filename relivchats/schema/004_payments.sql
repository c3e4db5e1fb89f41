-- Read model: projections/payments.py. One row per payment order, holding the order's whole
-- folded state, so the projection advances it with the domain's own `evolve` and the status
-- endpoint and the ledger's references read it without replaying events.
CREATE TABLE payment_orders (
    order_id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    version integer NOT NULL,
    package_id text NOT NULL,
    coins integer NOT NULL,
    provider text NOT NULL,
    provider_order_id text NOT NULL,
    amount_minor integer NOT NULL,
    currency text NOT NULL,
    request_fingerprint text NOT NULL,
    status text NOT NULL,
    provider_payment_id text,
    flagged boolean NOT NULL,
    failure_reason text,
    total_refunded_minor integer NOT NULL,
    disputed boolean NOT NULL,
    coins_granted integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    position bigint NOT NULL
);

CREATE INDEX payment_orders_by_user ON payment_orders (user_id, created_at DESC);
CREATE UNIQUE INDEX payment_orders_by_provider_order ON payment_orders (provider, provider_order_id);

-- Read model: projections/ledger.py (the coin ledger), plus the catalogue's reference data.
-- No serial columns: keys come from events, so a blue-green rebuild can swap these tables.

-- One row per credit account: what GET /api/credits/balance answers, in one index lookup.
CREATE TABLE credit_balances (
    account_id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    balance bigint NOT NULL,
    held bigint NOT NULL,
    available bigint NOT NULL,
    flagged boolean NOT NULL,
    version bigint NOT NULL,          -- = number of ledger entries (one per event)
    opened_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,  -- time of the newest event, never now()
    position bigint NOT NULL
);

-- One row per ledger entry (one per event), newest first by (account_id, version DESC).
CREATE TABLE credit_transactions (
    account_id uuid NOT NULL,
    version bigint NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    amount bigint NOT NULL,           -- signed change to the balance
    held_change bigint NOT NULL,
    balance_after bigint NOT NULL,
    held_after bigint NOT NULL,
    available_after bigint NOT NULL,
    reference_id uuid,                -- order, reservation or adjustment id
    job_id uuid,
    description text NOT NULL,
    occurred_at timestamptz NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (account_id, version)
);

-- Every reservation and how it ended; the sweeper finds expired open ones here.
CREATE TABLE credit_reservations (
    account_id uuid NOT NULL,
    reservation_id uuid NOT NULL,
    user_id uuid NOT NULL,
    job_id uuid NOT NULL,
    amount bigint NOT NULL,
    expires_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'captured', 'released')),
    release_reason text,
    reserved_at timestamptz NOT NULL,
    resolved_at timestamptz,
    position bigint NOT NULL,
    PRIMARY KEY (account_id, reservation_id)
);
CREATE INDEX credit_reservations_open_expiry_idx
    ON credit_reservations (expires_at) WHERE status = 'open';

-- Catalogue (product.md section 2): reference data, not events. Same values as
-- relivchats/domain/packages.py and relivchats/domain/catalogue.py (a test keeps them equal).
CREATE TABLE catalogue_packages (
    package_id text PRIMARY KEY,
    name text NOT NULL,
    coins integer NOT NULL CHECK (coins > 0),
    price_inr_paise integer NOT NULL CHECK (price_inr_paise > 0),
    price_usd_cents integer NOT NULL CHECK (price_usd_cents > 0),
    popular boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    sort_order integer NOT NULL
);
INSERT INTO catalogue_packages
    (package_id, name, coins, price_inr_paise, price_usd_cents, popular, active, sort_order)
VALUES
    ('starter', 'Starter', 400, 39900, 499, false, true, 1),
    ('popular', 'Popular', 850, 79900, 999, true, true, 2),
    ('pro', 'Pro', 1600, 149900, 1799, false, true, 3);

CREATE TABLE catalogue_categories (
    slug text PRIMARY KEY,
    display_name text NOT NULL,
    description text NOT NULL,
    icon text NOT NULL,
    cost_coins integer NOT NULL DEFAULT 400 CHECK (cost_coins > 0),
    chat_size text NOT NULL CHECK (chat_size IN ('exactly_2', '2_or_more')),
    min_participants integer NOT NULL,
    max_participants integer,         -- NULL: no upper bound
    active boolean NOT NULL DEFAULT true,
    sort_order integer NOT NULL
);
INSERT INTO catalogue_categories
    (slug, display_name, description, icon, cost_coins, chat_size, min_participants,
     max_participants, sort_order)
VALUES
    ('romantic', 'Romantic Relationship',
     'How the two of you talk, feel, disagree, plan and play together.',
     '❤️', 400, 'exactly_2', 2, 2, 1),
    ('friendship', 'Friendship',
     'Trust, support and the spark that keeps a friendship going.',
     '🤝', 400, 'exactly_2', 2, 2, 2),
    ('family', 'Family',
     'Roles, warmth and friction in your family''s conversations.',
     '🏡', 400, '2_or_more', 2, NULL, 3),
    ('workplace', 'Workplace',
     'Clarity, collaboration and the health of working relationships.',
     '💼', 400, '2_or_more', 2, NULL, 4);

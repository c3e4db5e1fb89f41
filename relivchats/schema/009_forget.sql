-- Leave and be forgotten (issue 15): per-user data keys, account generations and erasure,
-- and the head of each coin account's hash chain.

-- Per-user data keys (adapters/data_keys.py): not events. A key is wrapped by a key derived
-- from CONTENT_KEY; erasure sets `wrapped_key` to NULL for good (the row stays as a tombstone,
-- so no later write can make the user a new key).
CREATE TABLE user_data_keys (
    user_id uuid PRIMARY KEY,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);

-- Read model users (projections/users.py): every account of a subject, newest generation
-- first; what authentication looks up on each request (api/dependencies.py).
ALTER TABLE users
    ADD COLUMN subject_key uuid,
    ADD COLUMN generation integer NOT NULL DEFAULT 1,
    ADD COLUMN erasure_due_at timestamptz,
    ADD COLUMN erased_at timestamptz;
UPDATE users SET subject_key = user_id, erasure_due_at = deletion_requested_at;
ALTER TABLE users ALTER COLUMN subject_key SET NOT NULL;
CREATE INDEX users_by_subject ON users (subject_key, generation DESC);
CREATE INDEX users_erasure_due ON users (erasure_due_at)
    WHERE erasure_due_at IS NOT NULL AND erased_at IS NULL;

-- The head of each account's hash chain (domain/ledger_chain.py), kept by the ledger projection.
-- Rows projected before this migration hold the genesis value until the ledger is rebuilt:
-- run `relivchats projections rebuild ledger` once after migrating.
ALTER TABLE credit_balances
    ADD COLUMN head_hash text NOT NULL
    DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';

-- A deleted chat waiting for its purge names its owner, so erasing an account finds the
-- content of chats deleted with it (commands/erasure.py). NULL on rows from before 009.
ALTER TABLE chats_pending_purge ADD COLUMN owner_id uuid;
CREATE INDEX chats_pending_purge_by_owner ON chats_pending_purge (owner_id);

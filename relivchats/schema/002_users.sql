-- Read model: projections/users.py. Events hold no personal data: the profile (e-mail, name)
-- comes from the caller's token at request time, so nothing personal is stored here either.
CREATE TABLE users (
    user_id uuid PRIMARY KEY,
    registered_at timestamptz NOT NULL,
    deletion_requested_at timestamptz,
    position bigint NOT NULL
);

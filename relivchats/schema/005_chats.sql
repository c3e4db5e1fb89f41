-- Read model: projections/chats.py. Light metadata only: titles and participant names, never
-- message text or statistics (those quote the chat and live sealed in the content tables).
-- A deleted chat's row is removed at once; `chats_pending_purge` remembers its content until
-- the purge task has erased it.
CREATE TABLE chats (
    chat_id uuid PRIMARY KEY,
    owner_id uuid NOT NULL,
    title text NOT NULL,
    participants text[] NOT NULL,
    is_group boolean NOT NULL,
    me_participant text,
    message_count integer NOT NULL,
    first_message_at timestamp NOT NULL,
    last_message_at timestamp NOT NULL,
    content_id uuid NOT NULL,
    uploaded_at timestamptz NOT NULL,
    uploaded_position bigint NOT NULL,  -- newest-first order and the list's cursor
    indexed_chunks integer,
    indexing_failure text,
    share_token_hash text,
    position bigint NOT NULL
);

CREATE INDEX chats_by_owner ON chats (owner_id, uploaded_position DESC);
CREATE UNIQUE INDEX chats_by_share_token ON chats (share_token_hash)
    WHERE share_token_hash IS NOT NULL;
CREATE INDEX chats_by_content ON chats (content_id);

CREATE TABLE chats_pending_purge (
    chat_id uuid PRIMARY KEY,
    content_id uuid NOT NULL,
    deleted_at timestamptz NOT NULL,
    position bigint NOT NULL
);

-- Content tables: adapters/chat_content.py. Written in one transaction per upload, before the
-- ChatUploaded event that names `content_id`; not read models (a rebuild never touches them).
-- Every body and the statistics are AES-GCM sealed (adapters/crypto.py), bound to the chat.
CREATE TABLE chat_contents (
    content_id uuid PRIMARY KEY,
    chat_id uuid NOT NULL,
    message_count integer NOT NULL,
    statistics bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX chat_contents_by_age ON chat_contents (created_at);

-- No foreign key: COPY of 100k rows would check each one; contents are erased together.
CREATE TABLE chat_messages (
    content_id uuid NOT NULL,
    seq integer NOT NULL,
    sent_at timestamp NOT NULL,  -- the export's naive local time
    sender_index smallint NOT NULL,  -- into chats.participants
    kind smallint NOT NULL,  -- domain/uploads.py MessageKind
    body bytea NOT NULL,
    PRIMARY KEY (content_id, seq)
);

-- Ask your chat (issue 10): conversations' read model and their sealed text.

-- Read model: projections/conversations.py. One row per recorded turn (ids, counts, model,
-- latency and source ranges; never text). A forgotten conversation's rows are deleted, and so
-- are a deleted chat's.
CREATE TABLE rag_turns (
    turn_id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL,
    chat_id uuid NOT NULL,
    user_id uuid NOT NULL,
    content_id uuid NOT NULL,      -- the sealed question and answer in conversation_contents
    status text NOT NULL CHECK (status IN ('asked', 'answered', 'failed')),  -- asked: for a moment
    asked_at timestamptz NOT NULL,
    question_tokens integer NOT NULL,
    model text,
    prompt_tokens integer,
    output_tokens integer,
    thinking_tokens integer,
    latency_ms integer,
    offline boolean,
    confidence text,
    sources jsonb NOT NULL DEFAULT '[]'::jsonb,
    error text,
    position bigint NOT NULL       -- the turn's place in the log: order and the list's cursor
);
CREATE INDEX rag_turns_by_conversation ON rag_turns (chat_id, user_id, position);

-- Content table: adapters/conversation_content.py. The question and answer text of each turn,
-- AES-GCM sealed and bound to the conversation and the turn; written before the events that
-- name it, erased when the conversation is forgotten or its chat deleted. Not a read model.
CREATE TABLE conversation_contents (
    content_id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL,
    chat_id uuid NOT NULL,
    user_id uuid NOT NULL,
    turn_id uuid NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_contents_by_conversation ON conversation_contents (conversation_id);
CREATE INDEX conversation_contents_by_chat ON conversation_contents (chat_id);
CREATE INDEX conversation_contents_by_user ON conversation_contents (user_id);

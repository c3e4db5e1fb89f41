-- Appends no longer take a table lock, so notification ids stop being in commit order. Each row
-- now records its inserting transaction; readers take only rows of settled transactions
-- (transaction_id < pg_snapshot_xmin(pg_current_snapshot())) in (transaction_id, notification_id)
-- order, which never changes behind them.
--
-- Existing rows get transaction id 0, below any real one, so their order (notification id, which
-- was commit order under the table lock) is kept and they all come before any new row. A constant
-- default is stored in the catalogue, so this does not rewrite the table; new rows then take the
-- inserting transaction's id. Upgrade with the writers stopped: migrate, then start the new version.
ALTER TABLE relivchats_events ADD COLUMN transaction_id xid8 NOT NULL DEFAULT '0';
ALTER TABLE relivchats_events ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id();
CREATE UNIQUE INDEX relivchats_events_log_order_idx
    ON relivchats_events (transaction_id, notification_id);

-- A checkpoint becomes the pair. An old checkpoint N covered exactly the events with
-- notification_id <= N, all of which now have transaction id 0: (0, N) covers the same events.
ALTER TABLE projection_positions ADD COLUMN transaction_id xid8 NOT NULL DEFAULT '0';

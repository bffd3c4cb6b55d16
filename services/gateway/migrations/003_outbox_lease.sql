-- The relay claims a batch of due entries with a lease, commits, and sends outside any transaction: an
-- entry whose lease has run out (its gateway died mid-send) is due again.
alter table outbox add column leased_until timestamptz;

-- The claim walks the undelivered entries in id order, so it costs the same however many delivered rows
-- the table holds (002's index, ordered by next_attempt_at, made it walk the primary key past them).
drop index outbox_due;
create index outbox_pending on outbox (id) where delivered_at is null and failed_at is null;

-- The retention finds the oldest delivered entries without reading the rest of the table.
create index outbox_delivered on outbox (delivered_at) where delivered_at is not null;

-- Notification requests for the worker, written in the same transaction as the task change
-- they announce, and delivered by the outbox relay.
create table outbox (
  id              bigserial primary key,
  -- Sent as Idempotency-Key: "<task_id>:<event>". The worker de-duplicates by it.
  idempotency_key text not null unique,
  event           text not null,
  payload         jsonb not null,
  -- The request that wrote the row: the delivery runs, and logs, under it.
  correlation_id  text not null,
  attempts        integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error      text,
  delivered_at    timestamptz,
  -- Set when the worker rejected the request for good (a 4xx other than 408 or 429).
  failed_at       timestamptz,
  created_at      timestamptz not null default now()
);

-- What the relay polls: undelivered rows that are due.
create index outbox_due on outbox (next_attempt_at, id) where delivered_at is null and failed_at is null;

-- One row per accepted notification: the source of truth for its delivery. The Redis stream only
-- says "look at this row now"; anything lost there is found again here (see src/delivery/scheduler.ts).
create table notifications (
  id uuid primary key default gen_random_uuid(),
  -- The caller's key (the gateway sends "<task_id>:<event>"): the same key never makes a second row.
  idempotency_key text not null unique,
  event text not null,
  org_id text not null,
  payload jsonb not null,
  status text not null default 'queued'
    check (status in ('queued', 'delivering', 'delivered', 'failed')),
  -- Webhook calls started so far (a claim counts as one, even if the worker died during it).
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  correlation_id text not null,
  -- queued: when the next attempt is due. delivering: when the claim expires, so a row whose
  -- consumer died mid-call is delivered again. delivered, failed: null.
  next_attempt_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  delivered_at timestamptz
);

-- The sweep for overdue rows reads only unfinished ones.
create index notifications_unfinished_due on notifications (next_attempt_at)
  where status in ('queued', 'delivering');

-- Tasks belong to an organisation; every read and write is scoped by org_id.
create table tasks (
  id             uuid primary key default gen_random_uuid(),
  org_id         text not null,
  created_by     text not null,
  title          text not null check (char_length(title) between 1 and 200),
  description    text check (char_length(description) <= 2000),
  status         text not null default 'open' check (status in ('open', 'completed')),
  -- The request that created the task, for tracing it later.
  correlation_id text not null,
  created_at     timestamptz not null default now(),
  completed_at   timestamptz,
  check ((status = 'completed') = (completed_at is not null))
);

-- Keyset paging of one organisation's tasks, newest first.
create index tasks_org_newest on tasks (org_id, created_at desc, id desc);

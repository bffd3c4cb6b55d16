import type postgres from "postgres";
import { dueEntryIds } from "../../services/gateway/src/outbox/store.js";
import { median } from "../lib/compare.js";
import type { LoadFigures } from "../lib/load.js";

/** How long a round's notifications may take to arrive before the round counts them as outstanding. */
const SETTLE_TIMEOUT_MS = 60_000;
/** Delivered rows pre-loaded for the "aged table" phase: a service after a million deliveries. */
export const AGED_ROWS = 1_000_000;

/** One round of task creation at saturation, and what the outbox made of it. */
export interface OutboxRound {
  /** Tasks committed per second during the round (PostgreSQL's clock). */
  acceptedPerSecond: number;
  /**
   * Notifications the worker accepted per second, over a window as long as the round shifted by
   * the median lag: a relay that keeps up delivers there what was accepted in the round.
   */
  deliveredPerSecond: number;
  /** Task committed → notification accepted by the worker, in ms. */
  lagP50: number;
  lagP99: number;
  /** The round's tasks whose notification had not arrived `SETTLE_TIMEOUT_MS` after it. */
  outstanding: number;
  /** The gateway's own figures for the round. */
  load: LoadFigures;
}

/** What one claim costs: `EXPLAIN (ANALYZE, BUFFERS)` of the relay's claim query. */
export interface ClaimPlan {
  deliveredRows: number;
  index: string | undefined;
  executionMs: number;
  sharedBuffers: number;
}

export interface OutboxPhase {
  rounds: OutboxRound[];
  claim: ClaimPlan;
}

export interface OutboxFigures {
  fresh: OutboxPhase;
  aged: OutboxPhase;
}

/**
 * The outbox relay against the gateway at saturation: `rounds` runs of `createTasks`, each
 * followed by a wait until its notifications have all reached the worker; first on the table as
 * the run left it, then with a million delivered rows pre-loaded. Reads only PostgreSQL's
 * timestamps (tasks.created_at, notifications.created_at), so no clock of this process is in
 * the figures.
 *
 * @example
 * const figures = await measureOutbox(sql, rounds, () => loadTest(url, options), progress);
 */
export async function measureOutbox(
  sql: postgres.Sql,
  rounds: number,
  createTasks: () => Promise<LoadFigures>,
  progress: (line: string) => void,
): Promise<OutboxFigures> {
  const phase = async (name: string): Promise<OutboxPhase> => {
    const measured: OutboxRound[] = [];
    for (let round = 0; round < rounds; round++) {
      measured.push(await measureRound(sql, createTasks));
      const last = measured.at(-1)!;
      progress(
        `  ${name} ${round + 1}/${rounds}: accepted ${Math.round(last.acceptedPerSecond)}/s, delivered ${Math.round(last.deliveredPerSecond)}/s, lag p50 ${last.lagP50.toFixed(1)} ms, p99 ${last.lagP99.toFixed(1)} ms`,
      );
    }
    return { rounds: measured, claim: await explainClaim(sql) };
  };
  const fresh = await phase("fresh table");
  progress(`  pre-loading ${AGED_ROWS.toLocaleString("en-US")} delivered outbox rows`);
  await preloadDelivered(sql, AGED_ROWS);
  const aged = await phase("aged table");
  return { fresh, aged };
}

/** The median of one figure over the rounds, with its spread. */
export function summary(rounds: readonly OutboxRound[], figure: (round: OutboxRound) => number) {
  const values = rounds.map(figure);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

async function measureRound(
  sql: postgres.Sql,
  createTasks: () => Promise<LoadFigures>,
): Promise<OutboxRound> {
  const [start] = await sql<{ at: Date }[]>`select clock_timestamp() as at`;
  const load = await createTasks();
  const [end] = await sql<{ at: Date }[]>`select clock_timestamp() as at`;
  const t0 = start!.at;
  const t1 = end!.at;
  const seconds = (t1.getTime() - t0.getTime()) / 1000;
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  let outstanding = await outstandingIn(sql, t0, t1);
  while (outstanding > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    outstanding = await outstandingIn(sql, t0, t1);
  }
  const [lag] = await sql<{ accepted: number; p50: number; p99: number }[]>`
    select count(*)::int as accepted,
      percentile_cont(0.5) within group (order by extract(epoch from n.created_at - t.created_at) * 1000) as p50,
      percentile_cont(0.99) within group (order by extract(epoch from n.created_at - t.created_at) * 1000) as p99
    from tasks t join notifications n on n.idempotency_key = t.id || ':task.created'
    where t.created_at >= ${t0} and t.created_at < ${t1}`;
  const [accepted] = await sql<{ n: number }[]>`
    select count(*)::int as n from tasks where created_at >= ${t0} and created_at < ${t1}`;
  const shift = `${lag!.p50 ?? 0} milliseconds`;
  const [delivered] = await sql<{ n: number }[]>`
    select count(*)::int as n
    from notifications n join tasks t on n.idempotency_key = t.id || ':task.created'
    where n.created_at >= ${t0}::timestamptz + ${shift}::interval
      and n.created_at < ${t1}::timestamptz + ${shift}::interval`;
  return {
    acceptedPerSecond: accepted!.n / seconds,
    deliveredPerSecond: delivered!.n / seconds,
    lagP50: Number(lag!.p50 ?? NaN),
    lagP99: Number(lag!.p99 ?? NaN),
    outstanding,
    load,
  };
}

async function outstandingIn(sql: postgres.Sql, t0: Date, t1: Date): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from tasks t
    where t.created_at >= ${t0} and t.created_at < ${t1}
      and not exists (select 1 from notifications n where n.idempotency_key = t.id || ':task.created')`;
  return row!.n;
}

/** `n` delivered entries, written by PostgreSQL itself (seconds, not minutes), then vacuumed and analysed as autovacuum would. */
async function preloadDelivered(sql: postgres.Sql, n: number): Promise<void> {
  await sql`
    insert into outbox (idempotency_key, event, payload, correlation_id, attempts, delivered_at, created_at)
    select 'aged-' || i || ':task.created', 'task.created',
      jsonb_build_object('event', 'task.created', 'org_id', 'aged', 'task', jsonb_build_object('id', 'aged-' || i, 'title', 'Aged task', 'status', 'open')),
      'aged-' || i, 1, now() - interval '1 hour', now() - interval '1 hour'
    from generate_series(1, ${n}) as i`;
  await sql`vacuum analyze outbox`;
}

/** EXPLAIN (ANALYZE, BUFFERS) of the relay's claim, in a transaction rolled back: its row locks are not kept. */
async function explainClaim(sql: postgres.Sql): Promise<ClaimPlan> {
  const plan = await sql
    .begin(async (tx) => {
      const [row] = await tx<{ "QUERY PLAN": [{ Plan: PlanNode; "Execution Time": number }] }[]>`
        explain (analyze, buffers, format json) ${dueEntryIds(tx, 32)}`;
      throw new Rollback(row!["QUERY PLAN"][0]);
    })
    .catch((caught: unknown) => {
      if (caught instanceof Rollback) return caught.plan;
      throw caught;
    });
  const [count] = await sql<
    { n: number }[]
  >`select count(*)::int as n from outbox where delivered_at is not null`;
  return {
    deliveredRows: count!.n,
    index: indexOf(plan.Plan),
    executionMs: plan["Execution Time"],
    sharedBuffers: plan.Plan["Shared Hit Blocks"] + plan.Plan["Shared Read Blocks"],
  };
}

interface PlanNode {
  "Index Name"?: string;
  "Shared Hit Blocks": number;
  "Shared Read Blocks": number;
  Plans?: PlanNode[];
}

function indexOf(node: PlanNode): string | undefined {
  return node["Index Name"] ?? node.Plans?.map(indexOf).find((name) => name !== undefined);
}

/** Thrown to roll the EXPLAIN's transaction back, carrying its plan out. */
class Rollback extends Error {
  constructor(readonly plan: { Plan: PlanNode; "Execution Time": number }) {
    super("rolled back");
  }
}

import type { Reporter, TestCase, TestModule } from "vitest/node";

/**
 * Ends the run with one plain line, `Tests: N passed, N failed, N skipped`, that any CI can read
 * without knowing vitest's own summary format. A test that never ran because a hook of its suite
 * or file failed (a `beforeAll` that threw) counts as failed, not skipped.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "skipped" && underFailedHook(test)) count.failed += 1;
        else if (state === "passed" || state === "failed" || state === "skipped") count[state] += 1;
      }
    }
    process.stdout.write(
      `\nTests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`,
    );
  }
}

function underFailedHook(test: TestCase): boolean {
  for (let parent = test.parent; ; parent = parent.parent) {
    if (parent.state() === "failed" && parent.errors().length > 0) return true;
    if (parent.type === "module") return false;
  }
}

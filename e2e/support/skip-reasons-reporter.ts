// Prints one line for each skipped test with the reason it gave, so a skipped project
// (Electron, where no binary exists) says why instead of passing in silence.
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SkipReasonsReporter implements Reporter {
  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') return;
    const reason =
      test.annotations.find((a) => a.type === 'skip')?.description ?? 'no reason given';
    console.log(`skipped: ${test.titlePath().filter(Boolean).join(' › ')}: ${reason}`);
  }

  printsToStdio(): boolean {
    return true;
  }
}

import { describe, expect, it } from '@jest/globals';
import { demoteHeadings, replaceSection, scenarioFiles, sectionOf } from './routing.ts';

describe('bench/routing', () => {
  it('finds the scenario files by name, in feature order, and nothing else', () => {
    expect(scenarioFiles(['routing.ts', 'routing-hedge.ts', 'routing.test.ts', 'routing-affinity.ts', 'routing-hedge.test.ts', 'surfaces.ts', 'routing-retry-budget.ts'])).toEqual([
      { feature: 'affinity', file: 'routing-affinity.ts' },
      { feature: 'hedge', file: 'routing-hedge.ts' },
      { feature: 'retry-budget', file: 'routing-retry-budget.ts' },
    ]);
  });

  it('puts its section into RESULTS.md once: appended the first time, replaced in place after', () => {
    const h = '## Routing features (node bench/routing.ts)';
    const first = replaceSection('# Results\n\n## Before\n\nx\n', h, `${h}\n\none\n`);
    expect(first).toBe(`# Results\n\n## Before\n\nx\n\n${h}\n\none\n`);
    const withAfter = `${first}\n## After\n\ny\n`;
    expect(replaceSection(withAfter, h, `${h}\n\ntwo\n`)).toBe(`# Results\n\n## Before\n\nx\n\n${h}\n\ntwo\n\n## After\n\ny\n`);
  });

  it("puts each scenario's headings under the section's: its top heading becomes ###, the rest keep their depth below it", () => {
    expect(demoteHeadings('# Hedging\n\ntext\n\n## Rows\n')).toBe('### Hedging\n\ntext\n\n#### Rows\n');
    expect(demoteHeadings('## Affinity\n\n| a |\n')).toBe('### Affinity\n\n| a |\n');
    expect(demoteHeadings('no heading')).toBe('no heading');
  });

  it("finds its section again (what bench/run.ts --record keeps of RESULTS.md): up to the next ## or the end", () => {
    const h = '## Routing features (node bench/routing.ts)';
    expect(sectionOf(`# R\n\n## A\n\nx\n\n${h}\n\n### one\n\ny\n`, h)).toBe(`${h}\n\n### one\n\ny\n`);
    expect(sectionOf(`# R\n\n${h}\n\ny\n\n## B\n`, h)).toBe(`${h}\n\ny\n\n`);
    expect(sectionOf('# R\n\n## A\n', h)).toBe('');
  });
});

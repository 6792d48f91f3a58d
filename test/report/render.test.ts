// The format dispatcher (src/report/render.ts): every format, each text ending with a newline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../../src/report/render.js';
import { reportFixture as fixture } from '../helpers/paths.js';

test('renderReport dispatches every format and each ends with a newline', () => {
  const report = fixture('6.18-compatible.json');
  for (const format of ['human', 'json', 'junit', 'prometheus'] as const) {
    const text = renderReport(report, format, { color: false, verbose: false });
    assert.ok(text.endsWith('\n'), format);
    assert.ok(text.length > 100, format);
  }
  assert.deepEqual(JSON.parse(renderReport(report, 'json', { color: false, verbose: false })), report);
});

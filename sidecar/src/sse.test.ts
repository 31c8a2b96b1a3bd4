import { SseParser } from './sse.ts';

describe('SseParser', () => {
  it('parses events with names and joins multi-line data', () => {
    const p = new SseParser();
    expect(p.push('event: message_start\ndata: {"a":1}\n\ndata: x\ndata: y\n\n')).toEqual([
      { event: 'message_start', data: '{"a":1}' },
      { event: undefined, data: 'x\ny' },
    ]);
  });

  it('reassembles lines split anywhere across chunks, including inside \\r\\n', () => {
    const text = 'data: {"hello":"world"}\r\n\r\ndata: [DONE]\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      const events = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(events).toEqual([
        { event: undefined, data: '{"hello":"world"}' },
        { event: undefined, data: '[DONE]' },
      ]);
    }
  });

  it('accepts bare \\r line ends, comments and fields without a space', () => {
    const p = new SseParser();
    expect(p.push(': ping\r\rdata:x\r\r')).toEqual([{ event: undefined, data: 'x' }]);
  });

  it('decodes UTF-8 split across chunks', () => {
    const bytes = Buffer.from('data: héllo ✓\n\n');
    const p = new SseParser();
    const events = [];
    for (const b of bytes) events.push(...p.push(Uint8Array.of(b)));
    expect(events).toEqual([{ event: undefined, data: 'héllo ✓' }]);
  });

  it('refuses an event larger than its limit instead of buffering without end', () => {
    const p = new SseParser(100);
    expect(() => p.push('data: ' + 'x'.repeat(200))).toThrow(/larger than 100 bytes/);
  });
});

// Unit tests of the engine.io codec against the byte examples of spec 5.3/5.5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ParseError, toByteString, fromByteString, encodePacketText, decodePacketText, decodePacketBinary,
  encodePacketWS, encodePayloadText, decodePayloadText, encodePayloadBinary, decodePayloadBinary, escapeJSONPBody,
} from '../src/codec.js';

const hex = (s) => Uint8Array.from(s.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const SID = '_w0_8000_0_N7KFnyIwEOtlHb0EAAAA';
const OPEN = `{"sid":"${SID}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":60000}`;

test('UTF-8 pre-encoding: WebSocket text frame bytes are double-encoded (spec 5.3.1)', () => {
  const frame = toByteString('héllo €');
  assert.deepEqual(Buffer.from(frame, 'utf8'), Buffer.from(hex('68 c3 83 c2 a9 6c 6c 6f 20 c3 a2 c2 82 c2 ac')));
  assert.equal(fromByteString(frame), 'héllo €');
});

test('UTF-8 pre-encoding: binary payload carries single UTF-8', () => {
  const body = encodePayloadBinary([{ type: 'message', data: 'héllo €' }]);
  // 0x00, length 11 as digits 1 1, 0xFF, then '4' + single UTF-8.
  assert.deepEqual(body, Uint8Array.from([0, 1, 1, 0xff, 0x34, ...hex('68 c3 a9 6c 6c 6f 20 e2 82 ac')]));
  assert.deepEqual(decodePayloadBinary(body), [{ type: 'message', data: 'héllo €' }]);
});

test('byte strings reject characters above 0xFF and invalid UTF-8', () => {
  assert.throws(() => fromByteString('h€'), ParseError);
  assert.throws(() => fromByteString('\xc3('), ParseError); // single-encoded input: Invalid continuation byte
  assert.throws(() => decodePacketText('4\u00e9'), ParseError);
});

test('binary payload framings of spec 5.3.2', () => {
  const cases = [
    { name: 'noop', packets: [{ type: 'noop' }], bytes: '00 01 FF 36' },
    {
      name: 'pong then message',
      packets: [{ type: 'pong' }, { type: 'message', data: '{"cid":3}' }],
      bytes: '00 01 FF 33 00 01 00 FF 34 7B 22 63 69 64 22 3A 33 7D',
    },
  ];
  for (const c of cases) {
    const bytes = hex(c.bytes);
    assert.deepEqual(encodePayloadBinary(c.packets), bytes, c.name);
    assert.deepEqual(decodePayloadBinary(bytes), c.packets, c.name);
  }
});

test('108-byte open packet gets the prefix 00 01 00 08 FF (spec 5.5 A)', () => {
  const body = encodePayloadBinary([{ type: 'open', data: OPEN }]);
  assert.equal(body.length, 113);
  assert.deepEqual(body.subarray(0, 5), hex('00 01 00 08 FF'));
  const [packet] = decodePayloadBinary(body);
  assert.equal(packet.type, 'open');
  assert.equal(JSON.parse(packet.data).sid, SID);
});

test('spec 5.5 A: connect payload and the 103-byte three-packet response', () => {
  const connect = `4{"event":"connect","data":{"soid":"${SID}","appName":"myapp"},"cid":1}`;
  const one = encodePayloadBinary([{ type: 'message', data: connect.slice(1) }]);
  assert.equal(one.length, 100);
  assert.deepEqual(one.subarray(0, 5), hex('00 09 06 FF 34'));
  const three = encodePayloadBinary([
    { type: 'message', data: '{"cid":1}' },
    { type: 'message', data: '{"event":"greet","data":"hello world","cid":2}' },
    { type: 'message', data: '{"cid":2,"data":{"pong":{"n":1}}}' },
  ]);
  assert.equal(three.length, 103);
  const post = encodePayloadBinary([
    { type: 'message', data: '{"event":"ready","cid":1}' },
    { type: 'message', data: '{"event":"ping","data":{"n":1},"cid":2}' },
  ]);
  assert.deepEqual(post.subarray(0, 4), hex('00 02 06 FF'));
  assert.deepEqual(post.subarray(30, 34), hex('00 04 00 FF'));
});

test('text payloads (spec 5.3.2 / 5.5 B)', () => {
  assert.equal(encodePayloadText([{ type: 'pong' }, { type: 'message', data: '{"cid":3}' }]), '1:310:4{"cid":3}');
  const open = encodePayloadText([{ type: 'open', data: OPEN }]);
  assert.ok(open.startsWith('108:0{"sid"'));
  assert.deepEqual(decodePayloadText(open), [{ type: 'open', data: OPEN }]);
  // 40 characters, 45 bytes over HTTP (double encoding of the five high bytes).
  const chat = encodePayloadText([{ type: 'message', data: '{"event":"chat","data":"héllo €"}' }]);
  assert.equal(chat, '37:4' + toByteString('{"event":"chat","data":"héllo €"}'));
  assert.equal(chat.length, 40);
  assert.equal(Buffer.byteLength(chat, 'utf8'), 45);
  assert.deepEqual(decodePayloadText(chat), [{ type: 'message', data: '{"event":"chat","data":"héllo €"}' }]);
  assert.deepEqual(decodePayloadText('1:6'), [{ type: 'noop' }]);
  assert.deepEqual(decodePayloadText('0:'), []);
});

test('malformed payloads are ParseErrors, never crashes', () => {
  const bad = ['', 'x:4', '5:4ab', '3', '2:9a', '-1:4'];
  for (const s of bad) assert.throws(() => decodePayloadText(s), ParseError, JSON.stringify(s));
  const badBin = ['', '00', '00 01', '00 0a FF 34', '02 01 FF 34', '00 01 FF', '00 02 FF 34 c3'];
  for (const h of badBin) assert.throws(() => decodePayloadBinary(h ? hex(h) : new Uint8Array(0)), ParseError, h);
});

test('WebSocket packets: probe, upgrade, binary frames', () => {
  assert.equal(encodePacketWS({ type: 'ping', data: 'probe' }, true), '2probe');
  assert.equal(encodePacketWS({ type: 'upgrade' }, true), '5');
  assert.deepEqual(decodePacketText('3probe'), { type: 'pong', data: 'probe' });
  const frame = encodePacketWS({ type: 'message', data: Uint8Array.from([1, 2, 3]) }, true);
  assert.deepEqual(new Uint8Array(frame), Uint8Array.from([4, 1, 2, 3]));
  assert.equal(encodePacketWS({ type: 'message', data: Uint8Array.from([1, 2, 3]) }, false), 'b4AQID');
  const p = decodePacketBinary(frame);
  assert.equal(p.type, 'message');
  assert.deepEqual(new Uint8Array(p.data), Uint8Array.from([1, 2, 3]));
  const t = decodePacketText('b4AQID');
  assert.deepEqual(new Uint8Array(t.data), Uint8Array.from([1, 2, 3]));
  assert.equal(encodePacketText({ type: 'message', data: 'héllo' }), '4' + toByteString('héllo'));
});

test('binary packets inside payloads round-trip', () => {
  const packets = [{ type: 'message', data: Uint8Array.from([0, 255]).buffer }, { type: 'message', data: 'x' }];
  const bin = decodePayloadBinary(encodePayloadBinary(packets));
  assert.deepEqual(new Uint8Array(bin[0].data), Uint8Array.from([0, 255]));
  assert.equal(bin[1].data, 'x');
  const text = encodePayloadText(packets);
  assert.equal(text, '6:b4AP8=2:4x');
  assert.deepEqual(new Uint8Array(decodePayloadText(text)[0].data), Uint8Array.from([0, 255]));
});

test('JSONP body escaping (spec 5.3.2)', () => {
  assert.equal(escapeJSONPBody('a\nb'), 'a\\nb');
  assert.equal(escapeJSONPBody('a\\nb'), 'a\\\\nb');
});

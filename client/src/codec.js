// engine.io protocol 2/3 packet and payload codec, as spoken by engine.io 1.3.1
// (spec section 5.3). All string packet data is "pre-encoded": replaced by its
// UTF-8 bytes, one character per byte (a "byte string"). Length prefixes count
// those bytes.

export const PACKET_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
const TYPE_CODES = {};
PACKET_TYPES.forEach((name, i) => { TYPE_CODES[name] = i; });

export class ParseError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ParseError';
  }
}

// Created on first use so that hosts without TextEncoder can load the module.
let encoder = null;
let strictDecoder = null;
let looseDecoder = null;

/** UTF-8 bytes of a string. */
export function utf8Encode(str) {
  if (!encoder) encoder = new TextEncoder();
  return encoder.encode(str);
}

/** Decodes UTF-8 bytes, throwing ParseError on invalid input. */
export function utf8Decode(bytes) {
  if (!strictDecoder) strictDecoder = new TextDecoder('utf-8', { fatal: true });
  try {
    return strictDecoder.decode(bytes);
  } catch (err) {
    throw new ParseError('invalid UTF-8');
  }
}

/** Decodes UTF-8 bytes, replacing invalid sequences (for HTTP bodies). */
export function utf8DecodeLoose(bytes) {
  if (!looseDecoder) looseDecoder = new TextDecoder('utf-8');
  return looseDecoder.decode(bytes);
}

function bytesToByteString(bytes) {
  let out = '';
  const chunk = 0x2000;
  for (let i = 0; i < bytes.length; i += chunk) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return out;
}

function byteStringToBytes(str) {
  const bytes = new Uint8Array(str.length);
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c > 0xff) throw new ParseError('character above 0xFF in a byte string');
    bytes[i] = c;
  }
  return bytes;
}

/** "héllo" -> "hÃ©llo": the UTF-8 pre-encoding of engine.io-parser. */
export function toByteString(str) {
  return bytesToByteString(utf8Encode(str));
}

/** Reverses toByteString; throws ParseError on bad input. */
export function fromByteString(str) {
  return utf8Decode(byteStringToBytes(str));
}

function toBase64(bytes) {
  return btoa(bytesToByteString(bytes));
}

function fromBase64(str) {
  let bin;
  try {
    bin = atob(str);
  } catch (err) {
    throw new ParseError('invalid base64');
  }
  return byteStringToBytes(bin);
}

function typeCode(packet) {
  const code = TYPE_CODES[packet.type];
  if (code === undefined) throw new TypeError('unknown packet type ' + packet.type);
  return code;
}

function isBinary(data) {
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

function asBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function makePacket(code, data) {
  const type = PACKET_TYPES[code];
  if (type === undefined) throw new ParseError('unknown packet type code ' + code);
  const packet = { type };
  if (data !== undefined) packet.data = data;
  return packet;
}

/**
 * Encodes a packet for a text context (WebSocket text frame, text payload):
 * the result is a byte string; binary data becomes "b<type><base64>".
 */
export function encodePacketText(packet) {
  const code = typeCode(packet);
  if (isBinary(packet.data)) return 'b' + code + toBase64(asBytes(packet.data));
  return code + (packet.data === undefined ? '' : toByteString(String(packet.data)));
}

/** Decodes a byte-string packet (WebSocket text frame or text payload item). */
export function decodePacketText(str) {
  if (str.length === 0) throw new ParseError('empty packet');
  if (str.charAt(0) === 'b') {
    const bytes = fromBase64(str.slice(2));
    return makePacket(Number(str.charAt(1)), bytes.buffer);
  }
  const code = str.charCodeAt(0) - 48;
  if (code < 0 || code > 9) throw new ParseError('bad packet type');
  const rest = str.slice(1);
  return makePacket(code, rest.length ? fromByteString(rest) : undefined);
}

/** Decodes a WebSocket binary frame: the type as a raw byte, then the data. */
export function decodePacketBinary(data) {
  const bytes = asBytes(data);
  if (bytes.length === 0) throw new ParseError('empty packet');
  return makePacket(bytes[0], bytes.slice(1).buffer);
}

/**
 * Encodes a packet for a WebSocket: a string (text frame) for string packets,
 * an ArrayBuffer (binary frame) for binary packets when the peer accepts binary.
 */
export function encodePacketWS(packet, supportsBinary) {
  if (isBinary(packet.data) && supportsBinary) {
    const data = asBytes(packet.data);
    const out = new Uint8Array(data.length + 1);
    out[0] = typeCode(packet);
    out.set(data, 1);
    return out.buffer;
  }
  return encodePacketText(packet);
}

/** Text payload: "<len>:<packet>" repeated; returns a byte string. */
export function encodePayloadText(packets) {
  let out = '';
  for (const packet of packets) {
    const text = encodePacketText(packet);
    out += text.length + ':' + text;
  }
  return out;
}

/** Parses a text payload (a byte string) into packets. */
export function decodePayloadText(str) {
  const packets = [];
  let i = 0;
  if (str.length === 0) throw new ParseError('empty payload');
  while (i < str.length) {
    const colon = str.indexOf(':', i);
    if (colon < 0) throw new ParseError('missing length separator');
    const lenText = str.slice(i, colon);
    if (!/^[0-9]+$/.test(lenText)) throw new ParseError('bad length');
    const len = Number(lenText);
    const start = colon + 1;
    if (start + len > str.length) throw new ParseError('truncated payload');
    if (len > 0) packets.push(decodePacketText(str.substr(start, len)));
    i = start + len;
  }
  return packets;
}

function lengthDigits(n) {
  return String(n).split('').map(Number);
}

/** Binary payload (XHR2 / Node): 0x00|0x01, length digits 0-9, 0xFF, bytes. */
export function encodePayloadBinary(packets) {
  const parts = [];
  let total = 0;
  for (const packet of packets) {
    let body;
    let marker;
    if (isBinary(packet.data)) {
      const data = asBytes(packet.data);
      body = new Uint8Array(data.length + 1);
      body[0] = typeCode(packet);
      body.set(data, 1);
      marker = 1;
    } else {
      body = utf8Encode(typeCode(packet) + (packet.data === undefined ? '' : String(packet.data)));
      marker = 0;
    }
    const head = [marker].concat(lengthDigits(body.length), [0xff]);
    parts.push(Uint8Array.from(head), body);
    total += head.length + body.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Parses a binary payload (Uint8Array or ArrayBuffer) into packets. */
export function decodePayloadBinary(data) {
  const bytes = asBytes(data);
  const packets = [];
  let i = 0;
  if (bytes.length === 0) throw new ParseError('empty payload');
  while (i < bytes.length) {
    const marker = bytes[i++];
    if (marker !== 0 && marker !== 1) throw new ParseError('bad payload marker');
    let len = 0;
    let digits = 0;
    while (i < bytes.length && bytes[i] !== 0xff) {
      const d = bytes[i++];
      if (d > 9 || ++digits > 10) throw new ParseError('bad length digit');
      len = len * 10 + d;
    }
    if (i >= bytes.length || digits === 0) throw new ParseError('truncated length');
    i++;
    if (i + len > bytes.length) throw new ParseError('truncated payload');
    const body = bytes.subarray(i, i + len);
    i += len;
    if (marker === 1) {
      packets.push(decodePacketBinary(body));
    } else {
      const text = utf8Decode(body);
      const code = text.charCodeAt(0) - 48;
      if (!(code >= 0 && code <= 9)) throw new ParseError('bad packet type');
      packets.push(makePacket(code, text.length > 1 ? text.slice(1) : undefined));
    }
  }
  return packets;
}

/** The JSONP POST escaping of spec 5.3.2 (field `d`). */
export function escapeJSONPBody(payload) {
  return payload.replace(/\\n/g, '\\\n').replace(/\n/g, '\\n');
}

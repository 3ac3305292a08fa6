// Regenerates hf-qwen2vl-fuzz.jsonl: random texts (and a few long ones) encoded, and random id lists decoded, by the Rust Hugging Face
// tokenizers library (its Node binding, npm package "tokenizers" 0.23.2) with shared/data/tokenizer/qwen2-vl/tokenizer.json.
// Not run by the tests (they read the committed output); run by hand after `npm install tokenizers@0.23.2` in a
// scratch folder:  NODE_PATH=<scratch>/node_modules node make-hf-fixtures.js <shared/data> > hf-qwen2vl-fuzz.jsonl
'use strict';
const { Tokenizer } = require('tokenizers');
const path = require('path');
const dataRoot = process.argv[2];
const tok = Tokenizer.fromFile(path.join(dataRoot, 'tokenizer', 'qwen2-vl', 'tokenizer.json'));

// Deterministic PRNG (mulberry32) so the file is reproducible.
let seed = 20250101;
function rand() {
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];

const fragments = [
  // ASCII words, numbers, punctuation, contractions (the (?i:'s|...) branch, with U+017F long s)
  'a', 'cat', ' dog', 'The', 'HTTP', 'x', 'Zebra', '123', '2024', '7', '3.14', '1,000', '-', '--', '...', '!?', '(', ')',
  '[', ']', '{', '}', '"', '#', '$', '%', '&', '*', '+', '/', ':', ';', '<', '=', '>', '@', '\\', '^', '_', '`', '|', '~',
  "'", "'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "'D", "'x", "'\u017F", "''", "don't", "I'm",
  // white space of every kind
  ' ', '  ', '   ', '\t', '\n', '\n\n', '\r', '\r\n', '\u000B', '\u000C', '\u0085', '\u00A0', '\u1680', '\u2000',
  '\u2009', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\u200B', '\uFEFF', ' \n ', '\t\n',
  // Latin with accents, composed and decomposed (NFC), compatibility characters NFC keeps
  'caf\u00E9', 'cafe\u0301', 'e\u0301', '\u0301', '\u0308', 'n\u0303', '\u00DF', '\u0130', '\u01C5', '\u02B0',
  '\u212A', '\uFB01', '\u2460', '\uFF11', '\u00BD', '\u00B2', '\u216B', '\u0663', '\u096A', '\u1100\u1161', '\u1100\u1161\u11A8',
  // scripts
  '\u4E2D\u6587', '\u65E5\u672C\u8A9E', '\u3072\u3089\u304C\u306A', '\uD55C\uAD6D\uC5B4', '\u041F\u0440\u0438\u0432\u0435\u0442',
  '\u0645\u0631\u062D\u0628\u0627', '\u0928\u092E\u0938\u094D\u0924\u0947', '\u0E20\u0E32\u0E29\u0E32', '\u05E9\u05DC\u05D5\u05DD',
  // outside the BMP: letters, digits, emoji, ZWJ sequences, flags
  '\uD842\uDFB7', '\uD842\uDFB7\u91CE\u5BB6', '\uD835\uDFCF', '\uD835\uDFCF\uD835\uDFD0', '\uD835\uDC00\uD835\uDC01',
  '\uD800\uDF48', '\uD83D\uDE00', '\uD83D\uDC4D\uD83C\uDFFD', '\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67',
  '\uD83C\uDDFA\uD83C\uDDF8', '\uD83C\uDFF3\uFE0F\u200D\uD83C\uDF08', '\u2764\uFE0F',
  // control characters
  '\u0000', '\u0001', '\u001F', '\u007F',
  // special and added tokens, whole and broken
  '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|image_pad|>', '<|video_pad|>', '<|vision_start|>', '<|vision_end|>',
  '<|box_start|>', '<|object_ref_end|>', '<|im_', '<|image_pad|', '|>', '<|', '<<|im_end|>>', '<think>', '<tool_call>',
  '<|IM_START|>',
  // runs
  'aaaaaaaaaaaaaaaaaaaa', '                ', '\n\n\n\n', '0000000000', '!!!!!!!!!!', 'ababababababababab',
];

const out = [];
for (let i = 0; i < 1500; i++) {
  const n = 1 + Math.floor(rand() * 10);
  let s = '';
  for (let j = 0; j < n; j++) s += pick(fragments);
  out.push(s);
}

// Long pieces: BPE over thousands of symbols (the heap path), long white-space and digit runs.
let letters = '';
for (let i = 0; i < 3000; i++) letters += 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rand() * 26)];
out.push('a'.repeat(5000), 'ab'.repeat(3000), letters, ' '.repeat(3000) + 'x', '7'.repeat(2000), '\u4E2D'.repeat(1500),
  '\uD83D\uDE00'.repeat(800));

(async () => {
  for (const text of out) {
    const e = await tok.encode(text, null, { addSpecialTokens: false });
    process.stdout.write(JSON.stringify({ kind: 'encode', text, ids: e.getIds() }) + '\n');
  }
  // Decoding: random ids (BPE tokens, byte tokens that cut UTF-8 characters, special tokens, ids with no token).
  for (let i = 0; i < 300; i++) {
    const n = 1 + Math.floor(rand() * 8);
    const ids = [];
    for (let j = 0; j < n; j++) {
      const r = rand();
      if (r < 0.55) ids.push(Math.floor(rand() * 151643));
      else if (r < 0.75) ids.push(Math.floor(rand() * 256));
      else if (r < 0.92) ids.push(151643 + Math.floor(rand() * 14));
      else ids.push(151657 + Math.floor(rand() * 279));
    }
    const decoded = await tok.decode(ids, false);
    const decodedSkippingSpecial = await tok.decode(ids, true);
    process.stdout.write(JSON.stringify({ kind: 'decode', ids, decoded, decodedSkippingSpecial }) + '\n');
  }
})();

// Writes N24News/test-00000-of-00001.parquet: a tiny MMEB-eval-shaped parquet file (the Hugging Face TIGER-Lab/MMEB-eval
// layout: string columns qry_text, qry_img_path; list<string> columns tgt_text, tgt_img_path; an extra column that
// readers must ignore) written by an independent Parquet implementation (arrow-rs through parquet-wasm), with Snappy
// compression and dictionary pages, as the hub's files are. Synthetic text; the image paths name files the tests create.
//
//   npm install parquet-wasm@0.8.0 apache-arrow@21.2.0
//   node make-parquet-fixture.mjs
import { tableToIPC, vectorFromArray, Table, List, Utf8, Int32, Field } from "apache-arrow";
import * as parquet from "parquet-wasm/node";
import { writeFileSync } from "node:fs";

const instruction = "<|image_1|>\nRepresent the given news image with the following caption for domain classification: ";
const labels = ["sports", "science", "travel", "food"];
const rows = [
  { q: instruction + "A striker scores in extra time.\n", qi: "images/n0.png", t: ["sports", "science", "travel", "food"] },
  { q: instruction + "Telescope spots a new comet.\n", qi: "images/n1.png", t: ["science", "sports", "travel", "food"] },
  { q: instruction + "Ten quiet beaches to visit in June.\n", qi: "images/n2.png", t: ["travel", "food", "sports", "science"] },
  { q: instruction + "Sourdough, step by step.\n", qi: "images/n0.png", t: ["food", "travel", "science", "sports"] },
];
const list = new List(new Field("element", new Utf8(), true));
const table = new Table({
  qry_text: vectorFromArray(rows.map(r => r.q), new Utf8()),
  qry_img_path: vectorFromArray(rows.map(r => r.qi), new Utf8()),
  tgt_text: vectorFromArray(rows.map(r => r.t), list),
  tgt_img_path: vectorFromArray(rows.map(r => r.t.map(() => "")), list),
  row_id: vectorFromArray(rows.map((_, i) => i), new Int32()),
});
const properties = new parquet.WriterPropertiesBuilder()
  .setCompression(parquet.Compression.SNAPPY)
  .setDictionaryEnabled(true)
  .setMaxRowGroupSize(3) // two row groups, so row numbers must run across them
  .build();
const bytes = parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(table, "stream")), properties);
writeFileSync(new URL("./N24News/test-00000-of-00001.parquet", import.meta.url), bytes);
console.log(`wrote ${bytes.length} bytes, ${rows.length} rows, labels ${labels.join(", ")}`);

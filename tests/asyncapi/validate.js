// Validate an AsyncAPI document with the official parser (@asyncapi/parser),
// protobuf payloads through the official protobuf schema parser, and print
// what the test checks: one line per channel and per message.
//   node validate.js FILE
'use strict';
const fs = require('fs');
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');
const { ProtoBuffSchemaParser } = require('@asyncapi/protobuf-schema-parser');

async function main() {
  const file = process.argv[2];
  const parser = new Parser();
  parser.registerSchemaParser(ProtoBuffSchemaParser());
  const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'), { source: file });
  let errors = 0;
  for (const d of diagnostics) {
    const where = (d.path || []).join('/');
    const level = d.severity === DiagnosticSeverity.Error ? 'error' : 'note';
    if (d.severity === DiagnosticSeverity.Error) errors++;
    console.log(`${level}: ${d.code}: ${d.message} at ${where}`);
  }
  if (!document || errors) {
    console.log(`invalid: ${errors} errors`);
    process.exit(1);
  }
  console.log(`version ${document.version()}`);
  for (const ch of document.channels()) {
    console.log(`channel ${ch.id()} address ${ch.address()} messages ${ch.messages().length}`);
  }
  for (const m of document.components().messages()) {
    const headers = m.headers();
    const props = headers ? Object.keys(headers.properties() || {}) : [];
    const payload = m.payload();
    const fields = payload ? Object.keys(payload.properties() || {}) : [];
    const key = m.bindings().get('kafka');
    const keyType = key && key.value().key ? key.value().key.type : 'none';
    const ceType = headers && headers.properties().ce_type ? headers.properties().ce_type.const() : '';
    console.log(`message ${m.id()} content-type ${m.contentType()} ce_type ${ceType} key ${keyType} headers ${props.join(',')} fields ${fields.join(',')}`);
  }
  console.log('valid');
}

main().catch((e) => {
  console.log(`error: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});

// Braintree's card-validator (which uses credit-card-type) as the card
// reference for check.py. Reads {"numbers": [...]} on stdin; writes
// {"versions", "patterns": {type: patterns}, "results": [{type, valid}]}.
// type is null when credit-card-type finds no brand or more than one.
"use strict";
const valid = require("card-validator");
const creditCardType = require("credit-card-type");

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (text += chunk));
process.stdin.on("end", () => {
  const { numbers } = JSON.parse(text);
  const patterns = {};
  for (const type of Object.values(creditCardType.types)) {
    const info = creditCardType.getTypeInfo(type);
    patterns[type] = { patterns: info.patterns, lengths: info.lengths };
  }
  const results = numbers.map((n) => {
    // Kasir checks Luhn on UnionPay too; card-validator skips it by default.
    const v = valid.number(n, { luhnValidateUnionPay: true });
    return { type: v.card ? v.card.type : null, valid: v.isValid };
  });
  const versions = {
    "card-validator": require("card-validator/package.json").version,
    "credit-card-type": require("credit-card-type/package.json").version,
  };
  process.stdout.write(JSON.stringify({ versions, patterns, results }));
});

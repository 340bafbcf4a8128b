#!/usr/bin/env node
// forge's solc: the pinned solcjs (npm `solc`, the compiler built to wasm) behind the two calls forge
// makes of a native solc binary, so that the whole toolchain installs from the npm lockfile.
//   --version          prints `Version: <solc.version()>`, the line forge reads the version from
//   --standard-json    compiles the standard JSON read from stdin and writes the result to stdout
// Every other flag forge passes (--allow-paths, --base-path, --include-path, ...) is ignored: forge
// already puts every source into the input; the import callback only serves a file it left out, read
// relative to the Foundry root (this file's parent directory) and never from outside it.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

const ROOT = path.resolve(__dirname, '..');

function findImports(importPath) {
  const file = path.resolve(ROOT, importPath);
  if (file !== ROOT && !file.startsWith(ROOT + path.sep)) {
    return { error: `solc-shim: ${importPath} lies outside the Foundry root ${ROOT}` };
  }
  try {
    return { contents: fs.readFileSync(file, 'utf8') };
  } catch (err) {
    return { error: `solc-shim: cannot read ${importPath}: ${err.code || err.message}` };
  }
}

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface (solcjs)\nVersion: ${solc.version()}\n`);
} else if (args.includes('--standard-json')) {
  const input = fs.readFileSync(0, 'utf8');
  process.stdout.write(solc.compile(input, { import: findImports }));
} else {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exit(2);
}

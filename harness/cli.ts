#!/usr/bin/env node
console.log('harness', process.version);

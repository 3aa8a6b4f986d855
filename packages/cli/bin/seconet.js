#!/usr/bin/env node
// The installed `seconet` command: runs the built CLI (npm run build writes ../dist).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));

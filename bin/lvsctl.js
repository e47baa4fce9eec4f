#!/usr/bin/env node
// lvsctl entry: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { runCli } from './launch.js'

await runCli('lvsctl')

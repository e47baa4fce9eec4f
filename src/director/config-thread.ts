// The throwaway thread of config-source.ts: reads and validates the file once, posts the result
// (plain data) and ends, taking the YAML parser and the schema with it.
import { parentPort, workerData } from 'node:worker_threads'
import { readConfig } from './config-read.js'

const port = parentPort
if (!port) throw new Error('src/director/config-thread.js runs only as a worker thread')
port.postMessage(await readConfig(String(workerData)))

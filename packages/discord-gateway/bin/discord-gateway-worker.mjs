#!/usr/bin/env node
// Runs a gateway candidate on its own (the "gateway workers" layout) from TypeScript source through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../src/cluster/worker-cli.ts')

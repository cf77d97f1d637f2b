#!/usr/bin/env node
// Runs the gateway as its own process (hub mode) from TypeScript source through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../src/hub/cli.ts')

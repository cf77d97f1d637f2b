export { jsonArrayChunks, writeFileAtomically } from './json-chunks'

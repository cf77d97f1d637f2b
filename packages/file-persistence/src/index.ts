export { jsonArrayChunks, writeFileAtomically } from './json-chunks'
export { readSecretFiles, type SecretFilesResult } from './secret-files'

export { jsonArrayChunks, writeFileAtomically } from './json-chunks'
export { CoalescedFileWriter, readJsonFile } from './json-file'
export { readSecretFiles, type SecretFilesResult } from './secret-files'

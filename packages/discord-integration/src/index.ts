export * from './contracts/index'

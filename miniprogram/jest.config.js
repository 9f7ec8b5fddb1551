module.exports = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/test/**/*.test.js'],
  snapshotSerializers: ['miniprogram-simulate/jest-snapshot-plugin'],
}

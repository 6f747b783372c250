/** `npm run test:chaos`: the delivery-guarantee chaos run (several minutes), kept out of `npm test`. */
const base = require('./jest.config.js');
module.exports = { ...base, roots: ['<rootDir>/test-chaos'], testTimeout: 900000 };

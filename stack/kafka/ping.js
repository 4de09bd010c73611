// Readiness probe used by stack.sh: succeeds once the broker answers a metadata request.
const { Kafka, logLevel } = require('kafkajs');
const broker = process.argv[2] || '127.0.0.1:9092';
const admin = new Kafka({ clientId: 'gpumeter-stack-ping', brokers: [broker], logLevel: logLevel.NOTHING,
  retry: { retries: 0 }, connectionTimeout: 1000, requestTimeout: 2000 }).admin();
admin.connect()
  .then(() => admin.describeCluster())
  .then((c) => { if (!c.controller && c.controller !== 0) throw new Error('no controller'); })
  .then(() => admin.disconnect())
  .then(() => process.exit(0), () => process.exit(1));

// What lab-scripts/setup.mjs installs, for its steps: the native brokers (RabbitMQ from apt, Java,
// Kafka's jars), RabbitMQ 4's Debian 13 root, and Jupyter with the tslab kernel. Each checks first
// and does nothing when its part is already there. The brokers also call these on `up`.
export { setupNativeBrokers } from "./setup.js";
export { ensureRabbitmq4Root, installedVersion, rabbitmq4RootReady } from "./rabbitmq-root.js";
export { labCacheDir } from "../run/brokers/settings.js";
export { ensureJupyter } from "../show/jupyter.js";

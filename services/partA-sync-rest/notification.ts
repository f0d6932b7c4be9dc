// Part A NotificationService (:8082). Sends (logs) the confirmation to the user.
import { randomUUID } from "node:crypto";
import { Type, loadConfig, serviceBase } from "../common/config.js";
import { createService, runService } from "../common/server.js";
import type { SendResponse } from "./types.js";

const config = loadConfig(Type.Object({ ...serviceBase, PORT: Type.Integer({ default: 8082 }) }));
const stats = { sent: 0 };

const app = createService({
  name: "notification",
  logLevel: config.LOG_LEVEL,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  health: () => stats,
});

app.post(
  "/send",
  {
    schema: {
      body: Type.Object({ order_id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: true }),
    },
  },
  async (req) => {
    stats.sent++;
    const response: SendResponse = {
      notification_id: `n-${randomUUID()}`,
      order_id: req.body.order_id,
      status: "SENT",
    };
    req.log.info({ order_id: req.body.order_id }, "confirmation sent to the user");
    return response;
  },
);

void runService(app, config.PORT, config.HOST);

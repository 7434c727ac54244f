/**
 * A robot's channel from its settings: the one place that knows which adapter serves which kind.
 */
import type { Channel, RobotMessage } from './channel.js';
import type { RobotSettings } from './channelSettings.js';
import { createDingtalkRobot } from './dingtalkRobot.js';
import { createFeishuRobot } from './feishuRobot.js';
import { createWecomRobot } from './wecomRobot.js';

export interface RobotOptions {
  /** Milliseconds since the epoch; DingTalk and Feishu signatures are timestamped with it. */
  clock?: () => number;
  /** Per request (default `WEBHOOK_TIMEOUT_MS`). */
  timeoutMs?: number;
}

export function createRobotChannel(
  settings: RobotSettings,
  options: RobotOptions = {},
): Channel<RobotMessage> {
  switch (settings.kind) {
    case 'dingtalk':
      return createDingtalkRobot(settings, options);
    case 'wecom':
      return createWecomRobot(settings, options);
    case 'feishu':
      return createFeishuRobot(settings, options);
  }
}

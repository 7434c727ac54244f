/**
 * Notifications that reach people (issue 10): the channel port and its adapters, the rules of
 * what each recipient may be told, the words, the per-robot rate planner and the settings. The
 * outbox (in the stores) and its worker build on exactly this surface.
 */
export {
  LANGUAGES,
  type Channel,
  type DeliveryFailure,
  type DeliveryResult,
  type EmailMessage,
  type Language,
  type Mention,
  type MessageDocument,
  type RobotMessage,
  type Segment,
} from './channel.js';
export {
  ROBOT_KINDS,
  SECRET_LOG_PATHS,
  SMTP_ENV_SHAPE,
  maskWebhookUrl,
  redactRobot,
  redactSmtp,
  robotSettingsSchema,
  smtpSettingsFromEnv,
  teamRobotSchema,
  type RedactedRobot,
  type RedactedSmtp,
  type RobotKind,
  type RobotSettings,
  type SmtpSettings,
  type TeamRobot,
} from './channelSettings.js';
export { createEmailChannel, renderEmail, type EmailChannel, type EmailOptions } from './emailChannel.js';
export { createRobotChannel, type RobotOptions } from './robotChannel.js';
export {
  ROBOT_RATE_WINDOWS,
  planRobotSends,
  type RateWindow,
  type RobotSendInput,
  type RobotSendPlan,
} from './robotRateLimit.js';
export {
  NOTIFY_EVENT_TYPES,
  REMINDER_TYPES,
  notifyEventSchema,
  recordFactsOf,
  type NotifyEvent,
  type NotifyEventType,
  type RecordFacts,
} from './notifyEvent.js';
export {
  disclosureFor,
  holdsRecord,
  isOwnAction,
  mayRead,
  mentionsFor,
  shouldNotify,
  type Disclosure,
  type Recipient,
} from './messagePolicy.js';
export {
  EVENT_LABELS,
  composeMessage,
  composeSummary,
  taskPaneUrl,
  type ComposeContext,
} from './messageComposer.js';
export { DEDUPE_HEADER, WEBHOOK_TIMEOUT_MS } from './webhookPost.js';

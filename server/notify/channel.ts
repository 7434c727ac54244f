/**
 * The channel port: one small interface every way of reaching people implements (email, the
 * DingTalk / WeCom / Feishu group robots), and the channel-neutral message that crosses it. The
 * outbox worker only ever calls `send` and records the `DeliveryResult`; each adapter renders the
 * neutral `MessageDocument` in its provider's format and maps the provider's answer.
 */

export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A run of text; `strong` is rendered bold where the channel can. */
export interface Segment {
  text: string;
  strong?: boolean;
}

/** A notification's text before any channel format: a title, paragraphs, and one link. */
export interface MessageDocument {
  language: Language;
  /** Short: the email subject, the robot message title, the first line of a plain-text message. */
  title: string;
  /** Paragraphs, each a list of segments. Plain text only: adapters escape for their format. */
  paragraphs: Segment[][];
  /** Where to act on it (the task pane). */
  link?: { text: string; url: string };
}

export interface EmailMessage {
  to: { address: string; name?: string };
  document: MessageDocument;
  /**
   * Stable per outbox entry: becomes the Message-ID, so a message sent twice (a crash between
   * the SMTP 250 and the outbox write) is one message to every mail store that deduplicates.
   */
  dedupeKey?: string;
}

/** Someone to @mention in a group. Providers differ in what they accept (docs/notifications.md). */
export interface Mention {
  /** Shown when the provider cannot @mention this person. */
  name: string;
  /** DingTalk `at.atMobiles`, WeCom `mentioned_mobile_list`. */
  mobile?: string;
  /** Feishu custom bots @mention by open_id / user_id only, never by mobile. */
  feishuUserId?: string;
}

export interface RobotMessage {
  document: MessageDocument;
  mentions: Mention[];
  /** Sent as the `X-Baobei-Dedupe-Key` header (providers ignore it; a receiver can count duplicates). */
  dedupeKey?: string;
}

export type DeliveryResult =
  | { ok: true; providerId?: string }
  | {
      ok: false;
      /** True when the same message may succeed later unchanged (throttling, 4xx SMTP, network). */
      retryable: boolean;
      /** The provider's own code: SMTP reply code, DingTalk/WeCom `errcode`, Feishu `code`, or HTTP status. */
      providerCode?: string | number;
      /** What went wrong, without secrets or message content. */
      error: string;
      /** The provider throttles this sender: do not try it again before this many milliseconds. */
      retryAfterMs?: number;
    };

/** The port. `close` releases pooled connections; sending after it is an error. */
export interface Channel<M> {
  send(message: M): Promise<DeliveryResult>;
  close(): Promise<void>;
}

export type DeliveryFailure = Extract<DeliveryResult, { ok: false }>;

export function failure(
  retryable: boolean,
  error: string,
  providerCode?: string | number,
  retryAfterMs?: number,
): DeliveryFailure {
  return {
    ok: false,
    retryable,
    error,
    ...(providerCode !== undefined ? { providerCode } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

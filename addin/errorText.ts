/**
 * What the task pane says when something fails, in the pane's language and never as a stack trace:
 * the service's, the Excel module's and core's own messages (ApiError, SheetError, DomainError all
 * carry zh-CN `message` and English `messageEn` that say what to do next), Excel's own refusals,
 * and a plain fallback for anything else.
 */
import { ApiError } from './apiClient.js';
import { translate, type Language, type MessageKey } from './i18n.js';

/** A failure the pane itself detects, worded like the others: zh-CN message, English messageEn. */
export class PaneError extends Error {
  readonly messageEn: string;

  constructor(key: MessageKey) {
    super(translate('zh', key));
    this.name = 'PaneError';
    this.messageEn = translate('en', key);
  }
}

/** Office's errors (OfficeExtension.Error) carry a code such as InvalidArgument or GeneralException. */
interface OfficeLikeError {
  code: string;
  message: string;
}

function isOfficeError(err: unknown): err is OfficeLikeError {
  if (typeof err !== 'object' || err === null) return false;
  const candidate = err as { name?: unknown; code?: unknown };
  const officeErrorType = typeof OfficeExtension !== 'undefined' ? OfficeExtension.Error : undefined;
  return (
    (officeErrorType !== undefined && err instanceof officeErrorType) ||
    // office.js names them RichApi.Error at run time; the typings say OfficeExtension.Error.
    ((candidate.name === 'RichApi.Error' || candidate.name === 'OfficeExtension.Error') &&
      typeof candidate.code === 'string')
  );
}

function bilingualMessage(err: unknown, language: Language): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const messageEn = (err as { messageEn?: unknown }).messageEn;
  if (typeof messageEn !== 'string') return undefined;
  return language === 'zh' ? err.message : messageEn;
}

export function describeError(err: unknown, language: Language): string {
  const bilingual = bilingualMessage(err, language);
  if (bilingual !== undefined) {
    // An administrator finds a service failure in the log by its request id.
    if (err instanceof ApiError && err.requestId !== undefined && err.status >= 500) {
      return `${bilingual}\n${translate(language, 'error.requestId', { id: err.requestId })}`;
    }
    return bilingual;
  }
  if (isOfficeError(err)) {
    return translate(language, 'error.excel', { code: err.code, message: err.message });
  }
  const message = err instanceof Error ? err.message : String(err);
  return translate(language, 'error.unexpected', { message });
}

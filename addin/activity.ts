/**
 * The strip under the header that says what is happening: a progress bar while an operation runs
 * (fed by the workflows' progress callback, indeterminate until the first report) and the outcome
 * message afterwards.
 */

export type MessageKind = 'info' | 'success' | 'warning' | 'error';

export interface ActivityElements {
  progress: HTMLElement;
  progressLabel: HTMLElement;
  progressBar: HTMLElement;
  message: HTMLElement;
}

export class Activity {
  constructor(private readonly elements: ActivityElements) {}

  /** Shows the bar, indeterminate, with what is being done. */
  start(label: string): void {
    this.clearMessage();
    this.elements.progressLabel.textContent = label;
    this.elements.progressBar.removeAttribute('value');
    this.elements.progress.hidden = false;
  }

  /** `done` of `total` (rows, blocks…); a total of 0 keeps the bar indeterminate. */
  report(done: number, total: number, label?: string): void {
    if (label !== undefined) this.elements.progressLabel.textContent = label;
    if (total > 0) {
      const percent = Math.round((Math.min(done, total) / total) * 100);
      this.elements.progressBar.setAttribute('value', String(percent));
    } else {
      this.elements.progressBar.removeAttribute('value');
    }
  }

  finish(): void {
    this.elements.progress.hidden = true;
  }

  say(kind: MessageKind, text: string): void {
    const message = this.elements.message;
    message.className = `message ${kind}`;
    message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    message.dataset['kind'] = kind;
    message.textContent = text;
    message.hidden = false;
  }

  clearMessage(): void {
    this.elements.message.hidden = true;
    this.elements.message.textContent = '';
  }
}

/**
 * Registers the Fluent UI web components the task pane uses — only those, so the bundle carries
 * no others — and tints them with Excel's green so the pane looks like part of Excel.
 */
import {
  accentBaseColor,
  fluentAnchor,
  fluentBadge,
  fluentButton,
  fluentCheckbox,
  fluentDivider,
  fluentOption,
  fluentProgress,
  fluentSelect,
  fluentTextField,
  provideFluentDesignSystem,
  SwatchRGB,
} from '@fluentui/web-components';

/** Excel's brand green (#107C41). */
const EXCEL_GREEN = SwatchRGB.create(0x10 / 255, 0x7c / 255, 0x41 / 255);

export function registerFluentComponents(): void {
  provideFluentDesignSystem().register(
    fluentAnchor(),
    fluentBadge(),
    fluentButton(),
    fluentCheckbox(),
    fluentDivider(),
    fluentOption(),
    fluentProgress(),
    fluentSelect(),
    fluentTextField(),
  );
  accentBaseColor.withDefault(EXCEL_GREEN);
}

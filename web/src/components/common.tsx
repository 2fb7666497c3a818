// Small pieces every page uses: status badges, the confirmation dialog, error notes.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import type { Tier } from '../api/types.ts';
import { capitalise, type Health } from '../health.ts';

const HEALTH_ICON: Record<Health, string> = {
  healthy: '●',
  progressing: '◐',
  degraded: '▲',
  failed: '✕',
  offline: '○',
  unknown: '?',
};

/** A health badge: colour, a shape and a word, so no one needs the colour to read it. */
export function Badge({ health, label }: { health: Health; label?: string | undefined }) {
  return (
    <span className={`badge badge-${health}`}>
      <span aria-hidden="true" className="badge-icon">
        {HEALTH_ICON[health]}
      </span>
      {label ?? capitalise(health)}
    </span>
  );
}

export function TierTag({ tier }: { tier: Tier }) {
  return <span className={`tier tier-${tier}`}>{tier}</span>;
}

export function ErrorNote({ children }: { children: ReactNode }) {
  return (
    <p className="note note-error" role="alert">
      {children}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export interface ConfirmProps {
  readonly open: boolean;
  readonly title: string;
  readonly confirmLabel: string;
  readonly children: ReactNode;
  readonly busy?: boolean | undefined;
  /** Disables the confirm button (a plan that cannot be carried out, say). */
  readonly blocked?: boolean | undefined;
  readonly danger?: boolean | undefined;
  /** Another action beside Cancel (e.g. "Clear split"). */
  readonly extra?: ReactNode;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}

/** A modal confirmation on the native <dialog>: focus trapped, Escape cancels, focus returns. */
export function ConfirmDialog(props: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const { open } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      // A form's first field, else Cancel: confirming must take a deliberate step.
      const field = dialog.querySelector<HTMLElement>('.dialog-body input, .dialog-body select');
      (field ?? cancel.current)?.focus();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={() => props.onCancel()}>
      <h2 id={titleId}>{props.title}</h2>
      <div className="dialog-body">{open ? props.children : null}</div>
      <div className="dialog-actions">
        {props.extra}
        <button type="button" ref={cancel} onClick={() => props.onCancel()}>
          Cancel
        </button>
        <button
          type="button"
          className={props.danger ? 'primary danger' : 'primary'}
          disabled={props.busy === true || props.blocked === true}
          onClick={() => props.onConfirm()}
        >
          {props.busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

let focusPending = false;

/**
 * Moves focus to the page's title after a navigation; when the page is still loading (a
 * lazily loaded one), the title takes it as soon as it appears.
 */
export function focusPageTitle(): void {
  const title = document.getElementById('page-title');
  title?.focus();
  // No title yet, or the previous page's, hidden while the next one loads: wait for it.
  focusPending = title === null || document.activeElement !== title;
}

/** The page's title: focused after navigation so screen readers announce the new page. */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Baton`;
  }, [title]);
  useEffect(() => {
    if (!focusPending) return;
    focusPending = false;
    ref.current?.focus();
  }, []);
  return (
    <h1 tabIndex={-1} id="page-title" ref={ref}>
      {children}
    </h1>
  );
}

// Small pieces shared by the views: loading state, error box, links.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export interface Async<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
}

/** A call a form starts: `run(fn)` sets busy, clears the error, and keeps
 * fn's result (or its error, clearing the result). */
export function useCall<T = any>() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<T | undefined>(undefined);
  const run = async (fn: () => Promise<T>) => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await fn());
    } catch (err) {
      setError(err);
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, result, run };
}

/** The wire's read point from a form's choice: the head (none), a version
 * number, or a snapshot name. */
export function readPoint(kind: 'head' | 'version' | 'snapshot', value: string): object | undefined {
  if (kind === 'version') return { version: value.trim() || '0' };
  if (kind === 'snapshot') return { snapshot: value.trim() };
  return undefined;
}

/** Runs `load` on mount and whenever `deps` change; `reload` runs it again. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  let text = String(error);
  let hint = '';
  if (error instanceof ApiError) {
    text = error.toString();
    if (error.httpStatus === 401) hint = 'Enter an API key above (verityd runs with --keys).';
    if (error.httpStatus === 403) hint = 'The API key\u2019s role does not grant this call.';
  }
  return (
    <div class="error" role="alert">
      {text}
      {hint && <div class="hint">{hint}</div>}
    </div>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? <div class="loading">Loading…</div> : null;
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="panel" id={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function hashLink(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

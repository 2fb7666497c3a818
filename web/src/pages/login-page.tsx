// Sign in with the control plane's bearer token, when the server requires one. The token
// is sent only in the Authorization header and kept in sessionStorage (this tab only).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { describeError } from '../api/client.ts';
import { useStore } from '../live/hooks.ts';

export function LoginPage() {
  const store = useStore();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Baton';
    input.current?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) return;
    setBusy(true);
    setError(undefined);
    try {
      if (!(await store.signIn(value))) {
        setError('The server did not accept this token.');
        input.current?.focus();
      }
    } catch (e) {
      setError(`The server could not be reached: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <h1 id="page-title">
        <span aria-hidden="true" className="brand-mark" /> Sign in to Baton
      </h1>
      <p>This control plane asks for an API token.</p>
      <form onSubmit={(e) => void submit(e)} aria-describedby="token-help">
        <label htmlFor="token">API token</label>
        <input
          ref={input}
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          aria-invalid={error !== undefined}
          aria-describedby={error ? 'token-error' : undefined}
          onChange={(e) => setToken(e.target.value)}
        />
        {error ? (
          <p id="token-error" className="note note-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      <p id="token-help" className="muted small">
        The admin token is in the server's state folder (<code>cat .baton/token</code>); <code>baton up</code>{' '}
        prints a link that signs in by itself. An admin can make tokens with less power:{' '}
        <code>baton tokens create NAME --role viewer</code>. It stays in this tab only.
      </p>
    </div>
  );
}

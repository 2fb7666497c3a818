// The shell: skip link, banner with navigation and the live indicator, and the page.
import { lazy, Suspense, useEffect, useRef } from 'react';
import { focusPageTitle, Loading } from './components/common.tsx';
import { useLive, useStore } from './live/hooks.ts';
import { AuditPage } from './pages/audit-page.tsx';
import { EventsPage } from './pages/events-page.tsx';
import { GatewayPage } from './pages/gateway-page.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { MapPage } from './pages/map-page.tsx';
import { OverviewPage } from './pages/overview-page.tsx';
import { RevisionsPage } from './pages/revisions-page.tsx';
import { ServicePage } from './pages/service-page.tsx';
import { Link, matchRoute, useLocation, type Route } from './router.tsx';

// The trace views are fetched when first opened: most visits never need them.
const TracesPage = lazy(() => import('./pages/traces-page.tsx').then((m) => ({ default: m.TracesPage })));
const TracePage = lazy(() => import('./pages/trace-page.tsx').then((m) => ({ default: m.TracePage })));

const NAV: readonly { href: string; label: string; page: Route['page'] }[] = [
  { href: '/', label: 'Overview', page: 'overview' },
  { href: '/map', label: 'Map', page: 'map' },
  { href: '/traces', label: 'Traces', page: 'traces' },
  { href: '/revisions', label: 'Revisions', page: 'revisions' },
  { href: '/events', label: 'Events', page: 'events' },
  { href: '/gateway', label: 'Gateway', page: 'gateway' },
  { href: '/audit', label: 'Audit', page: 'audit' },
];

export function App() {
  const state = useLive();
  const store = useStore();
  const { path } = useLocation();
  const route = matchRoute(path);
  const first = useRef(true);

  // After a navigation (not the first load), move focus to the new page's title so that
  // keyboard and screen-reader users start there, as after a full page load.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    focusPageTitle();
  }, [path]);

  if (state.auth === 'required') {
    return (
      <main id="main" className="login-main">
        <LoginPage />
      </main>
    );
  }

  const current = route.page === 'service' ? 'overview' : route.page === 'trace' ? 'traces' : route.page;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand" aria-label="Baton, overview">
          <span aria-hidden="true" className="brand-mark" />
          Baton
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={item.page === current ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-end">
          <Connection connection={state.connection} revision={state.status?.revision ?? null} />
          {state.me ? (
            <span className="whoami" title="the identity of this console's token">
              {state.me.name}
              {state.me.role ? <span className="muted"> · {state.me.role}</span> : null}
            </span>
          ) : null}
          {store.client.hasToken ? (
            <button type="button" className="link-button" onClick={() => store.signOut()}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      {state.error ? (
        <div className="banner" role="alert">
          The console could not refresh: {state.error}. It keeps trying.
        </div>
      ) : null}
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'map':
      return <MapPage />;
    case 'traces':
    case 'trace':
      return (
        <Suspense fallback={<Loading what="the page" />}>
          {route.page === 'traces' ? (
            <TracesPage />
          ) : (
            <TracePage key={route.traceId} traceId={route.traceId} />
          )}
        </Suspense>
      );
    case 'service':
      return <ServicePage key={route.name} name={route.name} />;
    case 'revisions':
      return <RevisionsPage />;
    case 'events':
      return <EventsPage />;
    case 'gateway':
      return <GatewayPage />;
    case 'audit':
      return <AuditPage />;
    case 'not-found':
      return (
        <>
          <h1 tabIndex={-1} id="page-title">
            Not found
          </h1>
          <p>
            There is no page here. <Link href="/">Back to the overview</Link>.
          </p>
        </>
      );
  }
}

function Connection({ connection, revision }: { connection: string; revision: number | null }) {
  const label = connection === 'open' ? 'Live' : connection === 'retrying' ? 'Reconnecting…' : 'Connecting…';
  return (
    <p className={`connection connection-${connection}`} role="status" aria-live="polite">
      <span aria-hidden="true" className="connection-dot" />
      {label}
      {revision !== null ? <span className="connection-revision"> · revision {revision}</span> : null}
    </p>
  );
}

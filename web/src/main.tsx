import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiClient } from './api/client.ts';
import { App } from './app.tsx';
import { StoreContext } from './live/hooks.ts';
import { LiveStore } from './live/live-store.ts';
import './styles.css';

function sessionStore(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: the token lasts as long as the page
  }
}

const client = new ApiClient({ storage: sessionStore(), onUnauthorized: () => store.unauthorized() });
// `baton up` prints the console's address with the token in the fragment (#token=…), which
// browsers never send: taken from there into this tab's storage, then wiped from the address.
const fromLink = /(?:^#|&)token=([^&]+)/.exec(window.location.hash)?.[1];
if (fromLink !== undefined) {
  client.setToken(decodeURIComponent(fromLink));
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
}
const store = new LiveStore(client);
store.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App />
    </StoreContext.Provider>
  </StrictMode>,
);

// React access to the live store, and a shared clock for "12 s ago" and uptimes.
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import type { ApiClient } from '../api/client.ts';
import type { LiveState, LiveStore } from './live-store.ts';

export const StoreContext = createContext<LiveStore | undefined>(undefined);

export function useStore(): LiveStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore outside <StoreContext.Provider>');
  return store;
}

export function useLive(): LiveState {
  const store = useStore();
  return useSyncExternalStore(store.subscribe, store.getState);
}

export function useClient(): ApiClient {
  return useStore().client;
}

const ticks = new Set<() => void>();
let ticker: ReturnType<typeof setInterval> | undefined;

/** The current time, re-read every second by every component that shows a duration. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = () => setNow(Date.now());
    ticks.add(tick);
    ticker ??= setInterval(() => ticks.forEach((t) => t()), 1000);
    return () => {
      ticks.delete(tick);
      if (ticks.size === 0 && ticker !== undefined) {
        clearInterval(ticker);
        ticker = undefined;
      }
    };
  }, []);
  return now;
}
